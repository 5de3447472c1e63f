package dev.sidecar.proxy.admin;

import static dev.sidecar.proxy.relay.RelayEvents.Direction.INBOUND;
import static dev.sidecar.proxy.relay.RelayEvents.Direction.OUTBOUND;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sidecar.proxy.admin.AdminServer.AdminBindException;
import dev.sidecar.proxy.admin.RawHttp.Response;
import dev.sidecar.proxy.relay.RelayEvents.Failure;
import dev.sidecar.proxy.transport.Transport;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The admin endpoint over a real loopback socket on an ephemeral port. */
@Timeout(30)
class AdminServerTest {

    private static final InetSocketAddress LOOPBACK_ANY_PORT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private final Readiness readiness = new Readiness();
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ProxyMetrics metrics = ProxyMetrics.register(registry);
    private final AtomicInteger shutdownCalls = new AtomicInteger();
    private final CountDownLatch shutdownRan = new CountDownLatch(1);
    private AdminServer server;
    private InetSocketAddress address;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private void start(AdminSettings settings) {
        server = AdminServer.start(settings, Transport.EPOLL, readiness, registry, () -> {
            shutdownCalls.incrementAndGet();
            shutdownRan.countDown();
        });
        address = server.localAddresses().get(0);
    }

    private void start(boolean shutdownEndpoint) {
        start(AdminSettings.on(LOOPBACK_ANY_PORT, shutdownEndpoint));
    }

    @Test
    void liveAnswers200Live() throws IOException {
        start(false);

        Response r = RawHttp.request(address, "GET", "/live");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("live\n");
        assertThat(r.headers()).containsEntry("content-type", "text/plain; charset=utf-8");
    }

    @Test
    void readyIs503WithTheMissingStepUntilEveryStepIsMarked() throws IOException {
        start(false);

        Response before = RawHttp.request(address, "GET", "/ready");
        assertThat(before.status()).isEqualTo(503);
        assertThat(before.body()).isEqualTo(Readiness.Step.RULES_INSTALLED.pending() + "\n");

        readiness.mark(Readiness.Step.RULES_INSTALLED);
        Response rulesOnly = RawHttp.request(address, "GET", "/ready");
        assertThat(rulesOnly.body()).isEqualTo("privileges not dropped yet\n");
        readiness.mark(Readiness.Step.PRIVILEGES_DROPPED);
        Response notAccepting = RawHttp.request(address, "GET", "/ready");
        assertThat(notAccepting.body()).isEqualTo("listeners not accepting yet\n");
        readiness.mark(Readiness.Step.ACCEPTING);
        Response almost = RawHttp.request(address, "GET", "/ready");
        assertThat(almost.status()).isEqualTo(503);
        assertThat(almost.body()).isEqualTo("redirect self-test has not passed yet\n");

        readiness.mark(Readiness.Step.REDIRECT_PROVEN);
        Response after = RawHttp.request(address, "GET", "/ready");
        assertThat(after.status()).isEqualTo(200);
        assertThat(after.body()).isEqualTo("ready\n");
    }

    @Test
    void readyReportsARecordedFailure() throws IOException {
        start(false);
        for (Readiness.Step step : Readiness.Step.values()) {
            readiness.mark(step);
        }
        readiness.fail("self-test: SO_ORIGINAL_DST returned 10.0.0.1:80, dialled 198.18.0.2:80");

        Response r = RawHttp.request(address, "GET", "/ready");

        assertThat(r.status()).isEqualTo(503);
        assertThat(r.body()).isEqualTo("self-test: SO_ORIGINAL_DST returned 10.0.0.1:80, dialled 198.18.0.2:80\n");
    }

