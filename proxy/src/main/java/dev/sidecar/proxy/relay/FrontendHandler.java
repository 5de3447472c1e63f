package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.relay.RelayEvents.Failure;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The accepted side of one relayed connection, and the owner of the pair: it finds the target,
 * connects upstream, moves the client's bytes up, and decides how the connection ends. Its
 * {@link BackendHandler} moves the target's bytes down and reports to it.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter implements ChannelFutureListener {
    private final RelayInitializer listener;
    // The upstream channel is registered on this channel's event loop, so every callback of the
    // pair runs on one thread: the fields below are plain, with no locks and no volatile.
    private Channel client;
    private Channel upstream;
    private InetSocketAddress target;
    private long openedAt;
    private boolean relaying; // target known and allowed: opened() was reported
    long fromClient;
    long fromTarget;
    boolean clientEof; // the client sent FIN
    boolean targetEof; // the target sent FIN
    private boolean clientFinPassed; // ... and the target has received it
    private boolean targetFinPassed; // ... and the client has received it
    private String ending; // how the connection ended; the first cause wins

    FrontendHandler(RelayInitializer listener) {
        this.listener = listener;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        client = ctx.channel();
        openedAt = System.nanoTime();
        Failure refusal;
        try {
            target = listener.resolver.resolve(client);
            LoopGuard guard = listener.guard();
            if (guard.answersProbe((InetSocketAddress) client.remoteAddress(), target)) {
                client.close(); // the start-up self-test's own connection: checked, never relayed
                return;
            }
            refusal = guard.check(target, (InetSocketAddress) client.localAddress());
            if (refusal == null) {
                refusal = listener.destinations.check(listener.direction, target);
            }
        } catch (IOException e) {
            ConnectionLog.lookupFailed(listener.direction, client.remoteAddress(), e);
            refusal = Failure.NO_ORIGINAL_DST;
        }
        if (refusal != null) {
            refuse(refusal);
            return;
        }
        relaying = true;
        listener.events.opened(listener.direction, target.getPort());
        // Nothing is asked of the client until the upstream is connected, so early bytes wait in
        // the kernel, in order. (Once the client has sent FIN, Netty's RDHUP handling reads what
        // the kernel holds even with AUTO_READ off, at most one socket receive buffer; those
        // bytes wait, in order, on the connecting upstream channel and are flushed on connect.)
        upstream = listener.connectUpstream(client, target, new BackendHandler(this, client)).addListener(this).channel();
    }

    /** The upstream connect finished: start relaying both ways, or reset the client. */
    @Override
    public void operationComplete(ChannelFuture connect) {
        if (!client.isActive()) {
            Relay.reset(upstream); // the client gave up while we were connecting
            return;
        }
        if (connect.isSuccess()) {
            listener.events.connected(listener.direction, System.nanoTime() - openedAt);
            upstream.flush(); // bytes (or a FIN) the kernel handed us early wait in its outbound buffer
            client.read();
            upstream.read();
            return;
        }
        Failure why = Relay.connectFailure(connect.cause());
        endAs(why.label());
        listener.events.failed(listener.direction, why);
        ConnectionLog.connectFailed(listener.direction, client.remoteAddress(), target, why, connect.cause());
        Relay.reset(client);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        int bytes = ((ByteBuf) msg).readableBytes();
        fromClient += bytes;
        listener.events.relayed(listener.direction, true, bytes);
        upstream.write(msg, upstream.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        upstream.flush();
        if (upstream.isWritable() && !clientEof) {
            client.read(); // otherwise BackendHandler reads on for us once the upstream drains
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (client.isWritable() && upstream != null && !targetEof) {
            upstream.read(); // the client drained: take more from the target
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE && !clientEof) {
            clientEof = true;
            Relay.shutdownOutputAfterFlush(upstream, fin -> {
                clientFinPassed = fin.isSuccess();
                afterFin(fin.isSuccess());
            });
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ConnectionLog.sideFailed(listener.direction, client.remoteAddress(), "client", cause);
        Failure why = Relay.endFailure(cause);
        abort(why, why == Failure.DEAD_PEER ? "client gone" : "client reset");
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (upstream != null && upstream.isOpen()) {
            if (clientFinPassed && targetFinPassed) {
                upstream.close();
            } else {
                Relay.reset(upstream); // an early end must not look like a complete stream upstream
            }
        }
        if (relaying) {
            long duration = System.nanoTime() - openedAt;
            listener.events.closed(listener.direction, target.getPort(), fromClient, fromTarget, duration);
            ConnectionLog.closed(listener.direction, client.remoteAddress(), target, fromClient, fromTarget, duration,
                    ending != null ? ending : "aborted");
        }
    }

    RelayEvents.Direction direction() {
        return listener.direction;
    }

    /** The target's bytes on their way to the client (called by BackendHandler). */
    void relayedFromTarget(int bytes) {
        fromTarget += bytes;
        listener.events.relayed(listener.direction, false, bytes);
    }

    /** The target sent FIN (called by BackendHandler): pass it on to the client after its data. */
    void targetFin() {
        targetEof = true;
        Relay.shutdownOutputAfterFlush(client, fin -> {
            targetFinPassed = fin.isSuccess();
            afterFin(fin.isSuccess());
        });
    }

    /** The upstream channel failed (called by BackendHandler): reset both sides. */
    void upstreamFailed(Throwable cause) {
        Failure why = Relay.endFailure(cause);
        abort(why, why == Failure.DEAD_PEER ? "target gone" : "target reset");
    }

    /** The upstream channel closed (called by BackendHandler). */
    void upstreamClosed() {
        if (client.isOpen() && !(clientFinPassed && targetFinPassed)) {
            abort(Failure.RESET, "target closed");
        }
    }

    private void afterFin(boolean passed) {
        if (!passed) {
            abort(Failure.RESET, "peer gone during half-close");
        } else if (clientFinPassed && targetFinPassed) {
            endAs("closed");
            client.close();
            upstream.close();
        }
    }

    private void abort(Failure why, String how) {
        if (ending == null && relaying) {
            listener.events.failed(listener.direction, why);
        }
        endAs(how);
        if (upstream != null) {
            Relay.reset(upstream);
        }
        Relay.reset(client);
    }

    private void refuse(Failure why) {
        listener.events.failed(listener.direction, why);
        ConnectionLog.refused(listener.direction, client.remoteAddress(), target, why);
        Relay.reset(client);
    }

    private void endAs(String how) {
        if (ending == null) {
            ending = how;
        }
    }
}
