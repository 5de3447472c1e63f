package dev.sidecar.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sidecar.iptables.PortRange;
import dev.sidecar.testkit.LeakCheckExtension;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The header's bytes, on an {@code EmbeddedChannel} standing in for the upstream; v2 read back by Netty's decoder. */
@ExtendWith(LeakCheckExtension.class)
class ProxyProtocolHeaderTest {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("198.18.1.2", 61000);
    private static final InetSocketAddress POD = new InetSocketAddress("198.18.1.1", 8080);
    private static final InetSocketAddress CLIENT6 = new InetSocketAddress("2001:db8:1::2", 61001);
    private static final InetSocketAddress POD6 = new InetSocketAddress("2001:db8:1::1", 8080);
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    private static final ProxyProtocolHeader V1 = ProxyProtocolHeader.on(List.of(PortRange.of(8080), new PortRange(9000, 9010)), 1);
    private static final ProxyProtocolHeader V2 = ProxyProtocolHeader.on(List.of(PortRange.of(8080), new PortRange(9000, 9010)), 2);

    @Test
    void version1ForIpv4IsTheExactTextLine() {
        assertThat(text(written(V1, CLIENT, POD))).isEqualTo("PROXY TCP4 198.18.1.2 198.18.1.1 61000 8080\r\n");
    }

    @Test
    void version1ForIpv6IsTheExactTextLineWithCompressedAddresses() {
        assertThat(text(written(V1, CLIENT6, POD6))).isEqualTo("PROXY TCP6 2001:db8:1::2 2001:db8:1::1 61001 8080\r\n");
    }

    @Test
    void version1ForIpv4MappedAddressesIsTcp4WithPlainIpv4Addresses() throws Exception {
        InetSocketAddress client = mapped("198.18.1.2", 61000);
        InetSocketAddress pod = mapped("198.18.1.1", 9005);

        assertThat(text(written(V1, client, pod))).isEqualTo("PROXY TCP4 198.18.1.2 198.18.1.1 61000 9005\r\n");
    }

    @Test
    void version2ForIpv4DecodesBackToTheClientAndTheOriginalDestination() {
        ByteBuf header = written(V2, CLIENT, POD);

        assertThat(header.readableBytes()).isEqualTo(16 + 12); // fixed part, then two IPv4 addresses and ports
        assertThat(ByteBufUtil.getBytes(header, 0, 12)).isEqualTo(V2_SIGNATURE);
        HAProxyMessage m = decoded(header);
        try {
            assertThat(m.protocolVersion()).isEqualTo(HAProxyProtocolVersion.V2);
            assertThat(m.command()).isEqualTo(HAProxyCommand.PROXY);
            assertThat(m.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP4);
            assertThat(m.sourceAddress()).isEqualTo("198.18.1.2");
            assertThat(m.sourcePort()).isEqualTo(61000);
            assertThat(m.destinationAddress()).isEqualTo("198.18.1.1");
            assertThat(m.destinationPort()).isEqualTo(8080);
        } finally {
            m.release();
        }
    }

    @Test
    void version2ForIpv6DecodesBackToTheClientAndTheOriginalDestination() throws Exception {
        ByteBuf header = written(V2, CLIENT6, POD6);

        assertThat(header.readableBytes()).isEqualTo(16 + 36);
        HAProxyMessage m = decoded(header);
        try {
            assertThat(m.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP6);
            assertThat(InetAddress.getByName(m.sourceAddress())).isEqualTo(CLIENT6.getAddress());
            assertThat(m.sourcePort()).isEqualTo(61001);
            assertThat(InetAddress.getByName(m.destinationAddress())).isEqualTo(POD6.getAddress());
            assertThat(m.destinationPort()).isEqualTo(8080);
        } finally {
            m.release();
        }
    }

    @Test
    void version2ForIpv4MappedAddressesIsTcp4() throws Exception {
        HAProxyMessage m = decoded(written(V2, mapped("198.18.1.2", 61000), mapped("198.18.1.1", 8080)));
        try {
            assertThat(m.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP4);
            assertThat(m.sourceAddress()).isEqualTo("198.18.1.2");
            assertThat(m.destinationAddress()).isEqualTo("198.18.1.1");
        } finally {
            m.release();
        }
    }

