package dev.sidecar.proxy.admin;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A whole-request deadline for one admin connection: the request (headers and any body) must be
 * complete within the deadline, counted from the accept for the first request and from the first
 * byte of each later one on a kept-alive connection. Unlike the idle timeout, which every byte
 * restarts, trickled bytes do not move it, so a slow client cannot hold a connection forever.
 *
 * <p>It needs two places in the pipeline: itself before the HTTP codec, where it sees the raw
 * bytes that start a request, and {@link #completion()} after the aggregator, where whole requests
 * arrive. Both run on the connection's event loop, so the state is a plain field.
 */
final class RequestDeadline extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(RequestDeadline.class);

    private final long deadlineNanos;
    private final AdminMetrics metrics;
    private ScheduledFuture<?> timer; // armed while a request is being received

    RequestDeadline(long deadlineNanos, AdminMetrics metrics) {
        this.deadlineNanos = deadlineNanos;
        this.metrics = metrics;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        arm(ctx); // a connection that never sends a complete request is cut too
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (timer == null && msg instanceof ByteBuf bytes && bytes.isReadable()) {
            arm(ctx); // the first byte of the next request on a kept-alive connection
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        disarm();
        super.channelInactive(ctx);
    }

    /** The handler that goes after the aggregator and stops the clock when a request is complete. */
    ChannelInboundHandlerAdapter completion() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof FullHttpRequest) {
                    disarm();
                }
                ctx.fireChannelRead(msg);
            }
        };
    }

    private void arm(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> expire(ctx), deadlineNanos, TimeUnit.NANOSECONDS);
    }

    private void disarm() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void expire(ChannelHandlerContext ctx) {
        timer = null;
        if (ctx.channel().isOpen()) {
            metrics.pastDeadline();
            log.debug("admin: closing {}: no complete request within {} ms", ctx.channel().remoteAddress(),
                    TimeUnit.NANOSECONDS.toMillis(deadlineNanos));
            ctx.close();
        }
    }
}
