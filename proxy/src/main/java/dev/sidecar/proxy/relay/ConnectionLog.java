package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.relay.RelayEvents.Direction;
import dev.sidecar.proxy.relay.RelayEvents.Failure;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's log lines, in one place so they read alike: one debug line per finished connection,
 * and a warn line per failure, each naming direction, client and destination.
 *
 * <p>Failures are what an attacker or a broken peer can produce by the thousand, so their warn
 * lines go through a {@link LogRateLimiter}: at most one per reason and direction every
 * {@link #INTERVAL}, the next one saying how many were left out. The left-out lines are still
 * written at debug, and stack traces appear only at debug. Metrics count every failure.
 */
final class ConnectionLog {
    /** At most one warn line per failure reason and direction per this interval. */
    static final Duration INTERVAL = Duration.ofSeconds(10);

    private static final Logger log = LoggerFactory.getLogger(ConnectionLog.class);
    private static final LogRateLimiter limiter = new LogRateLimiter(INTERVAL);

    /** What the limiter counts separately: one kind of failure in one direction. */
    private record Key(Direction direction, String kind) {}

    private ConnectionLog() {}

    static void lookupFailed(Direction direction, SocketAddress client, Exception e) {
        warn(direction, Failure.NO_ORIGINAL_DST.label(), null, "{} {}: cannot read original destination: {}",
                direction.label(), client, e.getMessage());
    }

    static void refused(Direction direction, SocketAddress client, InetSocketAddress target, Failure why) {
        warn(direction, why.label(), null, "{} {} -> {}: refused ({}): {}", direction.label(), client, target, why.label(), switch (why) {
            case LOOP -> "the destination is one of the proxy's own listeners";
            case NOT_LOCAL -> "the destination is not one of the pod's own addresses; the proxy is no relay to other hosts";
            case OVERLOAD -> "no file descriptor left for the upstream socket";
            default -> "connection was not redirected";
        });
    }

    static void connectFailed(Direction direction, SocketAddress client, InetSocketAddress target, Failure why, Throwable cause) {
        warn(direction, why.label(), cause, "{} {} -> {}: connect failed ({}): {}", direction.label(), client, target,
                why.label(), cause.getMessage());
    }

    /** A connection came over {@code --max-connections} and was reset without connecting upstream. */
    static void overloaded(Direction direction, SocketAddress client, int maxConnections) {
        warn(direction, Failure.OVERLOAD.label(), null, "{} {}: reset (overload): {} connections open, the limit"
                + " (--max-connections)", direction.label(), client, maxConnections);
    }

    /**
     * Accepting failed for want of a file descriptor (EMFILE/ENFILE); {@code reset} connections
     * were taken from the backlog with the reserve descriptor and reset, so none waits unanswered.
     */
    static void outOfDescriptors(Direction direction, SocketAddress listener, String error, int reset) {
        if (reset > 0) {
            warn(direction, "accept_" + Failure.OVERLOAD.label(), null, "{} {}: accept failed ({}): reset {} waiting"
                    + " connection(s) with the reserve descriptor", direction.label(), listener, error, reset);
        } else {
            warn(direction, "accept_" + Failure.OVERLOAD.label(), null, "{} {}: accept failed ({}): the reserve"
                    + " descriptor was taken; accepting retries every {} ms, connections wait until one closes",
                    direction.label(), listener, error, AcceptGate.PAUSE_MILLIS);
        }
    }

    /** Out of descriptors and the reserve taken: the kernel reset the listener's whole queue. */
    static void queueReset(Direction direction, SocketAddress listener, int queued) {
        warn(direction, "accept_" + Failure.OVERLOAD.label(), null, "{} {}: accept failed (EMFILE) and the reserve"
                + " descriptor was taken: reset the {} waiting connection(s) in the kernel", direction.label(), listener, queued);
    }

    static void queueResetFailed(Direction direction, SocketAddress listener, Exception e) {
        warn(direction, "accept_queue_reset", e, "{} {}: cannot reset the accept queue: {}", direction.label(), listener,
                e.getMessage());
    }

    static void closed(Direction direction, SocketAddress client, InetSocketAddress target, long fromClient, long fromTarget,
            long durationNanos, String ending) {
        if (log.isDebugEnabled()) {
            log.debug("{} {} -> {} sent={} received={} duration={}ms end={}", direction.label(), client, target,
                    fromClient, fromTarget, durationNanos / 1_000_000, ending);
        }
    }

    /**
     * One side of a connection failed. An I/O error is a peer's doing (a reset, say) and routine;
     * anything else is a fault of ours, and must not pass as a peer's reset.
     */
    static void sideFailed(Direction direction, SocketAddress client, String side, Throwable cause) {
        if (cause instanceof IOException) {
            log.debug("{} {}: {} side failed", direction.label(), client, side, cause);
        } else {
            warn(direction, "unexpected", cause, "{} {}: {} side failed unexpectedly ({}); resetting the connection",
                    direction.label(), client, side, cause.toString());
        }
    }

    /**
     * Writes a warn line unless the limiter suppresses it (then at debug, so debug still shows
     * every failure); {@code cause}'s stack trace only at debug.
     */
    private static void warn(Direction direction, String kind, Throwable cause, String format, Object... args) {
        long suppressed = limiter.permit(new Key(direction, kind));
        if (suppressed != LogRateLimiter.SUPPRESS && log.isWarnEnabled()) {
            log.warn(format + LogRateLimiter.suffix(suppressed, INTERVAL), args);
        }
        if (log.isDebugEnabled()) {
            Object[] withCause = Arrays.copyOf(args, args.length + 1);
            withCause[args.length] = cause; // SLF4J takes a trailing Throwable as the stack trace
            if (suppressed == LogRateLimiter.SUPPRESS || cause != null) {
                log.debug(format, cause != null ? withCause : args);
            }
        }
    }
}