    @Test
    void theClientsBytesFollowTheHeaderUntouchedAndTheEncoderLeavesThePipeline() {
        EmbeddedChannel upstream = new EmbeddedChannel();
        V2.writeTo(upstream, CLIENT, POD);
        upstream.writeOutbound(Unpooled.copiedBuffer("early bytes", StandardCharsets.US_ASCII));

        ByteBuf header = upstream.readOutbound();
        ByteBuf client = upstream.readOutbound();
        try {
            assertThat(ByteBufUtil.getBytes(header, 0, 12)).isEqualTo(V2_SIGNATURE);
            assertThat(client.toString(StandardCharsets.US_ASCII)).isEqualTo("early bytes");
            assertThat(upstream.pipeline().get(HAProxyMessageEncoder.class)).isNull();
        } finally {
            header.release();
            client.release();
            upstream.finishAndReleaseAll();
        }
    }

    @Test
    void anUnlistedPortGetsNoHeader() {
        EmbeddedChannel upstream = new EmbeddedChannel();
        V2.writeTo(upstream, CLIENT, new InetSocketAddress("198.18.1.1", 8081));
        V2.writeTo(upstream, CLIENT, new InetSocketAddress("198.18.1.1", 9011));
        ProxyProtocolHeader.NONE.writeTo(upstream, CLIENT, POD);

        upstream.flushOutbound();
        assertThat((Object) upstream.readOutbound()).isNull();
        assertThat(upstream.finishAndReleaseAll()).isFalse();
    }

    @Test
    void everyPortOfARangeGetsTheHeader() {
        for (int port : new int[] {9000, 9010}) {
            ByteBuf header = written(V1, CLIENT, new InetSocketAddress("198.18.1.1", port));
            assertThat(text(header)).endsWith(" " + port + "\r\n");
        }
    }

    @Test
    void onlyVersionsOneAndTwoExist() {
        assertThatThrownBy(() -> ProxyProtocolHeader.on(List.of(PortRange.of(80)), 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("version 3");
    }

    @Test
    void itDescribesItselfForTheStartUpLog() {
        assertThat(V2).hasToString("PROXY protocol v2 header on ports 8080,9000-9010");
        assertThat(ProxyProtocolHeader.NONE).hasToString("no PROXY protocol header");
    }

    /** What {@code header} writes for one connection, flushed out of an embedded upstream. */
    private static ByteBuf written(ProxyProtocolHeader header, InetSocketAddress source, InetSocketAddress destination) {
        EmbeddedChannel upstream = new EmbeddedChannel();
        header.writeTo(upstream, source, destination);
        upstream.flushOutbound();
        ByteBuf out = upstream.readOutbound();
        assertThat(upstream.finishAndReleaseAll()).as("one buffer, the header").isFalse();
        return out;
    }

    /** Netty's decoder reads {@code header} (and releases it). */
    private static HAProxyMessage decoded(ByteBuf header) {
        EmbeddedChannel app = new EmbeddedChannel(new HAProxyMessageDecoder());
        app.writeInbound(header);
        HAProxyMessage m = app.readInbound();
        assertThat(m).as("decoded header").isNotNull();
        app.finishAndReleaseAll();
        return m;
    }

    /** The buffer's bytes as ASCII; releases it. */
    private static String text(ByteBuf buf) {
        try {
            return buf.toString(StandardCharsets.US_ASCII);
        } finally {
            buf.release();
        }
    }

    /** {@code ipv4} as an IPv4-mapped IPv6 address, as a dual-stack socket reports it. */
    private static InetSocketAddress mapped(String ipv4, int port) throws UnknownHostException {
        byte[] v4 = InetAddress.getByName(ipv4).getAddress();
        byte[] v6 = new byte[16];
        v6[10] = (byte) 0xff;
        v6[11] = (byte) 0xff;
        System.arraycopy(v4, 0, v6, 12, 4);
        InetAddress address = Inet6Address.getByAddress(null, v6, -1);
        assertThat(address).as("the JDK keeps it IPv6").isInstanceOf(Inet6Address.class);
        return new InetSocketAddress(address, port);
    }
}
