package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.transport.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Opens the upstream side of a pair: a socket with the relay's options, registered on the
 * accepted channel's event loop (so the pair shares one thread and its state needs no locks),
 * connected to the target within the listener's connect timeout, with the listener's PROXY
 * protocol header (if any) as its first bytes. Immutable; one per listener.
 */
final class UpstreamConnector {
    // Linux's default ip_local_port_range; binds to the client's address compete only with each other.
    private static final int FIRST_EPHEMERAL = 32768, LAST_EPHEMERAL = 60999, BIND_ATTEMPTS = 8;

    private final Transport transport;
    private final RelaySocketOptions options;
    private final int connectTimeoutMillis;
    private final Map<ChannelOption<Integer>, Integer> deadPeerOptions;
    private final ProxyProtocolHeader proxyProtocol;
    private final boolean fromClientAddress;

    /** As the six-argument constructor: no PROXY protocol header, connecting from any local address. */
    UpstreamConnector(Transport transport, RelaySocketOptions options, int connectTimeoutMillis,
            Map<ChannelOption<Integer>, Integer> deadPeerOptions) {
        this(transport, options, connectTimeoutMillis, deadPeerOptions, ProxyProtocolHeader.NONE, false);
    }

    /**
     * @param deadPeerOptions keepalive on, its timers and the user timeout, set on upstream sockets
     *     only: accepted sockets inherit them from their listener
     * @param proxyProtocol the header sent first on connections to its ports (inbound only)
     * @param fromClientAddress tproxy mode's inbound side: the upstream socket is transparent and
     *     bound to the client's own address, so the app sees who called it. The port is any but
     *     the client's own: that one would give the upstream connection the accepted
     *     connection's addresses and ports, and the app's SYN-ACK would reach the proxy's accepted
     *     socket instead of the upstream one
     */
    UpstreamConnector(Transport transport, RelaySocketOptions options, int connectTimeoutMillis,
            Map<ChannelOption<Integer>, Integer> deadPeerOptions, ProxyProtocolHeader proxyProtocol,
            boolean fromClientAddress) {
        this.proxyProtocol = proxyProtocol;
        this.fromClientAddress = fromClientAddress;
        this.transport = transport;
        this.options = options;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.deadPeerOptions = Map.copyOf(deadPeerOptions);
    }

    /**
     * A new, unregistered upstream channel for {@code target}, its pipeline holding {@code backend}.
     *
     * @throws io.netty.channel.ChannelException when no socket can be made (EMFILE: no descriptor left)
     */
    Channel newChannel(InetSocketAddress target, ChannelHandler backend) {
        boolean v6 = target.getAddress() instanceof Inet6Address;
        Channel upstream = transport.newSocketChannel(v6);
        if (fromClientAddress && !upstream.config().setOption(Transport.transparent(v6), 1)) {
            upstream.close();
            throw new ChannelException("the transport did not take " + Transport.transparent(v6));
        }
        options.applyTo(upstream);
        deadPeerOptions.forEach(upstream.config()::setOption);
        upstream.config().setConnectTimeoutMillis(connectTimeoutMillis);
        upstream.pipeline().addLast(backend);
        return upstream;
    }

    /**
     * Registers {@code upstream} on {@code client}'s event loop and connects it to {@code target}.
     * The PROXY protocol header goes into the outbound buffer first, before the connect starts:
     * registration on the loop we run on completes at once, so no byte of the client (which
     * {@link FrontendHandler} may write to a connecting channel) can come before it, and
     * {@link RelayPair#connected()} flushes it with them.
     */
    ChannelFuture connect(Channel upstream, Channel client, InetSocketAddress target) {
        ChannelPromise connected = upstream.newPromise();
        client.eventLoop().register(upstream).addListener(registered -> {
            if (registered.isSuccess()) {
                InetSocketAddress peer = (InetSocketAddress) client.remoteAddress();
                proxyProtocol.writeTo(upstream, peer, target);
                if (fromClientAddress) {
                    bindThenConnect(upstream, peer, target, connected, BIND_ATTEMPTS);
                } else {
                    upstream.connect(target, connected);
                }
            } else {
                connected.setFailure(registered.cause());
            }
        });
        return connected;
    }

    /**
     * Binds {@code upstream} to the client's address on a port other than the client's own, then
     * connects it. The port is picked at random from the usual ephemeral range and a taken one is
     * tried again (a failed bind leaves the socket unbound); the kernel's own choice (port 0) could
     * be the client's port, whose connection the app's SYN-ACK would then reach instead.
     */
    private static void bindThenConnect(Channel upstream, InetSocketAddress client, InetSocketAddress target,
            ChannelPromise connected, int attemptsLeft) {
        int port;
        do {
            port = ThreadLocalRandom.current().nextInt(FIRST_EPHEMERAL, LAST_EPHEMERAL + 1);
        } while (port == client.getPort());
        upstream.bind(new InetSocketAddress(client.getAddress(), port)).addListener(bound -> {
            if (bound.isSuccess()) {
                upstream.connect(target, connected);
            } else if (attemptsLeft > 1 && upstream.isOpen()) {
                bindThenConnect(upstream, client, target, connected, attemptsLeft - 1);
            } else {
                connected.setFailure(bound.cause());
            }
        });
    }
}
