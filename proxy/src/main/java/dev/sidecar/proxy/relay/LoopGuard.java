package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.relay.RelayEvents.Failure;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Collection;

/**
 * Refuses connections the proxy must not relay, so it never connects to itself:
 * <ul>
 *   <li>no original destination at all: nothing redirected it ({@link Failure#NO_ORIGINAL_DST});
 *   <li>the original destination is a port one of our listeners uses ({@link Failure#LOOP}). A
 *       direct connection to 4140/4143 reports the listener itself as its original destination,
 *       and relaying it would connect the proxy to itself forever;
 *   <li>the original destination equals the accepted socket's own local address: conntrack has an
 *       entry but no NAT rewrote it, so this is a direct connection to us
 *       ({@link Failure#NO_ORIGINAL_DST}).
 * </ul>
 * Immutable and shared by every connection of a listener set.
 */
public final class LoopGuard {
    private final int[] ownPorts;

    /** @param ownPorts the ports the proxy's listeners are bound to */
    public LoopGuard(Collection<Integer> ownPorts) {
        this.ownPorts = ownPorts.stream().mapToInt(Integer::intValue).distinct().sorted().toArray();
    }

    /**
     * Why {@code target} must be refused for a connection accepted on {@code local}, or null if it
     * may be relayed. {@code local} is null in tproxy mode, where the target is the accepted
     * socket's local address by design; the listener ports still count as a loop.
     */
    public Failure check(InetSocketAddress target, InetSocketAddress local) {
        if (target == null) {
            return Failure.NO_ORIGINAL_DST;
        }
        if (Arrays.binarySearch(ownPorts, target.getPort()) >= 0) {
            return Failure.LOOP;
        }
        if (target.equals(local)) {
            return Failure.NO_ORIGINAL_DST;
        }
        return null;
    }

    @Override
    public String toString() {
        return "LoopGuard" + Arrays.toString(ownPorts);
    }
}
