package dev.sidecar.proxy.relay;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/**
 * How many connections the relay may hold open, derived from the process's file-descriptor limit
 * when {@code --max-connections} does not say. Each relayed connection costs two descriptors (the
 * accepted socket and the upstream one); the rest of the limit is a reserve for the JVM's own
 * files (jars, epoll and event descriptors per event loop), the listeners, the admin endpoint and
 * the accept-and-reset that answers connections over the bound.
 */
public final class ConnectionBudget {
    /** Descriptors one relayed connection holds. */
    static final int FDS_PER_CONNECTION = 2;
    /** The reserve is an eighth of the limit, but never less than this ... */
    static final long MIN_RESERVE = 64;
    /** ... nor more than this: past a few thousand, the JVM's needs do not grow with the limit. */
    static final long MAX_RESERVE = 1024;

    private ConnectionBudget() {}

    /**
     * The default bound for a soft {@code RLIMIT_NOFILE} of {@code fdLimit}: what is left after the
     * reserve, halved; at least 1 (a limit too small for any connection still answers each one,
     * by resetting it), at most {@link Integer#MAX_VALUE}. For 256: 96; for 1024: 448; for 1048576: 523776.
     */
    public static int defaultMaxConnections(long fdLimit) {
        long reserve = Math.min(MAX_RESERVE, Math.max(MIN_RESERVE, fdLimit / 8));
        long connections = (fdLimit - reserve) / FDS_PER_CONNECTION;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, connections));
    }

    /**
     * This process's soft {@code RLIMIT_NOFILE} as it is now, after the JVM raised it to the hard
     * limit at start-up where it may ({@code -XX:+MaxFDLimit}, on by default); -1 if unknown.
     */
    public static long processFdLimit() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof UnixOperatingSystemMXBean unix ? unix.getMaxFileDescriptorCount() : -1;
    }
}
