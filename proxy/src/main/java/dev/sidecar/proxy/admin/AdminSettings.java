package dev.sidecar.proxy.admin;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;

/**
 * Where the admin endpoint listens and what it allows.
 *
 * @param bindAddresses     one listening socket per address; at least one
 * @param shutdownEndpoint  whether {@code POST /shutdown} exists (from loopback peers only)
 * @param idleTimeout       an admin connection with no traffic for this long is closed
 * @param requestDeadline   a request must be complete (headers and any body) this long after the
 *                          connection was accepted, or after its first byte on a kept-alive
 *                          connection; trickled bytes do not extend it
 * @param maxConnections    admin connections open at once; any further one is closed as soon as
 *                          it is accepted
 */
public record AdminSettings(List<InetSocketAddress> bindAddresses, boolean shutdownEndpoint, Duration idleTimeout,
                            Duration requestDeadline, int maxConnections) {

    /** Default port of the admin endpoint, also the default of {@code --admin-port}. */
    public static final int DEFAULT_PORT = 4191;

    /** Long enough for any probe or scrape, short enough that stray connections do not pile up. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);

    /**
     * A probe or scrape request is a few hundred bytes: even a congested link delivers it in well
     * under this. Without a deadline a client trickling one byte every few seconds would keep its
     * connection (and a descriptor) forever, since every byte restarts the idle timeout.
     */
    public static final Duration DEFAULT_REQUEST_DEADLINE = Duration.ofSeconds(10);

    /**
     * Kubelet probes and a few scrapers need a handful of connections; 64 leaves room for bursts
     * while bounding the descriptors a flood of admin clients can take from the relay.
     */
    public static final int DEFAULT_MAX_CONNECTIONS = 64;

    public AdminSettings {
        bindAddresses = List.copyOf(bindAddresses);
        if (bindAddresses.isEmpty()) {
            throw new IllegalArgumentException("the admin endpoint needs at least one bind address");
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("admin idle timeout must be positive, got " + idleTimeout);
        }
        if (requestDeadline.isNegative() || requestDeadline.isZero()) {
            throw new IllegalArgumentException("admin request deadline must be positive, got " + requestDeadline);
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("admin connection limit must be at least 1, got " + maxConnections);
        }
    }

    /**
     * All interfaces, as kubelet probes need: {@code 0.0.0.0:port}, plus {@code [::]:port} (IPv6
     * only, so the two sockets do not collide) when {@code ipv6}.
     */
    public static AdminSettings allInterfaces(int port, boolean ipv6, boolean shutdownEndpoint) {
        InetSocketAddress v4 = new InetSocketAddress(address("0.0.0.0"), port);
        List<InetSocketAddress> addresses = ipv6
                ? List.of(v4, new InetSocketAddress(address("::"), port))
                : List.of(v4);
        return new AdminSettings(addresses, shutdownEndpoint, DEFAULT_IDLE_TIMEOUT, DEFAULT_REQUEST_DEADLINE,
                DEFAULT_MAX_CONNECTIONS);
    }

    /** One address only, e.g. {@code 127.0.0.1:0} in tests. */
    public static AdminSettings on(InetSocketAddress address, boolean shutdownEndpoint) {
        return new AdminSettings(List.of(address), shutdownEndpoint, DEFAULT_IDLE_TIMEOUT, DEFAULT_REQUEST_DEADLINE,
                DEFAULT_MAX_CONNECTIONS);
    }

    /** The same settings with another idle timeout. */
    public AdminSettings withIdleTimeout(Duration timeout) {
        return new AdminSettings(bindAddresses, shutdownEndpoint, timeout, requestDeadline, maxConnections);
    }

    /** The same settings with another request deadline. */
    public AdminSettings withRequestDeadline(Duration deadline) {
        return new AdminSettings(bindAddresses, shutdownEndpoint, idleTimeout, deadline, maxConnections);
    }

    /** The same settings with another connection limit. */
    public AdminSettings withMaxConnections(int limit) {
        return new AdminSettings(bindAddresses, shutdownEndpoint, idleTimeout, requestDeadline, limit);
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal); // a literal: no name lookup happens
        } catch (UnknownHostException e) {
            throw new AssertionError(literal, e);
        }
    }
}
