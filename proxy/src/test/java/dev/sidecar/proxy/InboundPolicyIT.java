package dev.sidecar.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.testkit.Closer;
import dev.sidecar.testkit.NetnsLab;
import dev.sidecar.testkit.Payload;
import dev.sidecar.testkit.SidecarProcess;
import dev.sidecar.testkit.Traffic;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The inbound listener is not an open relay: PREROUTING redirects every TCP packet that enters the
 * pod, whatever its destination, so a peer that routes another host's address through the pod
 * reaches 4143 with that host as the original destination. The sidecar must refuse it, and relay
 * only connections addressed to the pod itself.
 *
 * <pre>
 *  client 198.18.1.2 ── 198.18.1.1 pod 198.18.2.1 ── 198.18.2.2 server
 *  route 198.18.2.0/24 (and 2001:db8:2::/64) via the pod     app :8080 as uid 1000
 * </pre>
 * No forwarding is needed in the pod: the REDIRECT happens before routing, so the packet is
 * delivered locally to 4143 ({@code ip_forward} stays 0 in a new namespace).
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class InboundPolicyIT {
    private static final int APP_UID = 1000;
    private static final String POD_IN = "198.18.1.1", CLIENT = "198.18.1.2", POD_OUT = "198.18.2.1", SERVER = "198.18.2.2";
    private static final String POD_IN6 = "2001:db8:1::1", CLIENT6 = "2001:db8:1::2", POD_OUT6 = "2001:db8:2::1", SERVER6 = "2001:db8:2::2";
    private static final String NOT_LOCAL = "sidecar_connection_errors_total{direction=\"inbound\",reason=\"not_local\"}";

    private NetnsLab lab;
    private Traffic traffic;
    private SidecarProcess sidecar;
    private Traffic.Server app;
    private String clientNs, podNs, serverNs, podLink;

    @BeforeAll
    void startPod() throws Exception {
        lab = new NetnsLab("inb");
        clientNs = lab.namespace("client");
        podNs = lab.namespace("pod");
        serverNs = lab.namespace("server");
        String[] in = lab.link(clientNs, CLIENT + "/24", podNs, POD_IN + "/24");
        String[] out = lab.link(podNs, POD_OUT + "/24", serverNs, SERVER + "/24");
        podLink = in[1];
        lab.address(clientNs, in[0], CLIENT6 + "/64");
        lab.address(podNs, in[1], POD_IN6 + "/64");
        lab.address(podNs, out[0], POD_OUT6 + "/64");
        lab.address(serverNs, out[1], SERVER6 + "/64");
        // The attacker's side: the server's subnets are reached through the pod.
        lab.exec(clientNs, "ip", "route", "add", "198.18.2.0/24", "via", POD_IN);
        lab.exec(clientNs, "ip", "-6", "route", "add", "2001:db8:2::/64", "via", POD_IN6);
        // Counts every connection attempt that reaches the server, whoever made it.
        for (String iptables : List.of("iptables", "ip6tables")) {
            lab.exec(serverNs, iptables, "-A", "INPUT", "-p", "tcp", "--dport", "8080", "--syn", "-j", "ACCEPT");
        }
        traffic = new Traffic();
        traffic.serve(serverNs, 0, 8080);
        app = traffic.serve(podNs, APP_UID, 8080);
        sidecar = SidecarProcess.start(podNs, "--ipv6", "--connect-timeout", "1s", "--shutdown-grace", "1s");
    }

    @AfterAll
    void stopPod() throws Exception {
        Closer.closeAll(sidecar, traffic, lab);
    }

    @Test
    void aConnectionToAServerRoutedThroughThePodIsResetForIpv4AndIpv6AndNeverReachesTheServer() throws Exception {
        double before = notLocal();
        Traffic.Result v4 = traffic.connect(clientNs, 0, SERVER, 8080, 100, 2001, 100, 2002, 0);
        Traffic.Result v6 = traffic.connect(clientNs, 0, SERVER6, 8080, 100, 2003, 100, 2004, 0);

        for (Traffic.Result r : List.of(v4, v6)) {
            assertThat(r.ok()).as("the pod relayed to a foreign address: %s", r.line()).isFalse();
            assertThat(r.get("error")).as(r.line()).containsIgnoringCase("reset");
            // By source port: a reset can fail connect() itself, and then the address is unknown.
            sidecar.await(l -> l.contains(":" + r.port() + " -> ") && l.contains("refused (not_local)"), 10, ":" + r.port());
        }
        assertThat(synsSeenByServer("iptables")).as("IPv4 connection attempts that reached the server").isZero();
        assertThat(synsSeenByServer("ip6tables")).as("IPv6 connection attempts that reached the server").isZero();
        assertThat(notLocal() - before).isEqualTo(2);
    }

    @Test
    void aForgedLoopbackDestinationIsResetSoTheAppsLoopbackStaysPrivate() throws Exception {
        // A neighbour that sends to 127.0.0.1 through the pod: REDIRECT rewrites the destination
        // before routing, so the pod accepts it on 4143, and its answers come from 127.0.0.1, which
        // this neighbour's kernel accepts with route_localnet. Relayed, it would reach whatever
        // listens on the pod's loopback (here the app, listening on every address).
        String attacker = lab.namespace("attacker");
        String[] veth = lab.link(attacker, "198.18.3.2/24", podNs, "198.18.3.1/24");
        lab.exec(attacker, "ip", "addr", "flush", "dev", "lo");
        lab.exec(attacker, "sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1", "net.ipv4.conf." + veth[0] + ".route_localnet=1");
        lab.exec(attacker, "ip", "route", "add", "127.0.0.1/32", "via", "198.18.3.1");
        double before = notLocal();

        Traffic.Result r = traffic.connect(attacker, 0, "127.0.0.1", 8080, 100, 2401, 100, 2402, 0);

        assertThat(r.ok()).as("the pod relayed to its own loopback: %s", r.line()).isFalse();
        assertThat(r.get("error")).as(r.line()).containsIgnoringCase("reset");
        sidecar.await(l -> l.contains(":" + r.port() + " -> /127.0.0.1:8080") && l.contains("refused (not_local)"), 10);
        assertThat(notLocal() - before).isEqualTo(1);
    }

    @Test
    void aConnectionToThePodsOwnAddressIsStillRelayed() throws Exception {
        Traffic.Result v4 = traffic.connect(clientNs, 0, POD_IN, 8080, 1000, 2101, 1000, 2102, 0);
        Traffic.Result v6 = traffic.connect(clientNs, 0, POD_IN6, 8080, 1000, 2103, 1000, 2104, 0);

        assertThat(v4.ok()).as(v4.line()).isTrue();
        assertThat(v6.ok()).as(v6.line()).isTrue();
        assertThat(app.connection(2102)).contains("sha=" + Payload.expected(2101, 1000));
        assertThat(app.connection(2104)).contains("sha=" + Payload.expected(2103, 1000));
    }

    @Test
    void anAddressAddedToThePodAfterStartIsServed() throws Exception {
        // As a CNI plugin may do once the sidecar already runs.
        lab.address(podNs, podLink, "198.18.1.7/24");
        lab.address(podNs, podLink, "2001:db8:1::7/64");

        Traffic.Result v4 = traffic.connect(clientNs, 0, "198.18.1.7", 8080, 1000, 2201, 1000, 2202, 0);
        Traffic.Result v6 = traffic.connect(clientNs, 0, "2001:db8:1::7", 8080, 1000, 2203, 1000, 2204, 0);

        assertThat(v4.ok()).as(v4.line()).isTrue();
        assertThat(v6.ok()).as(v6.line()).isTrue();
        assertThat(app.connection(2202)).contains("sha=" + Payload.expected(2201, 1000));
        assertThat(app.connection(2204)).contains("sha=" + Payload.expected(2203, 1000));
    }

    @Test
    void withPinnedInboundIpsAnUnlistedOwnAddressIsRefused() throws Exception {
        try (NetnsLab pinned = new NetnsLab("inp"); Traffic own = new Traffic()) {
            String client = pinned.namespace("client");
            String pod = pinned.namespace("pod");
            String[] veth = pinned.link(client, "198.18.5.2/24", pod, "198.18.5.1/24");
            pinned.address(pod, veth[1], "198.18.5.9/24");
            Traffic.Server pinnedApp = own.serve(pod, APP_UID, 8080);
            try (SidecarProcess proxy = SidecarProcess.start(pod, "--no-ipv6", "--inbound-ips", "198.18.5.1")) {
                Traffic.Result listed = own.connect(client, 0, "198.18.5.1", 8080, 1000, 2301, 1000, 2302, 0);
                Traffic.Result unlisted = own.connect(client, 0, "198.18.5.9", 8080, 1000, 2303, 1000, 2304, 0);

                assertThat(listed.ok()).as(listed.line()).isTrue();
                assertThat(pinnedApp.connection(2302)).contains("sha=" + Payload.expected(2301, 1000));
                assertThat(unlisted.ok()).as(unlisted.line()).isFalse();
                assertThat(unlisted.get("error")).as(unlisted.line()).containsIgnoringCase("reset");
                proxy.await(l -> l.contains(":" + unlisted.port() + " -> /198.18.5.9:8080") && l.contains("refused (not_local)"), 10);
                assertThat(metric(SidecarProcess.http(pod, 4191, "GET", "/metrics"), NOT_LOCAL)).isEqualTo(1);
            }
        }
    }

    private double notLocal() throws Exception {
        return metric(SidecarProcess.http(podNs, 4191, "GET", "/metrics"), NOT_LOCAL);
    }

    /** Packets of new TCP connections to port 8080 that the server namespace accepted. */
    private long synsSeenByServer(String iptables) {
        String rules = lab.exec(serverNs, iptables, "-t", "filter", "-L", "INPUT", "-n", "-v", "-x");
        Matcher m = Pattern.compile("(?m)^\\s*(\\d+)\\s+\\d+\\s+ACCEPT\\s+.*dpt:8080").matcher(rules);
        assertThat(m.find()).as(rules).isTrue();
        return Long.parseLong(m.group(1));
    }

    /** The value of one sample (name with labels, exactly as exposed) in Prometheus text; NaN when absent. */
    private static double metric(String text, String sample) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(sample) + " (\\S+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }
}
