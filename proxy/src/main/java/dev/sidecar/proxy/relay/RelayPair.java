package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.relay.RelayEvents.Failure;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;

/**
 * The state of one relayed connection pair and the ways it ends, held by both its handlers:
 * {@link FrontendHandler} (the accepted side) and {@link BackendHandler} (the upstream side). It
 * counts the bytes each way, passes each side's FIN on after its data, and decides whether the
 * pair ends cleanly (both FINs delivered), by reset, or by a refusal, reporting each once.
 *
 * <p>Both channels are registered on the same event loop (see {@link UpstreamConnector}), so every
 * method runs on one thread: the fields are plain, with no locks and no volatile.
 */
final class RelayPair {
    private final ListenerContext listener;
    final Channel client;
    private final long openedAt = System.nanoTime();
    private Channel upstream; // null until the target is known and allowed
    private InetSocketAddress target;
    private long fromClient;
    private long fromTarget;
    private boolean upstreamConnected;
    private boolean clientEof; // the client sent FIN
    private boolean targetEof; // the target sent FIN
    private boolean clientFinPassed; // ... and the target has received it
    private boolean targetFinPassed; // ... and the client has received it
    private String ending; // how the connection ended; the first cause wins

    RelayPair(ListenerContext listener, Channel client) {
        this.listener = listener;
        this.client = client;
    }

    /** The target is known and allowed: the relay starts, and its end will be reported. */
    void opened(InetSocketAddress target, Channel upstream) {
        this.target = target;
        this.upstream = upstream;
        listener.events().opened(listener.direction(), target.getPort());
    }

    RelayEvents.Direction direction() {
        return listener.direction();
    }

    Channel upstream() {
        return upstream;
    }

    boolean relaying() {
        return upstream != null;
    }

    boolean clientEof() {
        return clientEof;
    }

    boolean targetEof() {
        return targetEof;
    }

    /**
     * The upstream connect succeeded: what the client sent meanwhile (bytes, then perhaps its FIN)
     * goes out now. Nothing is flushed to a connecting channel before: io_uring, unlike epoll,
     * does not hold a flush until the connect completes.
     */
    void connected() {
        upstreamConnected = true;
        listener.events().connected(listener.direction(), System.nanoTime() - openedAt);
        upstream.flush();
        if (clientEof) {
            passClientFin();
        }
    }

    /** Whether the upstream is connected, so bytes written to it may be flushed. */
    boolean upstreamConnected() {
        return upstreamConnected;
    }

    /** The upstream connect failed: count why, log it, reset the client. */
    void connectFailed(Throwable cause) {
        Failure why = Relay.connectFailure(cause);
        endAs(why.label());
        listener.events().failed(listener.direction(), why);
        ConnectionLog.connectFailed(listener.direction(), client.remoteAddress(), target, why, cause);
        Relay.reset(client);
    }

    /** The connection must not be relayed: count why, log it, reset the client. */
    void refuse(Failure why, InetSocketAddress target) {
        listener.events().failed(listener.direction(), why);
        ConnectionLog.refused(listener.direction(), client.remoteAddress(), target, why);
        Relay.reset(client);
    }

    void relayedFromClient(int bytes) {
        fromClient += bytes;
        listener.events().relayed(listener.direction(), true, bytes);
    }

    void relayedFromTarget(int bytes) {
        fromTarget += bytes;
        listener.events().relayed(listener.direction(), false, bytes);
    }

    /** The client sent FIN: pass it on to the target after the client's data, once connected. */
    void clientFin() {
        clientEof = true;
        if (upstreamConnected) {
            passClientFin();
        }
    }

    private void passClientFin() {
        Relay.shutdownOutputAfterFlush(upstream, passed -> {
            clientFinPassed = passed;
            afterFin(passed);
        });
    }

    /** The target sent FIN: pass it on to the client after the target's data. */
    void targetFin() {
        targetEof = true;
        Relay.shutdownOutputAfterFlush(client, passed -> {
            targetFinPassed = passed;
            afterFin(passed);
        });
    }

    /**
     * One side ({@code "client"} or {@code "target"}) failed: a peer the kernel gave up on is
     * {@link Failure#DEAD_PEER} ("gone"), anything else a reset.
     */
    void sideFailed(String side, Throwable cause) {
        Failure why = Relay.endFailure(cause);
        abort(why, side + (why == Failure.DEAD_PEER ? " gone" : " reset"));
    }

    /** The pair ends abnormally: reset both, so neither mistakes it for a complete stream. */
    void abort(Failure why, String how) {
        if (ending == null && relaying()) {
            listener.events().failed(listener.direction(), why);
        }
        endAs(how);
        if (upstream != null) {
            Relay.reset(upstream);
        }
        Relay.reset(client);
    }

    /** The upstream channel closed: unless both FINs went through, the client is reset. */
    void upstreamClosed() {
        if (client.isOpen() && !bothFinsPassed()) {
            abort(Failure.RESET, "target closed");
        }
    }

    /** The client channel closed: close or reset the upstream, and report the connection's end. */
    void clientClosed() {
        if (upstream != null && upstream.isOpen()) {
            if (bothFinsPassed()) {
                upstream.close();
            } else {
                Relay.reset(upstream); // an early end must not look like a complete stream upstream
            }
        }
        if (relaying()) {
            long duration = System.nanoTime() - openedAt;
            listener.events().closed(listener.direction(), target.getPort(), fromClient, fromTarget, duration);
            ConnectionLog.closed(listener.direction(), client.remoteAddress(), target, fromClient, fromTarget, duration,
                    ending != null ? ending : "aborted");
        }
    }

    private boolean bothFinsPassed() {
        return clientFinPassed && targetFinPassed;
    }

    private void afterFin(boolean passed) {
        if (!passed) {
            abort(Failure.RESET, "peer gone during half-close");
        } else if (bothFinsPassed()) {
            endAs("closed");
            client.close();
            upstream.close();
        }
    }

    private void endAs(String how) {
        if (ending == null) {
            ending = how;
        }
    }
}
