package dev.sidecar.proxy.relay;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;

/**
 * The upstream side of one relayed connection: moves the target's bytes to the client, with the
 * same read-after-write backpressure as {@link FrontendHandler}, and reports the target's FIN,
 * failure and close to the frontend, which owns the pair.
 */
final class BackendHandler extends ChannelInboundHandlerAdapter {
    // Same event loop as the frontend (see RelayInitializer.connectUpstream): plain fields.
    private final FrontendHandler pair;
    private final Channel client;

    BackendHandler(FrontendHandler pair, Channel client) {
        this.pair = pair;
        this.client = client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        pair.relayedFromTarget(((ByteBuf) msg).readableBytes());
        client.write(msg, client.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        client.flush();
        if (client.isWritable() && !pair.targetEof) {
            ctx.read(); // otherwise FrontendHandler reads on for us once the client drains
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && !pair.clientEof && ctx.channel().isActive()) {
            client.read(); // the target drained: take more from the client
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE && !pair.targetEof) {
            pair.targetFin();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ConnectionLog.sideFailed(pair.direction(), client.remoteAddress(), "target", cause);
        pair.upstreamFailed(cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        pair.upstreamClosed();
    }
}
