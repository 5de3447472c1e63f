package dev.sidecar.proxy;

import dev.sidecar.iptables.RedirectConfig;
import dev.sidecar.proxy.relay.Listeners;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Proves, before {@code /ready} says so, that the kernel, the rules and the SO_ORIGINAL_DST lookup
 * work together: one connection from inside the pod to an outside IPv4 address must arrive on the
 * outbound listener with exactly that address as its original destination; with IPv6 rules, one to
 * an outside IPv6 address as well, when the pod has a global IPv6 address to dial from.
 *
 * <p>The probe sockets are created while the process is still root. The kernel records a socket's
 * owner when the socket is created, so after the drop to the proxy uid these sockets are still not
 * the proxy's in the eyes of {@code ignore-proxy-uid}: they take the path an application's
 * connection takes. The address dialled is a neighbour on a directly connected subnet of a
 * non-loopback interface (or the default gateway); when the redirect works, no packet leaves the pod.
 *
 * <p>Interfaces may appear after start-up (a CNI plugin, or a veth moved in later), so a missing
 * route is retried; a connection that is not redirected, or a wrong original destination, fails.
 * The IPv6 probe runs once the IPv4 one passed; a pod without a global IPv6 address on a subnet
 * (only loopback and link-local ones, or a lone /128) has no IPv6 neighbour to dial, which is logged.
 */
final class SelfTest {
    private static final Logger log = LoggerFactory.getLogger(SelfTest.class);
    private static final int FIRST_PROBE_PORT = 9; // discard: harmless even if a packet did leave

    // By the time IPv4 passed the pod's interfaces are up; IPv6 retries only while a fresh address
    // finishes duplicate address detection.
    private static final int IPV6_ATTEMPTS = 5;

    private final Deque<SocketChannel> ipv4;
    private final Deque<SocketChannel> ipv6; // empty without IPv6 rules
    private final Duration retryEvery;

    private SelfTest(Deque<SocketChannel> ipv4, Deque<SocketChannel> ipv6, Duration retryEvery) {
        this.ipv4 = ipv4;
        this.ipv6 = ipv6;
        this.retryEvery = retryEvery;
    }

    /**
     * Makes the probe sockets, one per attempt, IPv6 ones only when {@code ipv6}; call while still
     * root.
     */
    static SelfTest prepare(int attempts, Duration retryEvery, boolean ipv6) throws IOException {
        Deque<SocketChannel> v4 = new ArrayDeque<>();
        Deque<SocketChannel> v6 = new ArrayDeque<>();
        try {
            for (int i = 0; i < attempts; i++) {
                v4.add(SocketChannel.open(StandardProtocolFamily.INET));
            }
            for (int i = 0; ipv6 && i < IPV6_ATTEMPTS; i++) {
                v6.add(SocketChannel.open(StandardProtocolFamily.INET6));
            }
        } catch (IOException e) {
            v4.forEach(SelfTest::closeQuietly);
            v6.forEach(SelfTest::closeQuietly);
            throw e;
        }
        return new SelfTest(v4, v6, retryEvery);
    }

    /**
     * Runs attempts until each family gives a verdict. Blocks; returns empty when the redirect
     * works, else why it does not.
     */
    Optional<String> run(Listeners listeners, RedirectConfig config) throws InterruptedException {
        try {
            Optional<String> failure = probe(ipv4, false, listeners, config);
            if (failure.isPresent() || ipv6.isEmpty()) {
                return failure;
            }
            if (target(config, true).isEmpty()) {
                log.info("redirect self-test: no IPv6 neighbour to probe through (that needs a global address with a prefix"
                        + " of /126 or shorter); the IPv6 redirect is not tested");
                return Optional.empty();
            }
            return probe(ipv6, true, listeners, config);
        } finally {
            ipv4.forEach(SelfTest::closeQuietly);
            ipv6.forEach(SelfTest::closeQuietly);
        }
    }

    private Optional<String> probe(Deque<SocketChannel> sockets, boolean ipv6, Listeners listeners, RedirectConfig config)
            throws InterruptedException {
        String lastProblem = "no attempt made";
        while (!sockets.isEmpty()) {
            Attempt attempt = attempt(sockets.poll(), ipv6, listeners, config);
            if (attempt.verdict != null) {
                return attempt.verdict.isEmpty() ? Optional.empty() : Optional.of(attempt.verdict);
            }
            lastProblem = attempt.retryBecause;
            log.info("redirect self-test: {}; retrying in {} ms", lastProblem, retryEvery.toMillis());
            Thread.sleep(retryEvery.toMillis());
        }
        return Optional.of("redirect self-test gave up: " + lastProblem);
    }

    /** A verdict ("" for success), or a reason to try again. */
    private record Attempt(String verdict, String retryBecause) {
        static Attempt passed() { return new Attempt("", null); }
        static Attempt failed(String why) { return new Attempt(why, null); }
        static Attempt retry(String why) { return new Attempt(null, why); }
    }

