package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.relay.RelayEvents.Failure;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.socket.DuplexChannel;
import java.net.NoRouteToHostException;
import java.util.Locale;

/**
 * The ways the relay ends a direction or a connection, shared by both handlers: a half-close
 * (FIN) after pending writes, and a reset (RST). A clean close needs no helper: it happens once
 * both FINs went out, when nothing is pending.
 */
final class Relay {
    private Relay() {}

    /**
     * Sends a FIN on {@code ch} once everything written to it so far has reached the socket, then
     * tells {@code then}. Writes complete in order, so an empty write's completion means the
     * earlier ones are done; shutting the output down earlier would drop them.
     */
    static void shutdownOutputAfterFlush(Channel ch, ChannelFutureListener then) {
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) flushed -> {
            if (flushed.isSuccess()) {
                ((DuplexChannel) ch).shutdownOutput().addListener(then);
            } else {
                then.operationComplete(flushed);
            }
        });
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

    /** Why an upstream connect failed, from Netty's exception. */
    static Failure connectFailure(Throwable cause) {
        if (cause instanceof ConnectTimeoutException) {
            return Failure.TIMEOUT;
        }
        String message = String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT);
        if (cause instanceof NoRouteToHostException || message.contains("unreachable") || message.contains("no route")) {
            return Failure.UNREACHABLE;
        }
        return Failure.REFUSED;
    }
}
