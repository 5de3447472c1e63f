package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.relay.RelayEvents.Failure;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Arrays;
import java.util.Collection;
import java.util.function.Consumer;

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
 * It also recognises the start-up self-test's own probe connection (by its source port) so that
 * the probe is answered, never relayed. Immutable and shared by every connection of a listener set.
 */
public final class LoopGuard {
    private final int[] ownPorts;
    private final int probePort; // 0: no probe expected
    private final Consumer<InetSocketAddress> onProbe;

    /** @param ownPorts the ports the proxy's listeners are bound to */
    public LoopGuard(Collection<Integer> ownPorts) {
        this(ownPorts.stream().mapToInt(Integer::intValue).distinct().sorted().toArray(), 0, null);
    }

    private LoopGuard(int[] ownPorts, int probePort, Consumer<InetSocketAddress> onProbe) {
        this.ownPorts = ownPorts;
        this.probePort = probePort;
        this.onProbe = onProbe;
    }

    /**
     * This guard, also expecting the self-test probe from local source port {@code probePort}; its
     * original destination goes to {@code onProbe} (on an event loop).
     */
    public LoopGuard expectingProbe(int probePort, Consumer<InetSocketAddress> onProbe) {
        return new LoopGuard(ownPorts, probePort, onProbe);
    }

    /** This guard without a probe expectation. */
    public LoopGuard withoutProbe() {
        return new LoopGuard(ownPorts, 0, null);
    }

    /**
     * Whether the connection from {@code client} is the expected self-test probe; if so its
     * original destination {@code target} (null when none) has been handed to the self-test.
     */
    public boolean answersProbe(InetSocketAddress client, InetSocketAddress target) {
        if (probePort == 0 || client.getPort() != probePort || !isLocal(client)) {
            return false;
        }
        onProbe.accept(target);
        return true;
    }

    // The probe comes from this pod; its source is one of our addresses, never a remote peer's.
    private static boolean isLocal(InetSocketAddress client) {
        try {
            return client.getAddress().isLoopbackAddress() || NetworkInterface.getByInetAddress(client.getAddress()) != null;
        } catch (SocketException e) {
            return false;
        }
    }

    /** Why {@code target} must be refused for a connection accepted on {@code local}, or null if it may be relayed. */
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
