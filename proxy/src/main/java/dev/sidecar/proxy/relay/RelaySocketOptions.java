package dev.sidecar.proxy.relay;

import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOption;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.internal.PlatformDependent;

/**
 * The one place where the relay's socket options are set, the same on both sides of a pair (the
 * accepted socket and the upstream one). Immutable; shared by every connection of a listener.
 */
final class RelaySocketOptions {
    private final RelaySettings settings;
    private final RecvByteBufAllocator recvAllocator;
    private final WriteBufferWaterMark waterMark;

    RelaySocketOptions(RelaySettings settings) {
        this.settings = settings;
        this.recvAllocator = settings.recvAllocator();
        this.waterMark = settings.waterMark();
    }

    /** Applies the relay's options to {@code ch}, before it is registered or connected. */
    void applyTo(Channel ch) {
        ChannelConfig config = ch.config();
        // Reads are asked for by the handlers, and renewed only while the other side is below its
        // high water mark: backpressure without unbounded buffers.
        config.setAutoRead(false);
        config.setOption(ChannelOption.ALLOW_HALF_CLOSURE, true); // a FIN ends one direction, not both
        if (!PlatformDependent.canEnableTcpNoDelayByDefault()) {
            // Netty's native channel configs already set TCP_NODELAY where they can: setting it
            // again would cost one more setsockopt per socket, two per relayed connection.
            config.setOption(ChannelOption.TCP_NODELAY, true);
        }
        // SO_KEEPALIVE and its timers: from the listening socket, or UpstreamConnector (DeadPeerDetection).
        config.setWriteBufferWaterMark(waterMark);
        config.setRecvByteBufAllocator(recvAllocator);
        config.setAllocator(settings.allocator());
        settings.transport().prepareRelayChannel(ch);
    }
}
