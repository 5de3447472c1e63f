package dev.sidecar.proxy.admin;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds the admin connections open at once, so a flood of admin clients cannot take the
 * descriptors the relay needs. A connection over the limit is closed as soon as it is accepted:
 * the client gets an answer (end of stream) instead of waiting in the backlog, and its descriptor
 * is free again at once.
 */
final class ConnectionLimit {
    private static final Logger log = LoggerFactory.getLogger(ConnectionLimit.class);

    private final int max;
    private final AdminMetrics metrics;
    // Atomic although the admin endpoint has one event loop: close listeners may run elsewhere
    // during shutdown, and the cost is nil at admin rates.
    private final AtomicInteger open = new AtomicInteger();

    ConnectionLimit(int max, AdminMetrics metrics) {
        this.max = max;
        this.metrics = metrics;
    }

    /**
     * Takes a slot for {@code accepted}, freed when it closes; or closes it at once when every slot
     * is taken.
     *
     * @return whether the connection may be served
     */
    boolean admit(Channel accepted) {
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            metrics.overLimit();
            log.debug("admin: {} connections open, closing {} at once", max, accepted.remoteAddress());
            accepted.close();
            return false;
        }
        accepted.closeFuture().addListener((ChannelFutureListener) closed -> open.decrementAndGet());
        return true;
    }

    /** Connections holding a slot now. */
    int open() {
        return open.get();
    }
}
