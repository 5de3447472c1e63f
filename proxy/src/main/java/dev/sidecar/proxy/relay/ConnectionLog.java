package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.relay.RelayEvents.Direction;
import dev.sidecar.proxy.relay.RelayEvents.Failure;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's log lines, in one place so they read alike: one debug line per finished connection,
 * one warn line per failure, each naming direction, client and destination.
 */
final class ConnectionLog {
    private static final Logger log = LoggerFactory.getLogger(ConnectionLog.class);

    private ConnectionLog() {}

    static void lookupFailed(Direction direction, SocketAddress client, Exception e) {
        log.warn("{} {}: cannot read original destination: {}", direction.label(), client, e.getMessage());
    }

    static void refused(Direction direction, SocketAddress client, InetSocketAddress target, Failure why) {
        log.warn("{} {} -> {}: refused ({}): {}", direction.label(), client, target, why.label(), switch (why) {
            case LOOP -> "the destination is one of the proxy's own listeners";
            case NOT_LOCAL -> "the destination is not one of the pod's own addresses; the proxy is no relay to other hosts";
            default -> "connection was not redirected";
        });
    }

    static void connectFailed(Direction direction, SocketAddress client, InetSocketAddress target, Failure why, Throwable cause) {
        log.warn("{} {} -> {}: connect failed ({}): {}", direction.label(), client, target, why.label(), cause.getMessage());
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
            log.warn("{} {}: {} side failed unexpectedly; resetting the connection", direction.label(), client, side, cause);
        }
    }
}
