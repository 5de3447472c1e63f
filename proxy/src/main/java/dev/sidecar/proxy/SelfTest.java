package dev.sidecar.proxy;

import dev.sidecar.iptables.RedirectConfig;
import dev.sidecar.proxy.relay.Listeners;
import java.io.IOException;
import java.net.Inet4Address;
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
 * outbound listener with exactly that address as its original destination.
 *
 * <p>The probe sockets are created while the process is still root. The kernel records a socket's
 * owner when the socket is created, so after the drop to the proxy uid these sockets are still not
 * the proxy's in the eyes of {@code ignore-proxy-uid}: they take the path an application's
 * connection takes. The address dialled is a neighbour on a directly connected subnet of a
 * non-loopback interface (or the default gateway); when the redirect works, no packet leaves the pod.
 *
 * <p>Interfaces may appear after start-up (a CNI plugin, or a veth moved in later), so a missing
 * route is retried; a connection that is not redirected, or a wrong original destination, fails.
 */
final class SelfTest {
    private static final Logger log = LoggerFactory.getLogger(SelfTest.class);
    private static final int FIRST_PROBE_PORT = 9; // discard: harmless even if a packet did leave

    private final Deque<SocketChannel> sockets;
    private final Duration retryEvery;

    private SelfTest(Deque<SocketChannel> sockets, Duration retryEvery) {
        this.sockets = sockets;
        this.retryEvery = retryEvery;
    }

    /** Makes the probe sockets, one per attempt; call while still root. */
    static SelfTest prepare(int attempts, Duration retryEvery) throws IOException {
        Deque<SocketChannel> sockets = new ArrayDeque<>();
        for (int i = 0; i < attempts; i++) {
            sockets.add(SocketChannel.open(StandardProtocolFamily.INET));
        }
        return new SelfTest(sockets, retryEvery);
    }

    /**
     * Runs attempts until one gives a verdict. Blocks; returns empty when the redirect works, else
     * why it does not.
     */
    Optional<String> run(Listeners listeners, RedirectConfig config) throws InterruptedException {
        String lastProblem = "no attempt made";
        try {
            while (!sockets.isEmpty()) {
                Attempt attempt = attempt(sockets.poll(), listeners, config);
                if (attempt.verdict != null) {
                    return attempt.verdict.isEmpty() ? Optional.empty() : Optional.of(attempt.verdict);
                }
                lastProblem = attempt.retryBecause;
                log.info("redirect self-test: {}; retrying in {} ms", lastProblem, retryEvery.toMillis());
                Thread.sleep(retryEvery.toMillis());
            }
            return Optional.of("redirect self-test gave up: " + lastProblem);
        } finally {
            sockets.forEach(SelfTest::closeQuietly);
        }
    }

    /** A verdict ("" for success), or a reason to try again. */
    private record Attempt(String verdict, String retryBecause) {
        static Attempt passed() { return new Attempt("", null); }
        static Attempt failed(String why) { return new Attempt(why, null); }
        static Attempt retry(String why) { return new Attempt(null, why); }
    }

    private Attempt attempt(SocketChannel socket, Listeners listeners, RedirectConfig config) throws InterruptedException {
        Optional<InetSocketAddress> dialled = target(config);
        if (dialled.isEmpty()) {
            closeQuietly(socket);
            return Attempt.retry("no non-loopback IPv4 interface or gateway to probe through yet");
        }
        InetSocketAddress target = dialled.get();
        CompletableFuture<InetSocketAddress> arrived = new CompletableFuture<>();
        try (socket) {
            socket.bind(new InetSocketAddress(0));
            listeners.expectProbe(((InetSocketAddress) socket.getLocalAddress()).getPort(), arrived::complete);
            socket.socket().connect(target, 2000);
            InetSocketAddress original = arrived.get(2, TimeUnit.SECONDS);
            if (!target.equals(original)) {
                return Attempt.failed("redirect self-test: dialled " + target + " but SO_ORIGINAL_DST said " + original);
            }
            log.info("redirect self-test passed: a connection to {} reached the outbound listener with that original destination", target);
            return Attempt.passed();
        } catch (SocketException e) {
            if (!arrived.isDone() && String.valueOf(e.getMessage()).contains("unreachable")) {
                return Attempt.retry("no route to " + target + " yet (" + e.getMessage() + ")");
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

    /** A neighbour address on a connected subnet of a non-loopback interface, else the default gateway. */
    static Optional<InetSocketAddress> target(RedirectConfig config) {
        int port = probePort(config);
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nic.isUp() || nic.isLoopback()) {
                    continue;
                }
                for (InterfaceAddress ia : nic.getInterfaceAddresses()) {
                    if (ia.getAddress() instanceof Inet4Address own && ia.getNetworkPrefixLength() <= 30) {
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
        return defaultGateway().filter(gw -> !skipped(gw, config)).map(gw -> new InetSocketAddress(gw, port));
    }

    // The nearest other host address in our subnet (flip the lowest host bits; never the network
    // or broadcast address).
    static InetAddress neighbour(Inet4Address own, int prefix) {
        byte[] b = own.getAddress();
        int a = ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
        int hostMask = prefix == 0 ? -1 : (1 << (32 - prefix)) - 1;
        int n = a;
        for (int k = 1; k <= hostMask; k++) { // prefix <= 30: there is always another host
            n = a ^ k;
            if ((n & hostMask) != 0 && (n & hostMask) != hostMask) {
                break;
            }
        }
        try {
            return InetAddress.getByAddress(new byte[] {(byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n});
        } catch (IOException e) {
            throw new IllegalStateException(e); // four bytes are always a valid address
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
