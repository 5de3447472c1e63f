package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.net.LocalAddresses;
import dev.sidecar.proxy.relay.RelayEvents.Direction;
import dev.sidecar.proxy.relay.RelayEvents.Failure;
import java.net.InetSocketAddress;

/**
 * Which original destinations the inbound listener may relay to: the pod's own addresses only.
 * PREROUTING redirects every TCP packet that enters the pod, whatever its destination, and the
 * proxy's own connections are exempt from the redirect; relaying a connection addressed to some
 * other host would make the pod an open TCP relay for anyone who can route a packet to it
 * ({@link Failure#NOT_LOCAL}). Outbound connections may go anywhere. Immutable; shared by every
 * connection.
 */
public final class InboundDestinations {
    /** Relays inbound connections to any destination: for tests and benchmarks with a fixed target. */
    public static final InboundDestinations ANY = new InboundDestinations(null);

    private final LocalAddresses local; // null: any destination

    private InboundDestinations(LocalAddresses local) {
        this.local = local;
    }

    /** Inbound connections are relayed only to one of {@code local}. */
    public static InboundDestinations only(LocalAddresses local) {
        return new InboundDestinations(local);
    }

    /** Why a connection accepted in {@code direction} must not be relayed to {@code target}, or null. Runs on an event loop. */
    Failure check(Direction direction, InetSocketAddress target) {
        if (direction != Direction.INBOUND || local == null || local.contains(target.getAddress())) {
            return null;
        }
        return Failure.NOT_LOCAL;
    }

    @Override
    public String toString() {
        return local == null ? "any destination" : "only to " + local;
    }
}
