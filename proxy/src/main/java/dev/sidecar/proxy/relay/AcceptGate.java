package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.net.Errno;
import dev.sidecar.proxy.net.ListenQueue;
import dev.sidecar.proxy.relay.RelayEvents.Direction;
import dev.sidecar.proxy.relay.RelayEvents.Failure;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import java.io.IOException;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * Sits on one listening channel, before Netty's {@code ServerBootstrapAcceptor}, and answers every
 * connection at once when the proxy has no room: one over {@code --max-connections} is reset
 * (SO_LINGER 0) before it is registered or connected upstream, and an accept that fails for want
 * of a descriptor (EMFILE, ENFILE) resets the waiting connections through {@link Admission}'s
 * reserve instead of letting Netty pause accepting for a second with a stack trace. Both count as
 * {@code reason="overload"} and log through {@link ConnectionLog}'s rate limit.
 */
final class AcceptGate extends ChannelInboundHandlerAdapter {
    /** Without a reserve to answer with, accepting resumes after this pause. */
    static final long PAUSE_MILLIS = 20;

    private final Direction direction;
    private final Admission admission;
    private final RelayEvents events;
    private final ChannelFutureListener release;
    private final boolean fixedPort;

    /** @param fixedPort the listener was bound to a port given explicitly, not to port 0 */
    AcceptGate(Direction direction, Admission admission, RelayEvents events, boolean fixedPort) {
        this.direction = direction;
        this.fixedPort = fixedPort;
        this.admission = admission;
        this.events = events;
        this.release = closed -> admission.release();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Channel child = (Channel) msg;
        if (!admission.tryAdmit()) {
            events.failed(direction, Failure.OVERLOAD);
            ConnectionLog.overloaded(direction, child.remoteAddress(), admission.maxConnections());
            resetUnregistered(child);
            return;
        }
        child.closeFuture().addListener(release);
        ctx.fireChannelRead(child);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        OptionalInt errno = Errno.fromMessage(cause.getMessage());
        if (errno.isEmpty() || (errno.getAsInt() != Errno.EMFILE && errno.getAsInt() != Errno.ENFILE)
                || !(ctx.channel() instanceof UnixChannel unix) || !(unix.fd() instanceof Socket socket)) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        // Handled here, not passed on: Netty's acceptor would stop accepting for a second and its
        // pipeline tail would log the stack trace, for every failed accept.
        Channel server = ctx.channel();
        String error = Errno.describe(errno.getAsInt());
        int reset = admission.resetWaiting(socket);
        if (reset > 0) {
            ConnectionLog.outOfDescriptors(direction, server.localAddress(), error, reset);
        } else if (reset < 0) { // no reserve to accept with: have the kernel reset the queue
            reset = resetQueue(server, socket);
            if (reset < 0) {
                ConnectionLog.outOfDescriptors(direction, server.localAddress(), error, 0);
                reset = 0;
            }
        }
        for (int i = 0; i < reset; i++) {
            events.failed(direction, Failure.OVERLOAD);
        }
        if (reset == 0) {
            // Nobody was waiting, or nothing could be reset: accepting again at once would fail the
            // same way, a busy loop (io_uring's accept fails for want of a descriptor before it even
            // looks for a connection, so also with an empty queue). Pause briefly; a closing
            // connection may free a descriptor meanwhile.
            server.config().setAutoRead(false);
            server.eventLoop().schedule(() -> {
                if (server.isOpen()) {
                    server.config().setAutoRead(true);
                }
            }, PAUSE_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * No reserve: resets the whole accept queue in the kernel, which needs no descriptor.
     *
     * @return how many the kernel said were queued (each was reset, and counts as one overload);
     *     -1 if the queue could not be reset
     */
    private int resetQueue(Channel server, Socket socket) {
        if (!fixedPort) {
            return -1; // the kernel would move an ephemeral listener to a new port (see ListenQueue)
        }
        int queued;
        try {
            queued = ListenQueue.resetAll(socket.intValue(), Listeners.BACKLOG);
        } catch (IOException | RuntimeException e) {
            ConnectionLog.queueResetFailed(direction, server.localAddress(), e);
            return -1;
        }
        if (queued > 0) {
            ConnectionLog.queueReset(direction, server.localAddress(), queued);
        }
        return Math.max(0, queued); // Linux always answers TCP_INFO on a listener
    }

    /** The child is not registered yet: no pipeline has seen it, so close its descriptor directly. */
    private static void resetUnregistered(Channel child) {
        try {
            child.config().setOption(ChannelOption.SO_LINGER, 0);
        } catch (ChannelException gone) {
            // the peer is gone already; closing is all that is left
        }
        child.unsafe().closeForcibly();
    }
}