    @Test
    void metricsIsPrometheusTextWithEveryProxyFamily() throws IOException {
        start(false);
        metrics.opened(OUTBOUND, 443);
        metrics.connected(OUTBOUND, 1_000_000);
        metrics.relayed(OUTBOUND, true, 100);
        metrics.relayed(OUTBOUND, false, 2000);
        metrics.closed(OUTBOUND, 443, 100, 2000, 50_000_000);
        metrics.opened(INBOUND, 0);
        metrics.failed(INBOUND, Failure.NO_ORIGINAL_DST);
        metrics.closed(INBOUND, 0, 0, 0, 1_000);

        Response r = RawHttp.request(address, "GET", "/metrics");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers().get("content-type")).startsWith("text/plain; version=0.0.4");
        assertThat(Integer.parseInt(r.headers().get("content-length"))).isEqualTo(r.body().getBytes(StandardCharsets.UTF_8).length);
        PrometheusText text = PrometheusText.parse(r.body());
        assertThat(text.families).contains(
                "sidecar_connections_opened_total", "sidecar_connections_closed_total", "sidecar_connections_open",
                "sidecar_relayed_bytes_total", "sidecar_connection_duration_seconds",
                "sidecar_upstream_connect_duration_seconds", "sidecar_connection_errors_total",
                "jvm_memory_used_bytes", "process_cpu_seconds_total");
        assertThat(text.value("sidecar_connections_opened_total{direction=\"outbound\",port=\"443\"}")).isEqualTo(1);
        assertThat(text.value("sidecar_relayed_bytes_total{direction=\"outbound\",from=\"target\"}")).isEqualTo(2000);
        assertThat(text.value("sidecar_connection_errors_total{direction=\"inbound\",reason=\"no_original_dst\"}")).isEqualTo(1);
        assertThat(text.value("sidecar_upstream_connect_duration_seconds_count{direction=\"outbound\"}")).isEqualTo(1);
    }

    @Test
    void metricsIgnoresAQueryString() throws IOException {
        start(false);

        assertThat(RawHttp.request(address, "GET", "/metrics?name[]=x").status()).isEqualTo(200);
    }

    @Test
    void unknownPathIs404() throws IOException {
        start(false);

        Response r = RawHttp.request(address, "GET", "/admin");

        assertThat(r.status()).isEqualTo(404);
        assertThat(r.body()).isEqualTo("not found\n");
    }

    @Test
    void postToAProbeIs405WithAllow() throws IOException {
        start(false);

        Response r = RawHttp.request(address, "POST", "/live");

        assertThat(r.status()).isEqualTo(405);
        assertThat(r.headers()).containsEntry("allow", "GET");
    }

    @Test
    void garbageBytesGet400AndTheServerStillAnswers() throws IOException {
        start(false);
        byte[] garbage = {0x16, 0x03, 0x01, 0x00, (byte) 0xa5, 0x01, 0x00, '\r', '\n', (byte) 0xff, '\r', '\n', '\r', '\n'};

        Response r = RawHttp.parse(RawHttp.exchange(address, garbage));

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.headers()).containsEntry("connection", "close");
        assertThat(RawHttp.request(address, "GET", "/live").status()).isEqualTo(200);
    }

    @Test
    void requestLineWithoutVersionGets400() throws IOException {
        start(false);

        Response r = RawHttp.parse(RawHttp.exchange(address, "GET\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));

        assertThat(r.status()).isEqualTo(400);
    }

    @Test
    void oversizedHeaderGets400AndTheServerStillAnswers() throws IOException {
        start(false);
        String huge = "GET /live HTTP/1.1\r\nHost: test\r\nX-Big: " + "a".repeat(AdminInitializer.MAX_HEADER_SIZE + 1)
                + "\r\n\r\n";

        Response r = RawHttp.parse(RawHttp.exchange(address, huge.getBytes(StandardCharsets.US_ASCII)));

        assertThat(r.status()).isEqualTo(400);
        assertThat(RawHttp.request(address, "GET", "/live").status()).isEqualTo(200);
    }

    @Test
    void overlongRequestLineGets400() throws IOException {
        start(false);
        String longUri = "GET /" + "x".repeat(AdminInitializer.MAX_INITIAL_LINE) + " HTTP/1.1\r\n\r\n";

        Response r = RawHttp.parse(RawHttp.exchange(address, longUri.getBytes(StandardCharsets.US_ASCII)));

        assertThat(r.status()).isEqualTo(400);
    }

    @Test
    void oversizedBodyGets413() throws IOException {
        start(false);
        int size = AdminInitializer.MAX_BODY + 1;
        String raw = "POST /live HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: " + size + "\r\n\r\n"
                + "b".repeat(size);

        Response r = RawHttp.parse(RawHttp.exchange(address, raw.getBytes(StandardCharsets.US_ASCII)));

        assertThat(r.status()).isEqualTo(413);
        assertThat(RawHttp.request(address, "GET", "/live").status()).isEqualTo(200);
    }

    @Test
    void oversizedBodyOnAKeptAliveConnectionGets413AndTheConnectionIsClosed() throws IOException {
        start(false);
        int size = AdminInitializer.MAX_BODY + 1;
        // No "Connection: close": Netty alone would answer 413 and keep reading (and skipping) the body.
        String raw = "POST /live HTTP/1.1\r\nHost: test\r\nContent-Length: " + size + "\r\n\r\n" + "b".repeat(size);

        Response r = RawHttp.parse(RawHttp.exchange(address, raw.getBytes(StandardCharsets.US_ASCII)));

        assertThat(r.status()).isEqualTo(413);
        assertThat(r.headers()).containsEntry("connection", "close");
        assertThat(r.body()).isEqualTo("request too large\n");
    }

    @Test
    void oversizedExpectContinueGets413AndTheConnectionIsClosed() throws IOException {
        start(false);
        String raw = "POST /live HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n";

        Response r = RawHttp.parse(RawHttp.exchange(address, raw.getBytes(StandardCharsets.US_ASCII)));

        assertThat(r.status()).isEqualTo(413);
    }

    @Test
    void tricklingClientIsCutAtTheRequestDeadlineThoughEveryByteRestartsTheIdleTimeout() throws Exception {
        start(AdminSettings.on(LOOPBACK_ANY_PORT, false)
                .withIdleTimeout(Duration.ofMillis(400)).withRequestDeadline(Duration.ofSeconds(1)));
        byte[] request = ("GET /live HTTP/1.1\r\nHost: test\r\nX-Pad: " + "p".repeat(100) + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        try (Socket socket = new Socket()) {
            socket.connect(address, 5_000);
            socket.setSoTimeout(100); // the pause between two trickled bytes, well under the idle timeout
            long started = System.nanoTime();
            int sent = 0;
            int answer = 0;
            // One byte every 100 ms: the whole request would take 13 s.
            while (sent < request.length && answer == 0) {
                socket.getOutputStream().write(request[sent++]);
                answer = readOrTimeout(socket.getInputStream());
            }
            Duration cutAfter = Duration.ofNanos(System.nanoTime() - started);

            assertThat(answer).as("end of stream, no response").isEqualTo(-1);
            assertThat(sent).isLessThan(request.length);
            assertThat(cutAfter).isBetween(Duration.ofMillis(900), Duration.ofMillis(3000));
        }
        assertThat(droppedFor("deadline")).isEqualTo(1);
    }

    @Test
    void connectionThatSendsNothingIsCutAtTheRequestDeadline() throws IOException {
        start(AdminSettings.on(LOOPBACK_ANY_PORT, false).withRequestDeadline(Duration.ofMillis(500)));
        try (Socket socket = new Socket()) {
            socket.connect(address, 5_000);
            socket.setSoTimeout(10_000);
            long started = System.nanoTime();

            assertThat(socket.getInputStream().read()).isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(400), Duration.ofMillis(5000));
        }
    }

    @Test
    void keptAliveConnectionIdleLongerThanTheDeadlineIsStillServed() throws Exception {
        start(AdminSettings.on(LOOPBACK_ANY_PORT, false).withRequestDeadline(Duration.ofMillis(500)));
        try (Socket socket = new Socket()) {
            socket.connect(address, 5_000);
            socket.setSoTimeout(5_000);

            assertThat(sendAndReadOne(socket, "/live")).startsWith("HTTP/1.1 200");
            Thread.sleep(1_000); // idle between requests is the idle timeout's business (30 s), not the deadline's
            assertThat(sendAndReadOne(socket, "/live")).startsWith("HTTP/1.1 200");
        }
    }

    @Test
    void connectionOverTheLimitIsClosedAtOnceWhileTheOthersAreHeld() throws Exception {
        start(false);
        int limit = AdminSettings.DEFAULT_MAX_CONNECTIONS;
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < limit; i++) {
                Socket s = new Socket();
                held.add(s);
                s.connect(address, 5_000);
                s.setSoTimeout(5_000);
                assertThat(sendAndReadOne(s, "/live")).as("connection %d", i + 1).startsWith("HTTP/1.1 200");
            }

            try (Socket extra = new Socket()) {
                extra.connect(address, 5_000);
                extra.setSoTimeout(5_000);
                long started = System.nanoTime();
                assertThat(readOrEnd(extra)).as("no answer but the end of the stream").isEqualTo(-1);
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(1));
            }
            String metrics = sendAndReadOne(held.get(0), "/metrics"); // a held connection: no new slot needed
            assertThat(PrometheusText.parse(metrics.substring(metrics.indexOf("\r\n\r\n") + 4))
                    .value("sidecar_admin_connections_dropped_total{reason=\"limit\"}")).isEqualTo(1);
            for (Socket s : held) { // the 64 are still served
                assertThat(sendAndReadOne(s, "/ready")).startsWith("HTTP/1.1 503");
            }

            held.remove(0).close();
            assertThat(servedWithin(Duration.ofSeconds(5))).as("a freed slot serves a new connection").isTrue();
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /** One byte, or -1 at end of stream, or 0 when nothing came within the socket's timeout. */
    private static int readOrTimeout(InputStream in) throws IOException {
        try {
            int b = in.read();
            return b == -1 ? -1 : 1;
        } catch (SocketTimeoutException nothingYet) {
            return 0;
        } catch (SocketException reset) {
            return -1;
        }
    }

    /** A first byte or -1 (end of stream or reset). */
    private static int readOrEnd(Socket s) throws IOException {
        try {
            return s.getInputStream().read();
        } catch (SocketException reset) {
            return -1;
        }
    }

    /** Sends a kept-alive GET and reads exactly one response (head and Content-Length body). */
    private static String sendAndReadOne(Socket s, String path) throws IOException {
        s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (head.indexOf("\r\n\r\n") < 0) {
            int b = in.read();
            if (b == -1) {
                throw new IOException("closed after: " + head);
            }
            head.append((char) b);
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
        assertThat(m.find()).as(head.toString()).isTrue();
        byte[] body = in.readNBytes(Integer.parseInt(m.group(1)));
        return head + new String(body, StandardCharsets.UTF_8);
    }

    private boolean servedWithin(Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (RawHttp.request(address, "GET", "/live").status() == 200) {
                    return true;
                }
            } catch (IOException | AssertionError closedAtOnce) {
                // the slot is not free yet
            }
            Thread.sleep(50);
        }
        return false;
    }

    private double droppedFor(String reason) throws IOException {
        String body = RawHttp.request(address, "GET", "/metrics").body();
        return PrometheusText.parse(body).value("sidecar_admin_connections_dropped_total{reason=\"" + reason + "\"}");
    }

    @Test
    void keepAliveServesSeveralRequestsOnOneConnection() throws IOException {
        start(false);
        String two = "GET /live HTTP/1.1\r\nHost: test\r\n\r\n"
                + "GET /ready HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";

        String raw = RawHttp.exchange(address, two.getBytes(StandardCharsets.US_ASCII));

        assertThat(raw).startsWith("HTTP/1.1 200 OK");
        assertThat(raw).contains("\r\n\r\nlive\nHTTP/1.1 503 Service Unavailable");
    }

    @Test
    void idleConnectionIsClosedAfterTheIdleTimeout() throws IOException {
        start(AdminSettings.on(LOOPBACK_ANY_PORT, false).withIdleTimeout(Duration.ofMillis(300)));
        try (Socket socket = new Socket()) {
            socket.connect(address, 5_000);
            socket.setSoTimeout(10_000);
            long started = System.nanoTime();
            InputStream in = socket.getInputStream();

            assertThat(in.read()).isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(250));
        }
    }

    @Test
    void shutdownFromLoopbackRunsTheHookOnceWhenEnabled() throws Exception {
        start(true);

        Response first = RawHttp.request(address, "POST", "/shutdown");
        Response second = RawHttp.request(address, "POST", "/shutdown");

        assertThat(first.status()).isEqualTo(202);
        assertThat(first.body()).isEqualTo("shutting down\n");
        assertThat(second.status()).isEqualTo(202);
        assertThat(second.body()).isEqualTo("already shutting down\n");
        assertThat(shutdownRan.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(shutdownCalls.get()).isEqualTo(1);
    }

    @Test
    void shutdownHookMayCloseTheAdminServerItself() throws Exception {
        CountDownLatch closed = new CountDownLatch(1);
        server = AdminServer.start(AdminSettings.on(LOOPBACK_ANY_PORT, true), Transport.EPOLL, readiness, registry, () -> {
            server.close();
            closed.countDown();
        });
        address = server.localAddresses().get(0);

        assertThat(RawHttp.request(address, "POST", "/shutdown").status()).isEqualTo(202);

        assertThat(closed.await(10, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(() -> RawHttp.request(address, "GET", "/live")).isInstanceOf(ConnectException.class);
    }

    @Test
    void shutdownIs404AndNeverRunsTheHookWhenDisabled() throws Exception {
        start(false);

        Response r = RawHttp.request(address, "POST", "/shutdown");

        assertThat(r.status()).isEqualTo(404);
        assertThat(shutdownRan.await(200, TimeUnit.MILLISECONDS)).isFalse();
    }

    @Test
    void getShutdownIs405AndDoesNotShutDown() throws Exception {
        start(true);

        Response r = RawHttp.request(address, "GET", "/shutdown");

        assertThat(r.status()).isEqualTo(405);
        assertThat(r.headers()).containsEntry("allow", "POST");
        assertThat(shutdownRan.await(200, TimeUnit.MILLISECONDS)).isFalse();
    }

    @Test
    void bindingAPortInUseFailsWithTheAddressAndFlagInTheMessage() {
        start(false);

        assertThatThrownBy(() -> AdminServer.start(AdminSettings.on(address, false), Transport.EPOLL, readiness,
                new PrometheusRegistry(), () -> {}))
                .isInstanceOf(AdminBindException.class)
                .hasMessageStartingWith("cannot bind the admin endpoint to 127.0.0.1:" + address.getPort() + " (--admin-port): ");
    }

    @Test
    void servesOverIpv6Loopback() throws IOException {
        InetAddress v6 = InetAddress.getByName("::1");
        assumeTrue(ipv6LoopbackUsable(v6), "no IPv6 loopback on this machine");
        start(AdminSettings.on(new InetSocketAddress(v6, 0), false));

        assertThat(address.getAddress()).isEqualTo(v6);
        assertThat(RawHttp.request(address, "GET", "/live").status()).isEqualTo(200);
    }

    private static boolean ipv6LoopbackUsable(InetAddress v6) {
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, v6)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void closeStopsListening() {
        start(false);

        server.close();
        server = null;

        assertThatThrownBy(() -> RawHttp.request(address, "GET", "/live")).isInstanceOf(ConnectException.class);
    }
}
