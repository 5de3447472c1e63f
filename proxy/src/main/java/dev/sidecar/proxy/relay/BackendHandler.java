package dev.sidecar.proxy.relay;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;

/**
 * The upstream side of one relayed connection: moves the target's bytes to the client, reading
 * on only while the client is below its high water mark (as {@link FrontendHandler} does the other
 * way), and reports the target's FIN, failure and close to the {@link RelayPair}.
 */
final class BackendHandler extends ChannelInboundHandlerAdapter {
    // Same event loop as the frontend (see UpstreamConnector): the pair's state needs no locks.
    private final RelayPair pair;
    private final Channel client;

    BackendHandler(RelayPair pair) {
        this.pair = pair;
        this.client = pair.client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        pair.relayedFromTarget(((ByteBuf) msg).readableBytes());
        client.write(msg, client.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        client.flush();
        if (client.isWritable() && !pair.targetEof()) {
            ctx.read(); // else FrontendHandler reads on once the client drains below its low water mark
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && !pair.clientEof() && ctx.channel().isActive()) {
            client.read(); // the target drained below its low water mark: take more from the client
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE && !pair.targetEof()) {
            pair.targetFin();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ConnectionLog.sideFailed(pair.direction(), client.remoteAddress(), "target", cause);
        pair.sideFailed("target", cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        pair.upstreamClosed();
    }
}