    private Attempt attempt(SocketChannel socket, boolean ipv6, Listeners listeners, RedirectConfig config)
            throws InterruptedException {
        Optional<InetSocketAddress> dialled = target(config, ipv6);
        if (dialled.isEmpty()) {
            closeQuietly(socket);
            return Attempt.retry(ipv6 ? "no IPv6 neighbour to probe through yet"
                    : "no non-loopback IPv4 interface or gateway to probe through yet");
        }
        InetSocketAddress target = dialled.get();
        CompletableFuture<InetSocketAddress> arrived = new CompletableFuture<>();
        try (socket) {
            socket.bind(null); // an ephemeral port of the socket's own family
            listeners.expectProbe(((InetSocketAddress) socket.getLocalAddress()).getPort(), arrived::complete);
            socket.socket().connect(target, 2000);
            InetSocketAddress original = arrived.get(2, TimeUnit.SECONDS);
            if (!target.equals(original)) {
                return Attempt.failed("redirect self-test: dialled " + target + " but SO_ORIGINAL_DST said " + original);
            }
            log.info("redirect self-test passed: a connection to {} reached the outbound listener with that original destination", target);
            return Attempt.passed();
        } catch (SocketException e) {
            String message = String.valueOf(e.getMessage());
            // Not yet: no route, or (IPv6) a source address still in duplicate address detection.
            if (!arrived.isDone() && (message.contains("unreachable") || message.contains("assign requested address"))) {
                return Attempt.retry("no route to " + target + " yet (" + message + ")");
            }
            return Attempt.failed(notRedirected(target, e.getMessage()));
        } catch (IOException | TimeoutException e) {
            return Attempt.failed(notRedirected(target, String.valueOf(e.getMessage())));
        } catch (ExecutionException e) {
            return Attempt.failed("redirect self-test: " + e.getCause());
        } finally {
            listeners.clearProbe();
        }
    }

    private static String notRedirected(InetSocketAddress target, String detail) {
        return "redirect self-test: a connection to " + target + " did not reach the outbound listener (" + detail
                + "); check the rules (sidecar iptables check) and the xt_REDIRECT/xt_owner kernel modules";
    }

    /**
     * A neighbour address on a connected subnet of a non-loopback interface of the family; for
     * IPv4, else the default gateway. IPv6 uses global addresses only: a link-local destination
     * would need a scope, and pods dial out through global ones.
     */
    static Optional<InetSocketAddress> target(RedirectConfig config, boolean ipv6) {
        int port = probePort(config);
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nic.isUp() || nic.isLoopback()) {
                    continue;
                }
                for (InterfaceAddress ia : nic.getInterfaceAddresses()) {
                    InetAddress own = ia.getAddress();
                    int bits = own.getAddress().length * 8;
                    boolean family = ipv6 ? own instanceof Inet6Address && !own.isLinkLocalAddress() : own instanceof Inet4Address;
                    if (family && ia.getNetworkPrefixLength() <= bits - 2) {
                        InetAddress neighbour = neighbour(own, ia.getNetworkPrefixLength());
                        if (NetworkInterface.getByInetAddress(neighbour) == null && !skipped(neighbour, config)) {
                            return Optional.of(new InetSocketAddress(neighbour, port));
                        }
                    }
                }
            }
        } catch (SocketException e) {
            log.debug("cannot list interfaces", e);
        }
        if (ipv6) {
            return Optional.empty();
        }
        return defaultGateway().filter(gw -> !skipped(gw, config)).map(gw -> new InetSocketAddress(gw, port));
    }

    /**
     * The nearest other host address in {@code own}'s subnet of {@code prefix} bits: the lowest
     * host bits flipped, never the all-zeros host (the network, or IPv6's subnet-router anycast
     * address) nor the all-ones one (the IPv4 broadcast). Needs at least two host bits.
     */
    static InetAddress neighbour(InetAddress own, int prefix) {
        byte[] b = own.getAddress();
        int hostBits = b.length * 8 - prefix;
        // Only the last 32 bits can change: even a /64 has more hosts than the first few flips need.
        int low = ((b[b.length - 4] & 0xff) << 24) | ((b[b.length - 3] & 0xff) << 16) | ((b[b.length - 2] & 0xff) << 8)
                | (b[b.length - 1] & 0xff);
        int hostMask = hostBits >= 32 ? -1 : (1 << hostBits) - 1;
        int n = low;
        for (int k = 1; k <= 3; k++) { // with two host bits or more, one of the first three flips is a host
            n = low ^ k;
            // Wider host parts are judged by their last 32 bits alone: stricter, never wrong.
            if ((n & hostMask) != 0 && (n & hostMask) != hostMask) {
                break;
            }
        }
        byte[] out = b.clone();
        for (int i = 0; i < 4; i++) {
            out[b.length - 1 - i] = (byte) (n >>> (8 * i));
        }
        try {
            return InetAddress.getByAddress(out);
        } catch (IOException e) {
            throw new IllegalStateException(e); // four or sixteen bytes are always a valid address
        }
    }

    /** The IPv4 default gateway from /proc/net/route (pods with /32 addresses route only through it). */
    static Optional<InetAddress> defaultGateway() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/net/route"));
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 2 && !f[0].equals("lo") && f[1].equals("00000000") && !f[2].equals("00000000")) {
                    int gw = Integer.reverseBytes((int) Long.parseLong(f[2], 16)); // little-endian in /proc
                    return Optional.of(InetAddress.getByAddress(new byte[] {
                        (byte) (gw >>> 24), (byte) (gw >>> 16), (byte) (gw >>> 8), (byte) gw}));
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("cannot read /proc/net/route", e);
        }
        return Optional.empty();
    }

    // The probe must take the redirect-all-outgoing path, so it avoids every skip rule.
    private static boolean skipped(InetAddress address, RedirectConfig config) {
        return config.skipOutboundSubnets().stream().anyMatch(c -> c.contains(address.getAddress()));
    }

    private static int probePort(RedirectConfig config) {
        for (int port = FIRST_PROBE_PORT; ; port++) {
            int p = port;
            boolean skipped = config.skipOutboundPorts().stream().anyMatch(r -> r.contains(p));
            if (!skipped && p != config.inboundPort() && p != config.outboundPort()) {
                return p;
            }
        }
    }

    private static void closeQuietly(SocketChannel socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing was sent on it; the fd is gone either way
        }
    }
}
