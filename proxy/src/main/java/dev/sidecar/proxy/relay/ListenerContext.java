package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.relay.RelayEvents.Direction;
import dev.sidecar.proxy.selftest.ProbeCatcher;
import java.util.function.Supplier;

/**
 * What every connection accepted by one listener shares: which way it goes, how its target is
 * found, the loop guard in force, the self-test's probe catcher, which inbound destinations are allowed, where events go and how the
 * upstream side is connected. Immutable; one per listener.
 *
 * @param guard the loop guard in force when a connection is accepted
 */
record ListenerContext(Direction direction, TargetResolver resolver, Supplier<LoopGuard> guard, ProbeCatcher probes,
        InboundDestinations destinations, RelayEvents events, UpstreamConnector upstream) {}
