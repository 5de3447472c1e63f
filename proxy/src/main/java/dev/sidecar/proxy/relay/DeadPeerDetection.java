package dev.sidecar.proxy.relay;

import io.netty.channel.ChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How the kernel finds a relayed connection's peer gone (link down, host powered off, a NAT that
 * forgot the flow), so the relay is closed instead of staying ESTABLISHED for hours.
 *
 * <ul>
 *   <li>An idle connection is probed with TCP keepalive after {@code keepaliveIdle} of silence,
 *       then every {@code keepaliveIdle / 2} (at least 1 s).</li>
 *   <li>Data the peer does not acknowledge for {@code userTimeout} ends the connection
 *       ({@code TCP_USER_TIMEOUT}). When it is set the kernel also uses it for keepalive: the
 *       connection ends at the first probe at or after {@code userTimeout} of silence, whatever the
 *       probe count, so the count is not set (one system call less per socket). When it is off
 *       (zero: the kernel's default), three unanswered probes end an idle connection, and data
 *       in flight is given up only by the kernel's retransmission limit (about 15 minutes).</li>
 * </ul>
 *
 * <p>The options are raw {@code setsockopt(IPPROTO_TCP, ...)} values, which the epoll and io_uring
 * transports both accept, so one code path serves either. An accepted socket inherits them from
 * its listening socket, so they are set once per listener and once per upstream socket.
 *
 * @param keepaliveIdle silence before the first keepalive probe; whole seconds, 1 s to 32767 s
 * @param userTimeout   how long sent data may stay unacknowledged; zero leaves the kernel's default
 */
public record DeadPeerDetection(Duration keepaliveIdle, Duration userTimeout) {

    /** Linux {@code IPPROTO_TCP} option numbers, from {@code <netinet/tcp.h>}. */
    static final int IPPROTO_TCP = 6;
    static final IntegerUnixChannelOption TCP_KEEPIDLE = new IntegerUnixChannelOption("TCP_KEEPIDLE", IPPROTO_TCP, 4);
    static final IntegerUnixChannelOption TCP_KEEPINTVL = new IntegerUnixChannelOption("TCP_KEEPINTVL", IPPROTO_TCP, 5);
    static final IntegerUnixChannelOption TCP_KEEPCNT = new IntegerUnixChannelOption("TCP_KEEPCNT", IPPROTO_TCP, 6);
    static final IntegerUnixChannelOption TCP_USER_TIMEOUT =
            new IntegerUnixChannelOption("TCP_USER_TIMEOUT", IPPROTO_TCP, 18);

    /** {@code SO_KEEPALIVE} (SOL_SOCKET 1, option 9) as a raw option, settable on a listening socket too. */
    static final IntegerUnixChannelOption SO_KEEPALIVE = new IntegerUnixChannelOption("SO_KEEPALIVE", 1, 9);

    /** Unanswered probes that end an idle connection when there is no user timeout. */
    static final int KEEPALIVE_PROBES = 3;

    /** The kernel's limit for TCP_KEEPIDLE and TCP_KEEPINTVL, in seconds. */
    public static final long MAX_KEEPALIVE_SECONDS = 32767;

    /**
     * 10 s keepalive, as Linkerd's proxy uses, and a 20 s user timeout, as gRPC's keepalive
     * timeout: a vanished peer is found in 20 s, idle or busy, with 10 s to spare on the 30 s
     * promise for timer granularity. The price of the user timeout: a live peer that keeps its
     * receive window closed (stops reading) for longer while data waits for it is cut as well.
     */
    public static DeadPeerDetection defaults() {
        return new DeadPeerDetection(Duration.ofSeconds(10), Duration.ofSeconds(20));
    }

    public DeadPeerDetection {
        if (keepaliveIdle.toMillis() % 1000 != 0 || keepaliveIdle.getSeconds() < 1
                || keepaliveIdle.getSeconds() > MAX_KEEPALIVE_SECONDS) {
            throw new IllegalArgumentException("keepalive idle time must be whole seconds, 1s to "
                    + MAX_KEEPALIVE_SECONDS + "s, got " + keepaliveIdle);
        }
        if (userTimeout.isNegative() || userTimeout.toMillis() > Integer.MAX_VALUE
                || userTimeout.toNanos() % 1_000_000 != 0) {
            throw new IllegalArgumentException("user timeout must be whole milliseconds, 0 to "
                    + Integer.MAX_VALUE + "ms, got " + userTimeout);
        }
    }

    /** Seconds between keepalive probes: half the idle time, at least one. */
    public long keepaliveIntervalSeconds() {
        return Math.max(1, keepaliveIdle.getSeconds() / 2);
    }

    /** Whether {@code TCP_USER_TIMEOUT} is set (else the kernel's default applies). */
    public boolean hasUserTimeout() {
        return !userTimeout.isZero();
    }

    /**
     * The longest a vanished peer of an idle connection goes unnoticed: the first keepalive probe
     * at or after the user timeout (when set, at least one probe), else the last of three probes
     * going unanswered.
     */
    public Duration idleDetection() {
        long idle = keepaliveIdle.toMillis();
        long interval = keepaliveIntervalSeconds() * 1000;
        if (!hasUserTimeout()) {
            return Duration.ofMillis(idle + KEEPALIVE_PROBES * interval);
        }
        long probes = Math.max(1, ceilDiv(userTimeout.toMillis() - idle, interval));
        return Duration.ofMillis(idle + probes * interval);
    }

    /**
     * The longest a vanished peer goes unnoticed while data waits for its acknowledgement, or
     * {@code null} when only the kernel's retransmission limit applies (user timeout off).
     */
    public Duration busyDetection() {
        return hasUserTimeout() ? userTimeout : null;
    }

    /** The TCP options to set, in order: three values either way. */
    public Map<ChannelOption<Integer>, Integer> socketOptions() {
        Map<ChannelOption<Integer>, Integer> options = new LinkedHashMap<>();
        options.put(TCP_KEEPIDLE, (int) keepaliveIdle.getSeconds());
        options.put(TCP_KEEPINTVL, (int) keepaliveIntervalSeconds());
        if (hasUserTimeout()) {
            options.put(TCP_USER_TIMEOUT, (int) userTimeout.toMillis());
        } else {
            options.put(TCP_KEEPCNT, KEEPALIVE_PROBES);
        }
        return options;
    }

    /**
     * {@link #socketOptions()} after {@code SO_KEEPALIVE} on: everything one socket needs, set
     * once per listening socket (every accepted socket inherits it, keepalive timer included) and
     * once per upstream socket, so an accepted socket costs no {@code setsockopt} for it.
     */
    public Map<ChannelOption<Integer>, Integer> withKeepaliveOn() {
        Map<ChannelOption<Integer>, Integer> options = new LinkedHashMap<>();
        options.put(SO_KEEPALIVE, 1);
        options.putAll(socketOptions());
        return options;
    }

    @Override
    public String toString() {
        return "keepalive " + keepaliveIdle.getSeconds() + "s (probes every " + keepaliveIntervalSeconds() + "s), "
                + "user timeout " + (hasUserTimeout() ? userTimeout.toMillis() + "ms" : "off (kernel default)");
    }

    private static long ceilDiv(long a, long b) {
        return a <= 0 ? 0 : (a + b - 1) / b;
    }
}
