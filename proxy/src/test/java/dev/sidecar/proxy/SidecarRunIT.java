package dev.sidecar.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.testkit.Closer;
import dev.sidecar.testkit.NetnsLab;
import dev.sidecar.testkit.Payload;
import dev.sidecar.testkit.SidecarProcess;
import dev.sidecar.testkit.Traffic;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
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
 * {@code bin/sidecar run} in a pod namespace between a client and a server namespace, started as
 * a user would (as root; it installs the rules and drops to 2102). Real iptables, real REDIRECT,
 * real SO_ORIGINAL_DST. The whole class runs once per transport ({@code --transport epoll}, then
 * {@code --transport io_uring}), each with a pod of its own.
 *
 * <pre>
 *  client 198.18.1.2 ── 198.18.1.1 pod 198.18.2.1 ── 198.18.2.2 server
 *                                  sidecar run (4143 inbound, 127.0.0.1:4140 outbound)
 *                                  app: serve :8080 :9002 as uid 1000
 * </pre>
 */
@Tag("netns")
@ParameterizedClass(name = "{0}")
@EnumSource(Transport.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class SidecarRunIT {
    private static final long MIB = 1024 * 1024;
    private static final int APP_UID = 1000;
    private static final int PROXY_UID = 2102;
    private static final String POD_IN = "198.18.1.1", CLIENT = "198.18.1.2", POD_OUT = "198.18.2.1", SERVER = "198.18.2.2";
    private static final String POD_IN6 = "2001:db8:1::1", CLIENT6 = "2001:db8:1::2", POD_OUT6 = "2001:db8:2::1", SERVER6 = "2001:db8:2::2";

    @Parameter
    Transport transport;

    private NetnsLab lab;
    private Traffic traffic;
    private SidecarProcess sidecar;
    private Traffic.Server server, app;
    private String clientNs, podNs, serverNs;

    @BeforeParameterizedClassInvocation
    void startPod() throws Exception {
        lab = new NetnsLab("rly");
        clientNs = lab.namespace("client");
        podNs = lab.namespace("pod");
        serverNs = lab.namespace("server");
        String[] in = lab.link(clientNs, CLIENT + "/24", podNs, POD_IN + "/24");
        String[] out = lab.link(podNs, POD_OUT + "/24", serverNs, SERVER + "/24");
        lab.address(clientNs, in[0], CLIENT6 + "/64");
        lab.address(podNs, in[1], POD_IN6 + "/64");
        lab.address(podNs, out[0], POD_OUT6 + "/64");
        lab.address(serverNs, out[1], SERVER6 + "/64");
        // The server never answers on 9998: the sidecar's connect to it must time out.
        lab.exec(serverNs, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "9998", "-j", "DROP");
        traffic = new Traffic();
        server = traffic.serve(serverNs, 0, 8080);
        traffic.serve(serverNs, 0, 9001);
        app = traffic.serve(podNs, APP_UID, 8080);
        traffic.serve(podNs, APP_UID, 9002);
        sidecar = SidecarProcess.start(podNs, "--transport", transport.label(), "--ipv6", "--skip-outbound-ports", "9001",
                "--skip-inbound-ports", "9002", "--connect-timeout", "1s", "--shutdown-grace", "5s");
    }

    @AfterParameterizedClassInvocation
    void stopPod() throws Exception {
        Closer.closeAll(sidecar, traffic, lab);
    }

    @Test
    void outboundFromAppIsRelayedThrough4140ToTheDialledAddressIntact() throws Exception {
        Traffic.Result r = traffic.connect(podNs, APP_UID, SERVER, 8080, 64 * MIB, 101, 64 * MIB, 102, 0);

        assertThat(r.ok()).as(r.line()).isTrue();
        assertThat(r.get("received")).isEqualTo(Long.toString(64 * MIB));
        assertThat(r.get("sha")).isEqualTo(Payload.expected(102, 64 * MIB));
        assertThat(server.connection(102)).contains("received=" + (64 * MIB + 0)).contains("sha=" + Payload.expected(101, 64 * MIB));
        // SO_ORIGINAL_DST gave the proxy the address the app dialled, and it came in on 4140.
        String line = sidecar.await(l -> l.contains("outbound " + r.get("local") + " -> /" + SERVER + ":8080"), 10);
        assertThat(line).contains("sent=" + (64 * MIB + 24), "received=" + 64 * MIB, "end=closed");
        assertThat(sidecar.log()).contains("outbound /127.0.0.1:4140");
    }

    @Test
    void inboundFromClientNamespaceIsRelayedThrough4143ToTheAppIntact() throws Exception {
        Traffic.Result r = traffic.connect(clientNs, 0, POD_IN, 8080, 64 * MIB, 201, 64 * MIB, 202, 0);

        assertThat(r.ok()).as(r.line()).isTrue();
        assertThat(r.get("sha")).isEqualTo(Payload.expected(202, 64 * MIB));
        assertThat(app.connection(202)).contains("sha=" + Payload.expected(201, 64 * MIB));
        String line = sidecar.await(l -> l.contains("inbound " + r.get("local") + " -> /" + POD_IN + ":8080"), 10);
        assertThat(line).contains("received=" + 64 * MIB, "end=closed");
        // io_uring's 0.0.0.0 socket is a dual-stack [::] one (see Transport).
        assertThat(sidecar.log()).contains(transport.servesBothWildcards() ? "inbound /[0:0:0:0:0:0:0:0]:4143" : "inbound /0.0.0.0:4143");
    }

    @Test
    void ipv6OutboundIsRelayedThroughIpv6Listener4140Intact() throws Exception {
        Traffic.Result r = traffic.connect(podNs, APP_UID, SERVER6, 8080, 16 * MIB, 1101, 16 * MIB, 1102, 0);

        assertThat(r.ok()).as(r.line()).isTrue();
        assertThat(r.get("sha")).isEqualTo(Payload.expected(1102, 16 * MIB));
        assertThat(server.connection(1102)).contains("sha=" + Payload.expected(1101, 16 * MIB));
        String line = sidecar.await(l -> l.contains("outbound " + r.get("local") + " -> ") && l.contains("2001:db8:2:0:0:0:0:2]:8080"), 10);
        assertThat(line).contains("received=" + 16 * MIB, "end=closed");
        assertThat(sidecar.log()).contains("/[0:0:0:0:0:0:0:1]:4140");
    }

    @Test
    void ipv6InboundIsRelayedThroughIpv6Listener4143Intact() throws Exception {
        Traffic.Result r = traffic.connect(clientNs, 0, POD_IN6, 8080, 16 * MIB, 1201, 16 * MIB, 1202, 0);

        assertThat(r.ok()).as(r.line()).isTrue();
        assertThat(r.get("sha")).isEqualTo(Payload.expected(1202, 16 * MIB));
        assertThat(app.connection(1202)).contains("sha=" + Payload.expected(1201, 16 * MIB));
        String line = sidecar.await(l -> l.contains("inbound " + r.get("local") + " -> ") && l.contains("2001:db8:1:0:0:0:0:1]:8080"), 10);
        assertThat(line).contains("received=" + 16 * MIB, "end=closed");
    }

    @Test
    void theTransportAskedForIsLoggedAndExported() throws Exception {
        assertThat(sidecar.log()).contains("transport: " + transport.label() + " (requested (--transport " + transport.label() + "))");
        assertThat(SidecarProcess.http(podNs, 4191, "GET", "/metrics"))
                .containsPattern("(?m)^sidecar_info\\{transport=\"" + transport.label() + "\",version=\"[^\"]+\"\\} 1(\\.0)?$");
    }

    @Test
    void readyAnswers200OnceTheRedirectSelfTestPassed() throws Exception {
        // The probe dials a neighbour on the pod's subnet; with the redirect working it never leaves the pod.
        String passed = sidecar.await(l -> l.contains("redirect self-test passed"), 15);
        String passed6 = sidecar.await(l -> l.contains("redirect self-test passed") && l.contains("2001:db8:"), 15);

        assertThat(passed).contains("198.18.");
        assertThat(passed6).as("the IPv6 rules get their own probe").contains("reached the outbound listener");
        assertThat(SidecarProcess.http(podNs, 4191, "GET", "/ready")).startsWith("HTTP/1.1 200").endsWith("\r\n\r\nready\n");
        assertThat(SidecarProcess.http(podNs, 4191, "GET", "/live")).startsWith("HTTP/1.1 200").endsWith("\r\n\r\nlive\n");
    }

    @Test
    void metricsCountRelayedConnectionsByDirectionAndOriginalPort() throws Exception {
        Traffic.Result r = traffic.connect(podNs, APP_UID, SERVER, 8080, 1000, 1301, 2000, 1302, 0);
        assertThat(r.ok()).as(r.line()).isTrue();
        sidecar.await(l -> l.contains("outbound " + r.get("local") + " -> "), 10);

        String metrics = SidecarProcess.http(podNs, 4191, "GET", "/metrics");

        assertThat(metrics).startsWith("HTTP/1.1 200")
                .containsPattern("sidecar_connections_opened_total\\{direction=\"outbound\",port=\"8080\"} [1-9]")
                .containsPattern("sidecar_relayed_bytes_total\\{direction=\"outbound\",from=\"client\"} [1-9]")
                .contains("jvm_memory_used_bytes");
    }

    @Test
    void adminPortIsSkippedInboundSoProbesNeverReachTheProxy() throws Exception {
        assertThat(lab.exec(podNs, "iptables-save", "-t", "nat"))
                .contains("-A PROXY_INIT_REDIRECT -p tcp -m multiport --dports 9002,4191 -m comment --comment \"proxy-init/ignore-port\" -j RETURN");
        int before = sidecar.connectionLines().size();

        // A kubelet probe from outside the pod, as bash would send it from the client namespace.
        String script = "exec 3<>/dev/tcp/" + POD_IN + "/4191 && printf 'GET /live HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3";
        assertThat(lab.exec(clientNs, "bash", "-c", script)).startsWith("HTTP/1.1 200");
        Thread.sleep(200);
        assertThat(sidecar.connectionLines()).hasSize(before);
    }

    @Test
    void halfCloseFromEitherSideKeepsTheOtherDirectionFlowing() throws Exception {
        // The client sends nothing and closes its side at once; 8 MiB must still come back.
        Traffic.Result clientFinFirst = traffic.connect(podNs, APP_UID, SERVER, 8080, 0, 301, 8 * MIB, 302, 0);
        assertThat(clientFinFirst.get("sha")).as(clientFinFirst.line()).isEqualTo(Payload.expected(302, 8 * MIB));
        // The server sends nothing and closes its side at once; 8 MiB must still reach it.
        Traffic.Result serverFinFirst = traffic.connect(podNs, APP_UID, SERVER, 8080, 8 * MIB, 303, 0, 304, 0);
        assertThat(serverFinFirst.get("received")).as(serverFinFirst.line()).isEqualTo("0");
        assertThat(server.connection(304)).contains("sha=" + Payload.expected(303, 8 * MIB));
        // The server answers 1 MiB and closes its side first; the client goes on sending for half
        // a second, so the proxy must wait for socket space on a half-closed channel (this cut
        // the stream before RelayEpollWorkaround).
        for (long seed = 305; seed < 311; seed += 2) {
            Traffic.Result slowTail = traffic.connect(podNs, APP_UID, SERVER, 8080, 12 * MIB, seed, 1 * MIB, seed + 1, 24);
            assertThat(slowTail.get("sentsha")).as(slowTail.line()).isEqualTo(Payload.expected(seed, 12 * MIB));
            assertThat(server.connection(seed + 1)).contains("received=" + 12 * MIB, "sha=" + Payload.expected(seed, 12 * MIB));
        }
    }

    @Test
    void fiveHundredConcurrentConnectionsEachCarryTheirOwnData() throws Exception {
        int before = sidecar.connectionLines().size();

        String result = traffic.many(podNs, APP_UID, SERVER, 8080, 500, 16 * 1024);

        assertThat(result).isEqualTo("ok=500 bad=0 local=" + SERVER);
        sidecar.await(l -> sidecar.connectionLines().size() >= before + 500, 20);
        for (int i = 0; i < 500; i++) {
            assertThat(server.connection(100_000 + i)).contains("received=" + 16 * 1024);
        }
    }

    @Test
    void aResetFromTheAppResetsTheServer() throws Exception {
        String local = traffic.reset(podNs, APP_UID, SERVER, 8080, 1401);

        assertThat(server.connection(1401)).containsIgnoringCase("reset");
        sidecar.await(l -> l.contains("outbound " + local + " -> ") && l.contains("end=client reset"), 10);
    }

    @Test
    void aResetFromTheServerResetsTheApp() throws Exception {
        Traffic.Result r = traffic.connect(podNs, APP_UID, SERVER, 8080, 4 * MIB, 1501, 0, 1502, 0, -1000);

        assertThat(r.ok()).as(r.line()).isFalse();
        // The kernel reports a reset once, as ECONNRESET, to whichever of the client's reader and
        // writer meets it; a write after that fails with EPIPE, and the client may report that one.
        // Either way the connection was reset, not closed: a FIN would have left its writes working.
        assertThat(r.get("error").toLowerCase(Locale.ROOT)).as(r.line()).containsAnyOf("connection reset", "broken pipe");
        assertThat(server.connection(1502)).isEqualTo("seed=1502 reset");
        sidecar.await(l -> l.contains("outbound " + r.get("local") + " -> ") && l.contains("end=target reset"), 10);
    }

    @Test
    void skippedOutboundPortBypassesProxy() throws Exception {
        int seen = sidecar.connectionLines().size(); // ephemeral ports repeat: only newer lines count
        Traffic.Result r = traffic.connect(podNs, APP_UID, SERVER, 9001, 1000, 401, 1000, 402, 0);

        assertThat(r.ok()).as(r.line()).isTrue();
        assertNoConnectionFrom(r.get("local"), seen);
    }

    @Test
    void skippedInboundPortBypassesProxy() throws Exception {
        int seen = sidecar.connectionLines().size(); // ephemeral ports repeat: only newer lines count
        Traffic.Result r = traffic.connect(clientNs, 0, POD_IN, 9002, 1000, 501, 1000, 502, 0);

        assertThat(r.ok()).as(r.line()).isTrue();
        assertNoConnectionFrom(r.get("local"), seen);
    }

    @Test
    void loopbackTrafficInThePodBypassesProxy() throws Exception {
        int seen = sidecar.connectionLines().size(); // ephemeral ports repeat: only newer lines count
        Traffic.Result r = traffic.connect(podNs, APP_UID, "127.0.0.1", 8080, 1000, 601, 1000, 602, 0);

        assertThat(r.ok()).as(r.line()).isTrue();
        assertNoConnectionFrom(r.get("local"), seen);
    }

    @Test
    void trafficFromUid2102IsNotRedirected() throws Exception {
        int seen = sidecar.connectionLines().size(); // ephemeral ports repeat: only newer lines count
        Traffic.Result r = traffic.connect(podNs, PROXY_UID, SERVER, 8080, 1000, 701, 1000, 702, 0);

        assertThat(r.ok()).as(r.line()).isTrue();
        assertThat(server.connection(702)).contains("from=/" + POD_OUT);
        assertNoConnectionFrom(r.get("local"), seen);
    }

    @Test
    void directConnectionsTo4140And4143AreRefusedWithoutLooping() throws Exception {
        Traffic.Result toOutbound = traffic.connect(podNs, APP_UID, "127.0.0.1", 4140, 0, 801, 10, 802, 0);
        Traffic.Result toInbound = traffic.connect(clientNs, 0, POD_IN, 4143, 0, 803, 10, 804, 0);

        for (Traffic.Result r : List.of(toOutbound, toInbound)) {
            assertThat(r.ok()).as(r.line()).isFalse();
            assertThat(r.get("error")).containsIgnoringCase("reset");
            // By source port: a reset can fail connect() itself, and then the address is unknown.
            sidecar.await(l -> l.contains(":" + r.port() + " -> ") && l.contains("refused (loop)"), 10, ":" + r.port());
        }
        assertThat(sidecar.connectionLines()).noneMatch(l -> l.contains(":4140 sent=") || l.contains(":4143 sent="));
    }

    @Test
    void refusedDestinationResetsTheAppAtOnce() throws Exception {
        Traffic.Result r = traffic.connect(podNs, APP_UID, SERVER, 9999, 0, 901, 10, 902, 0);

        assertThat(r.ok()).as(r.line()).isFalse();
        assertThat(r.get("error")).as(r.line()).containsIgnoringCase("reset");
        // Only this test dials 9999.
        sidecar.await(l -> l.contains("connect failed (refused)") && l.contains(SERVER + ":9999"), 10);
    }

    @Test
    void unansweredDestinationClosesWithinConnectTimeoutPlusOneSecond() throws Exception {
        Traffic.Result r = traffic.connect(podNs, APP_UID, SERVER, 9998, 0, 1001, 10, 1002, 0);

        assertThat(r.ok()).as(r.line()).isFalse();
        assertThat(Long.parseLong(r.get("ms"))).isLessThan(2000);
        sidecar.await(l -> l.contains(r.get("local")) && l.contains("connect failed (timeout)"), 10);
    }

    @Test
    void slowReaderKeepsProxyMemoryBoundedWhileHalfAGibibyteGoesThrough() throws Exception {
        long before = rssKib();
        // Arenas keep chunks that earlier tests (500 connections at once) filled: count only growth.
        double directBefore = metric(SidecarProcess.http(podNs, 4191, "GET", "/metrics"), DIRECT);
        // The server reads nothing for 3 s while the app pushes 512 MiB as fast as it can.
        Process client = traffic.start(podNs, APP_UID, SERVER, 8080, 512 * MIB, 1301, 0, 1302, 0, 3000);
        long peak = before;
        double peakDirect = 0;
        double peakHeap = 0;
        while (client.isAlive()) {
            peak = Math.max(peak, rssKib());
            // The proxy's own view, from /metrics: Netty's pooled direct buffers and the Java heap.
            String metrics = SidecarProcess.http(podNs, 4191, "GET", "/metrics");
            peakDirect = Math.max(peakDirect, metric(metrics, DIRECT));
            peakHeap = Math.max(peakHeap, metric(metrics, "jvm_memory_used_bytes{area=\"heap\"}"));
            Thread.sleep(50);
        }
        Traffic.Result r = traffic.finish(client);
        System.out.printf("proxy while 512 MiB passed a stalled reader: RSS before %d KiB, peak %d KiB;"
                + " Netty direct before %.1f MiB, peak %.1f MiB; peak heap %.1f MiB%n",
                before, peak, directBefore / MIB, peakDirect / MIB, peakHeap / MIB);

        assertThat(r.ok()).as(r.line()).isTrue();
        assertThat(server.connection(1302)).contains("received=" + 512 * MIB, "sha=" + Payload.expected(1301, 512 * MIB));
        // What the proxy holds per direction is one read plus the write high water mark; the rest
        // waits in the kernel. Allow for JIT and GC noise, not for buffering the stream.
        assertThat(peak - before).as("RSS growth in KiB (before %d KiB)", before).isLessThan(48 * 1024);
        // Pooled direct memory grows in 1 MiB chunks (io.netty.allocator.maxOrder=7), one arena per
        // event loop; a buffered stream would need hundreds.
        assertThat(peakDirect).as("peak Netty direct memory, bytes").isGreaterThan(0);
        assertThat(peakDirect - directBefore).as("growth of Netty direct memory, bytes (before %.0f)", directBefore)
                .isLessThanOrEqualTo(8 * MIB);
        assertThat(peakHeap).as("peak heap used, bytes").isGreaterThan(0).isLessThan(64 * MIB);
    }

    private static final String DIRECT = "sidecar_netty_allocator_used_bytes{kind=\"direct\"}";

    /** The value of one sample (name with labels, exactly as exposed) in Prometheus text. */
    private static double metric(String text, String sample) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^" + java.util.regex.Pattern.quote(sample) + " (\\S+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    @Test
    void everyThreadRunsAsUid2102WithNoCapability() throws Exception {
        List<Path> tasks;
        try (var dir = Files.list(Path.of("/proc", Long.toString(sidecar.pid()), "task"))) {
            tasks = dir.toList();
        }
        assertThat(tasks).hasSizeGreaterThan(3);
        for (Path task : tasks) {
            String status = Files.readString(task.resolve("status"));
            assertThat(status).as(task.toString())
                    .containsPattern("(?m)^Uid:\\t2102\\t2102\\t2102\\t2102$")
                    .containsPattern("(?m)^Gid:\\t2102\\t2102\\t2102\\t2102$")
                    .containsPattern("(?m)^Groups:\\s*$")
                    .containsPattern("(?m)^CapEff:\\t0000000000000000$");
        }
    }

    private long rssKib() throws Exception {
        String status = Files.readString(Path.of("/proc", Long.toString(sidecar.pid()), "status"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^VmRSS:\\s+(\\d+) kB").matcher(status);
        assertThat(m.find()).isTrue();
        return Long.parseLong(m.group(1));
    }

    /** The proxy accepted nothing from this client address (waits briefly for a late log line). */
    private void assertNoConnectionFrom(String local, int seen) throws InterruptedException {
        Thread.sleep(300);
        List<String> lines = sidecar.connectionLines();
        assertThat(lines.subList(seen, lines.size())).noneMatch(l -> l.contains(local + " "));
    }
}
