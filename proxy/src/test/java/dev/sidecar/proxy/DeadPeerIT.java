package dev.sidecar.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.testkit.Closer;
import dev.sidecar.testkit.NetnsLab;
import dev.sidecar.testkit.SidecarProcess;
import dev.sidecar.testkit.Traffic;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import dev.sidecar.proxy.transport.Transport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A relayed connection whose peer vanishes without a word (its link goes down, the process dies,
 * no FIN or RST ever arrives) is found dead by the kernel and closed on both proxy sockets.
 * Without keepalive settings the sockets would stay ESTABLISHED for the kernel's two hours.
 *
 * <p>The sidecar runs with {@code --keepalive 1s --user-timeout 3s}: the same mechanism as the
 * defaults (10 s, 20 s), ten times faster. {@code DeadPeerDetectionTest} checks the defaults'
 * arithmetic. The class runs once per transport, each with a pod of its own.
 *
 * <pre>
 *  client 198.18.5.2 ── 198.18.5.1 pod 198.18.6.1 ── 198.18.6.2 server
 *                                  sidecar run; app :8080 as uid 1000
 * </pre>
 */
@Tag("netns")
@ParameterizedClass(name = "{0}")
@EnumSource(Transport.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
class DeadPeerIT {
    private static final int APP_UID = 1000;
    private static final String POD_IN = "198.18.5.1", CLIENT = "198.18.5.2", POD_OUT = "198.18.6.1", SERVER = "198.18.6.2";
    /** User timeout 3 s; allow for the sidecar's event loop and this test's polling. */
    private static final Duration FOUND_WITHIN = Duration.ofSeconds(10);
    /** How the pod shows the proxy's two sockets of a relay: accepted (from the client) and upstream (to the app). */
    private static final String[] INBOUND_PAIR = {CLIENT + ":", POD_IN + ":8080"};
    /** ... accepted on 4140 (the app's connection, redirected) and upstream to the server. */
    private static final String[] OUTBOUND_PAIR = {"127.0.0.1:4140", SERVER + ":8080"};

    @Parameter
    Transport transport;

    private NetnsLab lab;
    private Traffic traffic;
    private SidecarProcess sidecar;
    private String clientNs, podNs, serverNs;
    private String clientLink, serverLink;

    @BeforeParameterizedClassInvocation
    void startPod() throws Exception {
        lab = new NetnsLab("dpr");
        clientNs = lab.namespace("client");
        podNs = lab.namespace("pod");
        serverNs = lab.namespace("server");
        clientLink = lab.link(clientNs, CLIENT + "/24", podNs, POD_IN + "/24")[0];
        serverLink = lab.link(podNs, POD_OUT + "/24", serverNs, SERVER + "/24")[1];
        traffic = new Traffic();
        traffic.serve(serverNs, 0, 8080);
        traffic.serve(podNs, APP_UID, 8080);
        sidecar = SidecarProcess.start(podNs, "--transport", transport.label(), "--no-ipv6", "--keepalive", "1s", "--user-timeout", "3s");
    }

    @AfterParameterizedClassInvocation
    void stopPod() throws Exception {
        Closer.closeAll(sidecar, traffic, lab);
    }

    @Test
    void idleInboundRelayToAClientWhoseLinkWentDownAndWhoDiedIsClosedAndCountedAsDeadPeer() throws Exception {
        // The client connects through 4143 to the app and then says nothing: an idle relay.
        Process client = lab.start(clientNs, "bash", "-c",
                "exec 3<>/dev/tcp/" + POD_IN + "/8080 && echo connected && exec sleep 60");
        try {
            assertThat(new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8)).readLine())
                    .isEqualTo("connected");
            assertThat(awaitProxySockets(2, Duration.ofSeconds(5), INBOUND_PAIR))
                    .as("the accepted socket from the client and the upstream socket to the app").hasSize(2);

            // No FIN or RST can leave the client now: its link is down before its process dies.
            lab.exec(clientNs, "ip", "link", "set", clientLink, "down");
            client.destroyForcibly(); // SIGKILL
            long gone = System.nanoTime();

            assertThat(awaitProxySockets(0, FOUND_WITHIN, INBOUND_PAIR)).as("proxy sockets %s after the client vanished",
                    FOUND_WITHIN).isEmpty();
            System.out.printf("idle inbound relay closed %d ms after the client vanished%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - gone));
        } finally {
            client.destroyForcibly();
            client.waitFor(5, TimeUnit.SECONDS);
        }
        sidecar.await(l -> l.contains("inbound /" + CLIENT + ":") && l.contains("end=client gone"), 5);
        assertThat(errors("inbound", "dead_peer")).isEqualTo(1);
    }

    @Test
    void busyOutboundRelayToAServerWhoseLinkWentDownIsClosedAndCountedAsDeadPeer() throws Exception {
        // The app streams to the server at 1 MiB/s, so the proxy always has data in flight to it.
        Process app = traffic.start(podNs, APP_UID, SERVER, 8080, 64L << 20, 21, 0, 22, 1.0);
        try {
            assertThat(awaitProxySockets(2, Duration.ofSeconds(5), OUTBOUND_PAIR))
                    .as("the accepted socket from the app and the upstream socket to the server").hasSize(2);
            Thread.sleep(500);

            lab.exec(serverNs, "ip", "link", "set", serverLink, "down");
            long gone = System.nanoTime();

            assertThat(awaitProxySockets(0, FOUND_WITHIN, OUTBOUND_PAIR)).as("proxy sockets %s after the server vanished",
                    FOUND_WITHIN).isEmpty();
            System.out.printf("busy outbound relay closed %d ms after the server vanished%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - gone));
            Traffic.Result r = traffic.finish(app);
            assertThat(r.ok()).as("the app learns that its stream was cut: %s", r.line()).isFalse();
            sidecar.await(l -> l.contains("outbound " + r.get("local") + " -> ") && l.contains("end=target gone"), 5);
        } finally {
            app.destroyForcibly();
            app.waitFor(5, TimeUnit.SECONDS);
        }
        assertThat(errors("outbound", "dead_peer")).isEqualTo(1);
    }

    /**
     * The sidecar's (uid 2102) connected TCP sockets in the pod with one of {@code endpoints}
     * ({@code address:} or {@code address:port}) at either end, from the pod's
     * {@code /proc/net/tcp} and {@code /proc/net/tcp6} (what {@code ss} reads too; io_uring's sockets
     * are IPv6 ones holding v4-mapped addresses), as {@code local peer} lines.
     */
    private List<String> proxySockets(String... endpoints) {
        List<String> sockets = new java.util.ArrayList<>();
        String tables = lab.exec(podNs, "cat", "/proc/net/tcp") + lab.exec(podNs, "cat", "/proc/net/tcp6");
        for (String line : tables.lines().filter(l -> !l.trim().startsWith("sl")).toList()) {
            String[] f = line.trim().split("\\s+");
            // 0A LISTEN, 06 TIME_WAIT and 07 CLOSE hold no connection; every other state does, half-closed ones
            // too (the busy relay below is one: the server sends nothing and closes its side at once).
            if (List.of("0A", "06", "07").contains(f[3]) || !f[7].equals("2102")) {
                continue;
            }
            String socket = endpoint(f[1]) + " " + endpoint(f[2]);
            if (List.of(endpoints).stream().anyMatch(socket::contains)) {
                sockets.add(socket);
            }
        }
        return sockets;
    }

    /**
     * {@code 0105120C:1F90} (address in host byte order, little-endian here) as {@code 12.18.5.1:8080};
     * a v4-mapped IPv6 entry ({@code 0000000000000000FFFF00000105120C:1F90}) the same way, by its
     * last word. The relays here are IPv4 only.
     */
    private static String endpoint(String hex) {
        int colon = hex.indexOf(':');
        long a = Long.parseLong(hex.substring(colon - 8, colon), 16);
        return (a & 0xff) + "." + (a >> 8 & 0xff) + "." + (a >> 16 & 0xff) + "." + (a >> 24 & 0xff) + ":"
                + Integer.parseInt(hex.substring(colon + 1), 16);
    }

    private List<String> awaitProxySockets(int count, Duration within, String... endpoints) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        List<String> sockets = proxySockets(endpoints);
        while (sockets.size() != count && System.nanoTime() < deadline) {
            Thread.sleep(100);
            sockets = proxySockets(endpoints);
        }
        return sockets;
    }

    private double errors(String direction, String reason) throws Exception {
        String metrics = SidecarProcess.http(podNs, 4191, "GET", "/metrics");
        Matcher m = Pattern.compile("(?m)^sidecar_connection_errors_total\\{direction=\"" + direction + "\",reason=\""
                + reason + "\"} (\\S+)$").matcher(metrics);
        assertThat(m.find()).as("an errors series for %s/%s", direction, reason).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
