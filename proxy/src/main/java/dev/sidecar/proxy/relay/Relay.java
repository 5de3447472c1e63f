package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.net.Errno;
import dev.sidecar.proxy.relay.RelayEvents.Failure;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import java.io.IOException;
import java.net.NoRouteToHostException;
import java.nio.channels.NotYetConnectedException;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.function.Consumer;

/**
 * The ways the relay ends a direction or a connection, shared by both handlers: a half-close
 * (FIN) after pending writes, and a reset (RST). A clean close needs no helper: it happens once
 * both FINs went out, when nothing is pending.
 */
final class Relay {
    private Relay() {}

    /**
     * Sends a FIN on {@code ch} once everything written to it so far has reached the socket, then
     * tells {@code passed} whether it went out. Writes complete in order, so an empty write's
     * completion means the earlier ones are done; shutting the output down earlier would drop them.
     */
    static void shutdownOutputAfterFlush(Channel ch, Consumer<Boolean> passed) {
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) flushed ->
                passed.accept(flushed.isSuccess() && shutdownOutput(ch)));
    }

    /**
     * {@code shutdown(SHUT_WR)} on the channel's socket, false if the socket is already reset or
     * closed. Not {@link DuplexChannel#shutdownOutput()}: Netty builds a
     * {@code ChannelOutputShutdownException}, stack trace and all, on every call, to fail writes
     * that cannot be pending here (the side whose bytes fill {@code ch} has sent its FIN, and they
     * are all written). Going round it took a tenth off the proxy's CPU per connection on
     * io_uring and a twentieth on epoll (bench/LIMITS.md). Netty's own view follows the socket's:
     * {@code isOutputShutdown()} reads the same state.
     */
    static boolean shutdownOutput(Channel ch) {
        try {
            ((Socket) ((UnixChannel) ch).fd()).shutdown(false, true);
            return true;
        } catch (IOException | NotYetConnectedException gone) { // Netty's errors for ENOTCONN, closed, reset
            return false;
        }
    }

    /**
     * Aborts {@code ch} with a TCP reset: SO_LINGER 0 makes close() send RST and discard unsent
     * data, so the peer cannot mistake an aborted stream for a complete one.
     */
    static void reset(Channel ch) {
        if (ch.isOpen()) {
            try {
                ch.config().setOption(ChannelOption.SO_LINGER, 0);
            } catch (ChannelException alreadyGone) {
                // the socket died between isOpen and setsockopt; close() below is all that is left
            }
        }
        ch.close();
    }

    /**
     * Why an established relay failed on one side: {@link Failure#DEAD_PEER} when the kernel gave
     * up on the peer (ETIMEDOUT after keepalive or the user timeout; EHOSTUNREACH or ENETUNREACH
     * when an ICMP error or a failed neighbour lookup came first, which the kernel then reports
     * instead), else {@link Failure#RESET}.
     */
    static Failure endFailure(Throwable cause) {
        if (cause instanceof Errors.NativeIoException e) {
            int errno = -e.expectedErr();
            if (errno == Errno.ETIMEDOUT || errno == Errno.EHOSTUNREACH || errno == Errno.ENETUNREACH) {
                return Failure.DEAD_PEER;
            }
        }
        return Failure.RESET;
    }

    /**
     * Why an upstream connect failed, from Netty's exception: its type where that says enough, else
     * the errno its message (or a cause's) names. ECONNREFUSED is {@code refused}; EADDRNOTAVAIL
     * (no local port left to that destination) is {@code no_local_port}; EMFILE, ENFILE and
     * ENOBUFS (no descriptor or buffer for the upstream socket) are {@code overload}; ETIMEDOUT
     * (the kernel gave up on the handshake) is {@code timeout}; no route, an unreachable network,
     * and EPERM/EACCES (a local firewall rule dropped the SYN) are {@code unreachable}. Anything
     * else keeps the old answer, {@code refused}; the log line carries the full message.
     */
    static Failure connectFailure(Throwable cause) {
        if (cause instanceof ConnectTimeoutException) {
            return Failure.TIMEOUT;
        }
        if (cause instanceof NoRouteToHostException) {
            return Failure.UNREACHABLE;
        }
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            OptionalInt errno = Errno.fromMessage(t.getMessage());
            if (errno.isPresent()) {
                return switch (errno.getAsInt()) {
                    case Errno.EADDRNOTAVAIL -> Failure.NO_LOCAL_PORT;
                    case Errno.EMFILE, Errno.ENFILE, Errno.ENOBUFS -> Failure.OVERLOAD;
                    case Errno.ETIMEDOUT -> Failure.TIMEOUT;
                    case Errno.EHOSTUNREACH, Errno.ENETUNREACH, Errno.EPERM, Errno.EACCES -> Failure.UNREACHABLE;
                    default -> Failure.REFUSED;
                };
            }
        }
        String message = String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT);
        return message.contains("unreachable") || message.contains("no route") ? Failure.UNREACHABLE : Failure.REFUSED;
    }
}
