package dev.sidecar.proxy.relay;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;

/**
 * Initialises each connection accepted by one listener: the relay's socket options, membership
 * of the open-connection group (for draining), and a {@link FrontendHandler} of its own. One
 * instance per listener, shared by all its connections; immutable.
 */
@Sharable
final class RelayInitializer extends ChannelInitializer<Channel> {
    private final ListenerContext listener;
    private final RelaySocketOptions options;
    private final ChannelGroup open;

    /** @param open every accepted channel is added here (and leaves it when closed), for draining */
    RelayInitializer(ListenerContext listener, RelaySocketOptions options, ChannelGroup open) {
        this.listener = listener;
        this.options = options;
        this.open = open;
    }

    @Override
    protected void initChannel(Channel accepted) {
        options.applyTo(accepted);
        open.add(accepted);
        accepted.pipeline().addLast(new FrontendHandler(listener));
    }
}
