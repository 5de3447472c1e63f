package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.transport.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.Map;

/**
 * Opens the upstream side of a pair: a socket with the relay's options, registered on the
 * accepted channel's event loop (so the pair shares one thread and its state needs no locks),
 * connected to the target within the listener's connect timeout, with the listener's PROXY
 * protocol header (if any) as its first bytes. Immutable; one per listener.
 */
final class UpstreamConnector {
    private final Transport transport;
    private final RelaySocketOptions options;
    private final int connectTimeoutMillis;
    private final Map<ChannelOption<Integer>, Integer> deadPeerOptions;
    private final ProxyProtocolHeader proxyProtocol;

    /** As the five-argument constructor, sending no PROXY protocol header. */
    UpstreamConnector(Transport transport, RelaySocketOptions options, int connectTimeoutMillis,
            Map<ChannelOption<Integer>, Integer> deadPeerOptions) {
        this(transport, options, connectTimeoutMillis, deadPeerOptions, ProxyProtocolHeader.NONE);
    }

    /**
     * @param deadPeerOptions keepalive on, its timers and the user timeout, set on upstream sockets
     *     only: accepted sockets inherit them from their listener
     * @param proxyProtocol the header sent first on connections to its ports (inbound only)
     */
    UpstreamConnector(Transport transport, RelaySocketOptions options, int connectTimeoutMillis,
            Map<ChannelOption<Integer>, Integer> deadPeerOptions, ProxyProtocolHeader proxyProtocol) {
        this.transport = transport;
        this.options = options;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.deadPeerOptions = Map.copyOf(deadPeerOptions);
        this.proxyProtocol = proxyProtocol;
    }

    /**
     * A new, unregistered upstream channel for {@code target}, its pipeline holding {@code backend}.
     *
     * @throws io.netty.channel.ChannelException when no socket can be made (EMFILE: no descriptor left)
     */
    Channel newChannel(InetSocketAddress target, ChannelHandler backend) {
        Channel upstream = transport.newSocketChannel(target.getAddress() instanceof Inet6Address);
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
                proxyProtocol.writeTo(upstream, (InetSocketAddress) client.remoteAddress(), target);
                upstream.connect(target, connected);
            } else {
                connected.setFailure(registered.cause());
            }
        });
        return connected;
    }
}
