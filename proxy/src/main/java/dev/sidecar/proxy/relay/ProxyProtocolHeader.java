package dev.sidecar.proxy.relay;

import dev.sidecar.iptables.PortRange;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.NetUtil;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The PROXY protocol header the inbound listener sends to the application before any byte of the
 * client, on connections whose original destination port is listed: version 1 (text) or 2
 * (binary), command PROXY, the client's address and port as the source and the original
 * destination as the destination. The application then sees who connected although the
 * connection it accepts comes from the proxy. Encoded by Netty's {@link HAProxyMessageEncoder}.
 *
 * <p>Both addresses of a connection are of one family: TCP4 for IPv4, TCP6 for IPv6. A dual-stack
 * socket (io_uring's inbound {@code [::]}) may report an IPv4 client as an IPv4-mapped IPv6 address
 * ({@code ::ffff:198.18.1.2}); such an address is the IPv4 address it maps, so the header says TCP4.
 * Immutable; one per listener, shared by its connections.
 */
public final class ProxyProtocolHeader {
    /** No header on any port: every byte relayed as it came. */
    public static final ProxyProtocolHeader NONE = new ProxyProtocolHeader(List.of(), HAProxyProtocolVersion.V2);

    private final List<PortRange> ports;
    private final HAProxyProtocolVersion version;

    private ProxyProtocolHeader(List<PortRange> ports, HAProxyProtocolVersion version) {
        this.ports = List.copyOf(ports);
        this.version = version;
    }

    /**
     * A header of {@code version} (1 or 2) for connections to one of {@code ports}.
     *
     * @throws IllegalArgumentException for any other version
     */
    public static ProxyProtocolHeader on(List<PortRange> ports, int version) {
        return new ProxyProtocolHeader(ports, switch (version) {
            case 1 -> HAProxyProtocolVersion.V1;
            case 2 -> HAProxyProtocolVersion.V2;
            default -> throw new IllegalArgumentException("PROXY protocol version " + version + ": expected 1 or 2");
        });
    }

    /** The ports whose connections get the header; empty for {@link #NONE}. */
    public List<PortRange> ports() {
        return ports;
    }

    /** Whether a connection to {@code destination} gets the header. */
    boolean appliesTo(InetSocketAddress destination) {
        for (PortRange range : ports) {
            if (range.contains(destination.getPort())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Writes the header to {@code upstream}, unflushed, when a connection to {@code destination}
     * gets one; else writes nothing. Must come before any byte of the client is written to it.
     * The encoder sits in the pipeline for this one write only, so the client's bytes pass as before.
     */
    void writeTo(Channel upstream, InetSocketAddress source, InetSocketAddress destination) {
        if (!appliesTo(destination)) {
            return;
        }
        ChannelPipeline pipeline = upstream.pipeline();
        pipeline.addFirst(HAProxyMessageEncoder.INSTANCE);
        try {
            upstream.write(message(source, destination), upstream.voidPromise()); // the encoder releases the message
        } finally {
            pipeline.remove(HAProxyMessageEncoder.INSTANCE);
        }
    }

    /** The header's content for a connection from {@code source} to {@code destination}. */
    HAProxyMessage message(InetSocketAddress source, InetSocketAddress destination) {
        InetAddress from = plain(source.getAddress());
        InetAddress to = plain(destination.getAddress());
        boolean v4 = from instanceof Inet4Address && to instanceof Inet4Address;
        return new HAProxyMessage(version, HAProxyCommand.PROXY, v4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6,
                text(from, v4), text(to, v4), source.getPort(), destination.getPort());
    }

    /** An IPv4-mapped IPv6 address as the IPv4 address it maps; any other address as it is. */
    static InetAddress plain(InetAddress address) {
        byte[] b = address.getAddress();
        if (!(address instanceof Inet6Address) || !isMapped(b)) {
            return address;
        }
        try {
            return InetAddress.getByAddress(Arrays.copyOfRange(b, 12, 16));
        } catch (UnknownHostException impossible) { // four bytes are always an address
            throw new IllegalStateException(impossible);
        }
    }

    private static boolean isMapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    }

    /** RFC 5952 text (IPv6 compressed), IPv4 in the IPv4-mapped form when the other side is IPv6. */
    private static String text(InetAddress address, boolean v4) {
        if (!v4 && address instanceof Inet4Address) { // a mixed pair, which TCP cannot make; kept well-formed anyway
            return "::ffff:" + address.getHostAddress();
        }
        return NetUtil.toAddressString(address);
    }

    @Override
    public String toString() {
        return ports.isEmpty() ? "no PROXY protocol header" : "PROXY protocol " + version.name().toLowerCase(java.util.Locale.ROOT) + " header on ports "
                + ports.stream().map(PortRange::toString).collect(Collectors.joining(","));
    }
}
