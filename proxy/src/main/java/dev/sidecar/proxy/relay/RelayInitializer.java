package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.relay.RelayEvents.Direction;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.RelayEpollWorkaround;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.util.internal.PlatformDependent;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Sets up each connection accepted by one listener: socket options for a relay, a
 * {@link FrontendHandler} of its own, and (for that handler) the upstream channel on the same
 * event loop. One instance per listener, shared by all its connections; immutable.
 */
@Sharable
public final class RelayInitializer extends ChannelInitializer<Channel> {
    final Direction direction;
    final TargetResolver resolver;
    private final Supplier<LoopGuard> guard;
    final RelayEvents events;
    final InboundDestinations destinations;
    private final ChannelGroup open;
    private final RelaySettings settings;
    private final int connectTimeoutMillis;
    private final RecvByteBufAllocator recvAllocator;
    private final WriteBufferWaterMark waterMark;
    private final Map<ChannelOption<?>, Object> deadPeerOptions;

    /**
     * @param guard the loop guard in force when a connection is accepted
     * @param open every accepted channel is added here (and leaves it when closed), for draining
     */
    public RelayInitializer(Direction direction, RelaySettings settings, TargetResolver resolver, Supplier<LoopGuard> guard,
            RelayEvents events, ChannelGroup open) {
        this(direction, settings, resolver, guard, events, open, InboundDestinations.ANY);
    }

    /** As above, relaying inbound connections only to the {@code destinations} allowed. */
    public RelayInitializer(Direction direction, RelaySettings settings, TargetResolver resolver, Supplier<LoopGuard> guard,
            RelayEvents events, ChannelGroup open, InboundDestinations destinations) {
        this.destinations = destinations;
        this.direction = direction;
        this.settings = settings;
        this.resolver = resolver;
        this.guard = guard;
        this.events = events;
        this.open = open;
        this.connectTimeoutMillis = settings.connectTimeoutMillis(direction);
        this.recvAllocator = settings.recvAllocator();
        this.waterMark = settings.waterMark();
        this.deadPeerOptions = Map.copyOf(settings.deadPeer().socketOptions());
    }

    @Override
    protected void initChannel(Channel accepted) {
        configure(accepted.config());
        if (accepted instanceof EpollSocketChannel epoll) {
            RelayEpollWorkaround.keepRegistered(epoll);
        }
        open.add(accepted);
        accepted.pipeline().addLast(new FrontendHandler(this));
    }

    LoopGuard guard() {
        return guard.get();
    }

    /**
     * Creates the upstream channel for {@code client}, registers it on the client's event loop (so
     * the pair shares one thread) and connects it to {@code target}. The future's channel is the
     * upstream channel, or, if no socket could be made (EMFILE: no descriptor left), the client's,
     * failed: the frontend then resets the client as after any failed connect.
     */
    ChannelFuture connectUpstream(Channel client, InetSocketAddress target, BackendHandler backend) {
        EpollSocketChannel upstream;
        try {
            upstream = new EpollSocketChannel(
                    target.getAddress() instanceof Inet6Address ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET);
        } catch (ChannelException noSocket) {
            return client.newFailedFuture(noSocket);
        }
        configure(upstream.config());
        upstream.config().setOptions(deadPeerOptions); // accepted sockets inherit them from their listener
        RelayEpollWorkaround.keepRegistered(upstream);
        upstream.config().setConnectTimeoutMillis(connectTimeoutMillis);
        upstream.pipeline().addLast(backend);
        ChannelPromise connected = upstream.newPromise();
        client.eventLoop().register(upstream).addListener(registered -> {
            if (registered.isSuccess()) {
                upstream.connect(target, connected);
            } else {
                connected.setFailure(registered.cause());
            }
        });
        return connected;
    }

    /** The same options on both sides of the relay. */
    private void configure(ChannelConfig config) {
        config.setAutoRead(false); // read only after the previous write went out: backpressure
        config.setOption(ChannelOption.ALLOW_HALF_CLOSURE, true); // a FIN ends one direction, not both
        if (!PlatformDependent.canEnableTcpNoDelayByDefault()) {
            // Netty's epoll channel config already set TCP_NODELAY where it can: setting it again
            // would cost one more setsockopt per socket, two per relayed connection.
            config.setOption(ChannelOption.TCP_NODELAY, true);
        }
        config.setOption(ChannelOption.SO_KEEPALIVE, true);
        config.setWriteBufferWaterMark(waterMark);
        config.setRecvByteBufAllocator(recvAllocator);
        config.setAllocator(settings.allocator());
    }
}
