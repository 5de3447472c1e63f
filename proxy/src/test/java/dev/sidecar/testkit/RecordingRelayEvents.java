package dev.sidecar.testkit;

import dev.sidecar.proxy.relay.RelayEvents;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/** Records every relay event as a short line, e.g. {@code "failed outbound refused"}. */
public final class RecordingRelayEvents implements RelayEvents {
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final List<long[]> closed = new CopyOnWriteArrayList<>();
    private final LongAdder relayedFromClient = new LongAdder();
    private final LongAdder relayedFromTarget = new LongAdder();

    @Override
    public void opened(Direction direction, int targetPort) {
        events.add("opened " + direction.label());
    }

    @Override
    public void connected(Direction direction, long connectNanos) {
        events.add("connected " + direction.label());
    }

    @Override
    public void failed(Direction direction, Failure reason) {
        events.add("failed " + direction.label() + " " + reason.label());
    }

    @Override
    public void relayed(Direction direction, boolean fromClient, int bytes) {
        (fromClient ? relayedFromClient : relayedFromTarget).add(bytes);
    }

    @Override
    public void closed(Direction direction, int targetPort, long fromClient, long fromTarget, long durationNanos) {
        events.add("closed " + direction.label());
        closed.add(new long[] {fromClient, fromTarget});
    }

    public List<String> events() {
        return events;
    }

    /** Byte counts {client→target, target→client} of each closed connection. */
    public List<long[]> closedCounts() {
        return closed;
    }

    /** Bytes reported by {@code relayed} so far, {client→target, target→client}, open connections included. */
    public long[] relayedSoFar() {
        return new long[] {relayedFromClient.sum(), relayedFromTarget.sum()};
    }
}
