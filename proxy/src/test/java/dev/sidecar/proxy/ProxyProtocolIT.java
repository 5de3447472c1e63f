package dev.sidecar.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.proxy.transport.Transport;
import dev.sidecar.testkit.Closer;
import dev.sidecar.testkit.NetnsLab;
import dev.sidecar.testkit.SidecarProcess;
import dev.sidecar.testkit.Traffic;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
 * {@code --inbound-proxy-protocol-ports}: the application in the pod reads, before any byte of
 * the client, a PROXY protocol header naming the client and the original destination, on the
 * listed ports only. Two pods, one per header version, each with an app that records every byte
 * it receives; the test decodes them (v2 with Netty's decoder, v1 as exact text). The whole class
 * runs once per transport: io_uring's inbound socket is dual-stack and reports IPv4 clients as
 * IPv4-mapped addresses, which must still come out as TCP4.
 *
 * <pre>
 *  client 198.18.1.2 ── 198.18.1.1 pod2 (v2)      apps (record) :8080 :8082 listed, :8081 not
 *         198.18.3.2 ── 198.18.3.1 pod1 (v1)      the same
 *  (and 2001:db8:1::/64, 2001:db8:3::/64)
 * </pre>
 * In each pod every other SYN the proxy sends to :8082 is dropped, so its connect to the app takes
 * one SYN retransmission (a second) and the client's bytes and FIN all arrive before it is connected.
 */
@Tag("netns")
@ParameterizedClass(name = "{0}")
@EnumSource(Transport.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(180)
class ProxyProtocolIT {
    private static final int APP_UID = 1000;
    private static final int PROXY_UID = 2102;
    private static final String CLIENT = "198.18.1.2", POD = "198.18.1.1", CLIENT6 = "2001:db8:1::2", POD6 = "2001:db8:1::1";
    private static final String V1_CLIENT = "198.18.3.2", V1_POD = "198.18.3.1", V1_CLIENT6 = "2001:db8:3::2", V1_POD6 = "2001:db8:3::1";

    @Parameter
    Transport transport;

    private NetnsLab lab;
    private Traffic traffic;
    private SidecarProcess v2, v1;
    private Traffic.Server app, unlisted, slow, v1App, v1Slow;
    private String clientNs, pod2Ns, pod1Ns;

    @BeforeParameterizedClassInvocation
    void startPods() throws Exception {
        lab = new NetnsLab("ppx");
        clientNs = lab.namespace("client");
        pod2Ns = lab.namespace("pod2");
        pod1Ns = lab.namespace("pod1");
        String[] to2 = lab.link(clientNs, CLIENT + "/24", pod2Ns, POD + "/24");
        lab.address(clientNs, to2[0], CLIENT6 + "/64");
        lab.address(pod2Ns, to2[1], POD6 + "/64");
        String[] to1 = lab.link(clientNs, V1_CLIENT + "/24", pod1Ns, V1_POD + "/24");
        lab.address(clientNs, to1[0], V1_CLIENT6 + "/64");
        lab.address(pod1Ns, to1[1], V1_POD6 + "/64");
        traffic = new Traffic();
        app = traffic.record(pod2Ns, APP_UID, 8080);
        unlisted = traffic.record(pod2Ns, APP_UID, 8081);
        slow = traffic.record(pod2Ns, APP_UID, 8082);
        v1App = traffic.record(pod1Ns, APP_UID, 8080);
        v1Slow = traffic.record(pod1Ns, APP_UID, 8082);
        for (String pod : List.of(pod2Ns, pod1Ns)) {
            lab.exec(pod, "iptables", "-A", "OUTPUT", "-p", "tcp", "--dport", "8082", "--syn", "-m", "owner", "--uid-owner",
                    Integer.toString(PROXY_UID), "-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "0", "-j", "DROP");
        }
        v2 = SidecarProcess.start(pod2Ns, "--transport", transport.label(), "--ipv6", "--inbound-proxy-protocol-ports", "8080,8082",
                "--inbound-connect-timeout", "5s", "--shutdown-grace", "1s");
        v1 = SidecarProcess.start(pod1Ns, "--transport", transport.label(), "--ipv6", "--inbound-proxy-protocol-ports", "8080",
                "--inbound-proxy-protocol-ports", "8082", "--proxy-protocol-version", "1", "--inbound-connect-timeout", "5s",
                "--shutdown-grace", "1s");
    }

    @AfterParameterizedClassInvocation
    void stopPods() throws Exception {
        Closer.closeAll(v2, v1, traffic, lab);
    }

    @Test
    void theListedPortsAndTheirVersionAreLoggedAtStartUp() {
        assertThat(v2.log()).contains("inbound connections to ports 8080,8082 start with a PROXY protocol v2 header");
        assertThat(v1.log()).contains("inbound connections to ports 8080,8082 start with a PROXY protocol v1 header");
    }

    @Test
    void aListedPortSeesAVersion2HeaderWithTheIpv4ClientAndTheOriginalDestinationThenTheClientsBytes() throws Exception {
        String text = "hello over IPv4, v2 ";
        Traffic.Result r = traffic.send(clientNs, 0, POD, 8080, text, 3);

        assertThat(r.ok()).as(r.line()).isTrue();
        assertVersion2(recorded(app, text), HAProxyProxiedProtocol.TCP4, r, POD, 8080, text.repeat(3));
    }

    @Test
    void aListedPortSeesAVersion2HeaderWithTheIpv6ClientAndTheOriginalDestinationThenTheClientsBytes() throws Exception {
        String text = "hello over IPv6, v2 ";
        Traffic.Result r = traffic.send(clientNs, 0, POD6, 8080, text, 3);

        assertThat(r.ok()).as(r.line()).isTrue();
        assertVersion2(recorded(app, text), HAProxyProxiedProtocol.TCP6, r, POD6, 8080, text.repeat(3));
    }

    @Test
    void anUnlistedPortSeesExactlyTheClientsBytesForIpv4AndIpv6() throws Exception {
        for (String pod : List.of(POD, POD6)) {
            String text = "no header for " + pod + " ";
            Traffic.Result r = traffic.send(clientNs, 0, pod, 8081, text, 2);

            assertThat(r.ok()).as(r.line()).isTrue();
            assertThat(recorded(unlisted, text)).as(pod).isEqualTo(bytes(text.repeat(2)));
        }
    }

    @Test
    void bytesAndFinSentBeforeTheAppIsConnectedFollowTheVersion2HeaderIntact() throws Exception {
        String text = "early bytes, sent at once on connect; ";
        // About 57 KB: several reads, all made before the connect completes. The client's FIN, and
        // with it Netty's reading with AUTO_READ off, comes only once the proxy's socket holds them
        // all, so the whole payload must fit its receive buffer.
        int repeat = 1500;

        Traffic.Result r = traffic.send(clientNs, 0, POD, 8082, text, repeat);

        assertThat(r.ok()).as(r.line()).isTrue();
        assertVersion2(recorded(slow, text), HAProxyProxiedProtocol.TCP4, r, POD, 8082, text.repeat(repeat));
        assertConnectWasSlow(v2, r, POD);
    }

    @Test
    void aVersion1HeaderIsTheExactTextLineForIpv4AndIpv6ThenTheClientsBytes() throws Exception {
        for (String[] pair : List.of(new String[] {V1_CLIENT, V1_POD, "TCP4"}, new String[] {V1_CLIENT6, V1_POD6, "TCP6"})) {
            String text = "hello " + pair[2] + ", v1 ";
            Traffic.Result r = traffic.send(clientNs, 0, pair[1], 8080, text, 2);

            assertThat(r.ok()).as(r.line()).isTrue();
            assertThat(sourcePort(r)).isNotEqualTo(8080);
            String header = "PROXY " + pair[2] + " " + compressed(pair[0]) + " " + compressed(pair[1]) + " " + sourcePort(r) + " 8080\r\n";
            assertThat(new String(recorded(v1App, text), StandardCharsets.US_ASCII)).isEqualTo(header + text.repeat(2));
        }
    }

    @Test
    void bytesAndFinSentBeforeTheAppIsConnectedFollowTheVersion1HeaderIntact() throws Exception {
        String text = "early v1 bytes; ";
        int repeat = 3500; // 56 KB, as for version 2

        Traffic.Result r = traffic.send(clientNs, 0, V1_POD, 8082, text, repeat);

        assertThat(r.ok()).as(r.line()).isTrue();
        String header = "PROXY TCP4 " + V1_CLIENT + " " + V1_POD + " " + sourcePort(r) + " 8082\r\n";
        assertThat(new String(recorded(v1Slow, text), StandardCharsets.US_ASCII)).isEqualTo(header + text.repeat(repeat));
        assertConnectWasSlow(v1, r, V1_POD);
    }

    /** The app got a v2 header from the client {@code r} to {@code pod:port}, then exactly {@code payload}. */
    private static void assertVersion2(byte[] got, HAProxyProxiedProtocol family, Traffic.Result r, String pod, int port,
            String payload) throws Exception {
        EmbeddedChannel decoder = new EmbeddedChannel(new HAProxyMessageDecoder());
        decoder.writeInbound(Unpooled.wrappedBuffer(got));
        HAProxyMessage m = decoder.readInbound();
        ByteBuf rest = decoder.readInbound();
        try {
            assertThat(m).as("a decodable header").isNotNull();
            assertThat(m.protocolVersion()).isEqualTo(HAProxyProtocolVersion.V2);
            assertThat(m.command()).isEqualTo(HAProxyCommand.PROXY);
            assertThat(m.proxiedProtocol()).isEqualTo(family);
            assertThat(InetAddress.getByName(m.sourceAddress())).isEqualTo(InetAddress.getByName(sourceAddress(r)));
            assertThat(m.sourcePort()).isEqualTo(sourcePort(r));
            assertThat(InetAddress.getByName(m.destinationAddress())).isEqualTo(InetAddress.getByName(pod));
            assertThat(m.destinationPort()).isEqualTo(port);
            assertThat(rest).as("bytes after the header").isNotNull();
            assertThat(rest.toString(StandardCharsets.US_ASCII)).isEqualTo(payload);
        } finally {
            if (m != null) {
                m.release();
            }
            if (rest != null) {
                rest.release();
            }
            decoder.finishAndReleaseAll();
        }
    }

    /** The proxy's connection line shows the app's connect took the SYN retransmission, after the client had sent everything. */
    private static void assertConnectWasSlow(SidecarProcess sidecar, Traffic.Result r, String pod) throws Exception {
        String line = sidecar.await(l -> l.contains("inbound " + r.get("local") + " -> /" + pod + ":8082"), 10, r.get("local"));
        Matcher duration = Pattern.compile("duration=(\\d+)ms").matcher(line);
        assertThat(duration.find()).as(line).isTrue();
        assertThat(Long.parseLong(duration.group(1))).as("the connect to the app waited for a SYN retransmission: %s", line)
                .isGreaterThanOrEqualTo(900);
        assertThat(line).contains("end=closed");
    }

    /** Every byte one connection brought to {@code app}: the one whose bytes contain {@code text}. */
    private static byte[] recorded(Traffic.Server app, String text) throws InterruptedException {
        String hex = HexFormat.of().formatHex(bytes(text));
        String line = app.awaitLine(l -> l.startsWith("recorded ") && l.contains(hex), 20);
        assertThat(line).as("the app read the connection to its end").contains(" hex=");
        return HexFormat.of().parseHex(line.substring(line.indexOf(" hex=") + 5));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** The client's address as it printed it ({@code /198.18.1.2:61000}, {@code /2001:db8:1:0:0:0:0:2:61001}). */
    private static String sourceAddress(Traffic.Result r) {
        String local = r.get("local");
        return local.substring(1, local.lastIndexOf(':'));
    }

    private static int sourcePort(Traffic.Result r) {
        String local = r.get("local");
        return Integer.parseInt(local.substring(local.lastIndexOf(':') + 1));
    }

    private static String compressed(String literal) throws Exception {
        return NetUtil.toAddressString(InetAddress.getByName(literal));
    }
}
