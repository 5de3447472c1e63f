package dev.sidecar.proxy.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The addresses this network namespace owns: every address of every interface, both families,
 * except loopback ones (127.0.0.0/8, ::1). Redirected inbound connections arrive through
 * PREROUTING, which loopback traffic never takes, so a loopback original destination can only be
 * a forged one, aimed at the pod's loopback-only services.
 *
 * <p>{@link #contains} runs on event loops, once per inbound connection: it looks the address up
 * in an immutable snapshot (about 20 ns) and makes no system call. The snapshot is read again (one
 * enumeration of the interfaces: 0.3 to 0.5 ms measured with five interfaces) on the thread that asks:
 * <ul>
 *   <li>on a miss, at most once per {@link #MISS_REREAD}: an address that a CNI plugin adds after
 *       start-up is served from its first connection, while a peer that sends connections to
 *       foreign addresses makes us re-read at most ten times a second (at most 0.5 % of one event
 *       loop), not once per connection;
 *   <li>on a hit, once the snapshot is older than {@link #MAX_AGE}: an address taken away from
 *       the pod (and perhaps given to another host) stops being served within seconds.
 * </ul>
 * One caller at a time re-reads (the others use the snapshot in hand). A failed re-read keeps the
 * snapshot and is logged. A {@link #pinned} set (from {@code --inbound-ips}) is never re-read.
 */
public final class LocalAddresses {
    private static final Logger log = LoggerFactory.getLogger(LocalAddresses.class);

    /** Shortest time between two re-reads caused by misses. */
    public static final long MISS_REREAD = TimeUnit.MILLISECONDS.toNanos(100);
    /** Age after which a hit re-reads the snapshot first. */
    public static final long MAX_AGE = TimeUnit.SECONDS.toNanos(5);

    /** Where the addresses come from: the namespace's interfaces, or a test's list. */
    @FunctionalInterface
    public interface Source {
        Set<InetAddress> read() throws IOException;
    }

    private final Source source; // null: pinned, never re-read
    private final LongSupplier clock;
    // Written by whichever event loop re-reads, read by all: an immutable set behind a volatile.
    private volatile Set<InetAddress> snapshot;
    private final AtomicLong readAt; // clock value of the last read; claiming a re-read is a CAS on it

    LocalAddresses(Source source, LongSupplier clock) throws IOException {
        this.source = source;
        this.clock = clock;
        this.snapshot = normalised(source.read());
        this.readAt = new AtomicLong(clock.getAsLong());
    }

    private LocalAddresses(Set<InetAddress> pinned) {
        this.source = null;
        this.clock = () -> 0;
        this.snapshot = pinned;
        this.readAt = new AtomicLong();
    }

    /** The namespace's addresses, read now from its interfaces and kept current as described above. */
    public static LocalAddresses ofNamespace() throws IOException {
        return new LocalAddresses(LocalAddresses::readInterfaces, System::nanoTime);
    }

    /** Exactly {@code addresses}, never re-read ({@code --inbound-ips}). */
    public static LocalAddresses pinned(Collection<InetAddress> addresses) {
        return new LocalAddresses(normalised(addresses));
    }

    /** Whether {@code address} is one of ours. Cheap; may re-read the snapshot (see the class comment). */
    public boolean contains(InetAddress address) {
        if (source == null) {
            return snapshot.contains(address);
        }
        long last = readAt.get();
        long age = clock.getAsLong() - last;
        boolean hit = snapshot.contains(address);
        if ((hit ? age < MAX_AGE : age < MISS_REREAD) || !readAt.compareAndSet(last, last + age)) {
            return hit;
        }
        reread();
        return snapshot.contains(address);
    }

    /** The addresses as of the last read. */
    public Set<InetAddress> snapshot() {
        return snapshot;
    }

    /** Whether this set is the namespace's, kept current, rather than a pinned list. */
    public boolean followsNamespace() {
        return source != null;
    }

    private void reread() {
        try {
            Set<InetAddress> now = normalised(source.read());
            if (!now.equals(snapshot)) {
                log.info("local addresses changed: {}", now);
            }
            snapshot = now;
        } catch (IOException | RuntimeException e) {
            log.warn("cannot re-read the namespace's addresses, keeping {}: {}", snapshot, e.toString());
        }
    }

    /** Every address of every interface of this namespace, loopback ones included (filtered later). */
    static Set<InetAddress> readInterfaces() throws IOException {
        Set<InetAddress> all = new HashSet<>();
        try {
            NetworkInterface.networkInterfaces().forEach(i -> i.inetAddresses().forEach(all::add));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } catch (SocketException e) {
            throw e;
        }
        return all;
    }

    /**
     * Without scope ids (an IPv6 original destination has none; {@link InetAddress#equals} ignores
     * them, but the logged set reads better) and without loopback addresses.
     */
    private static Set<InetAddress> normalised(Collection<InetAddress> addresses) {
        Set<InetAddress> out = new HashSet<>();
        for (InetAddress a : addresses) {
            if (!a.isLoopbackAddress()) {
                try {
                    out.add(InetAddress.getByAddress(a.getAddress()));
                } catch (UnknownHostException impossible) {
                    throw new IllegalArgumentException(impossible);
                }
            }
        }
        return Set.copyOf(out);
    }

    @Override
    public String toString() {
        return (source == null ? "pinned " : "namespace ") + snapshot;
    }
}
