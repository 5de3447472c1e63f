package dev.sidecar.proxy.selftest;

import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.function.Consumer;

/**
 * Where the redirect self-test meets the relay: the one seam between them. While a
 * {@link SelfTest} probe is under way, the probe's connection (recognised by its local source
 * port) is caught here on arrival: its original destination goes to the self-test, and the relay
 * closes it instead of relaying it. The relay calls only {@link #catches}; thread-safe.
 */
public final class ProbeCatcher {
    /** One probe on its way: its source port, and who waits for its original destination. */
    private record Expected(int sourcePort, Consumer<InetSocketAddress> onArrival) {}

    private volatile Expected expected; // null: no probe under way

    /**
     * Whether the connection from {@code client} is the expected probe; if so its original
     * destination {@code target} (null when none) has been handed to the self-test, and the caller
     * must close the connection without relaying it. Called on an event loop; cheap when no probe
     * is under way.
     */
    public boolean catches(InetSocketAddress client, InetSocketAddress target) {
        Expected e = expected;
        if (e == null || client.getPort() != e.sourcePort() || !isLocal(client)) {
            return false;
        }
        e.onArrival().accept(target);
        return true;
    }

    /** Expects the probe from local source port {@code sourcePort}; its original destination goes to {@code onArrival}. */
    void expect(int sourcePort, Consumer<InetSocketAddress> onArrival) {
        expected = new Expected(sourcePort, onArrival);
    }

    /** Ends the expectation set by {@link #expect}. */
    void clear() {
        expected = null;
    }

    // The probe comes from this pod; its source is one of our addresses, never a remote peer's.
    private static boolean isLocal(InetSocketAddress client) {
        try {
            return client.getAddress().isLoopbackAddress() || NetworkInterface.getByInetAddress(client.getAddress()) != null;
        } catch (SocketException e) {
            return false;
        }
    }
}
