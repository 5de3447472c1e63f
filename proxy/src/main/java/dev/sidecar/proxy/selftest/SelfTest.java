package dev.sidecar.proxy.selftest;

import dev.sidecar.iptables.RedirectConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
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
 * an outside IPv6 address as well, when the pod has a way out over IPv6.
 *
 * <p>The probe sockets are created while the process is still root. The kernel records a socket's
 * owner when the socket is created, so after the drop to the proxy uid these sockets are still not
 * the proxy's in the eyes of {@code ignore-proxy-uid}: they take the path an application's
 * connection takes. The address dialled is a neighbour on a directly connected subnet of a
 * non-loopback interface, or one beyond the default route; when the redirect works, no packet
 * leaves the pod.
 *
 * <p>Interfaces may appear after start-up (a CNI plugin, or a veth moved in later), so a missing
 * route is retried, once a second, for as long as the caller allows; a connection that is not
 * redirected, or a wrong original destination, fails. Waiting for an interface uses no socket; a
 * connect that finds no route uses one up, so once few are left the retries are spread over the
 * time that remains. The sockets are few (a handful, not one per second of waiting): each holds a
 * descriptor that the relay's connection budget does not count.
 * The IPv6 probe runs once the IPv4 one passed; a pod with neither a global IPv6 address on a
 * subnet nor an IPv6 default route has nothing to dial over IPv6, which is logged. Where to dial is
 * {@link ProbeTarget}'s business; how the probe is recognised on arrival, {@link ProbeCatcher}'s.
 */
public final class SelfTest {
    private static final Logger log = LoggerFactory.getLogger(SelfTest.class);

    // By the time IPv4 passed the pod's interfaces are up; IPv6 retries only while a fresh address
    // finishes duplicate address detection.
    private static final int IPV6_ATTEMPTS = 5;

    private final Deque<SocketChannel> ipv4;
    private final Deque<SocketChannel> ipv6; // empty without IPv6 rules
    private final Duration retryEvery;
    private final Duration giveUpAfter;

    private SelfTest(Deque<SocketChannel> ipv4, Deque<SocketChannel> ipv6, Duration retryEvery, Duration giveUpAfter) {
        this.ipv4 = ipv4;
        this.ipv6 = ipv6;
        this.retryEvery = retryEvery;
        this.giveUpAfter = giveUpAfter;
    }

    /**
     * Makes {@code sockets} IPv4 probe sockets (and a few IPv6 ones when {@code ipv6}); call while
     * still root. The IPv4 probe retries every {@code retryEvery} until {@code giveUpAfter}.
     */
    public static SelfTest prepare(int sockets, Duration retryEvery, Duration giveUpAfter, boolean ipv6) throws IOException {
        Deque<SocketChannel> v4 = new ArrayDeque<>();
        Deque<SocketChannel> v6 = new ArrayDeque<>();
        try {
            for (int i = 0; i < sockets; i++) {
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
        return new SelfTest(v4, v6, retryEvery, giveUpAfter);
    }

    /**
     * Runs attempts until each family gives a verdict, each probe expected by {@code probes} (the
     * catcher the listeners consult). Blocks; returns empty when the redirect works, else why it
     * does not.
     */
    public Optional<String> run(ProbeCatcher probes, RedirectConfig config) throws InterruptedException {
        try {
            Optional<String> failure = probe(ipv4, false, giveUpAfter, probes, config);
            if (failure.isPresent() || ipv6.isEmpty()) {
                return failure;
            }
            if (ProbeTarget.find(config, true).isEmpty()) {
                log.info("redirect self-test: no IPv6 address to probe through (no global address with a prefix of /126 or"
                        + " shorter, and no IPv6 default route); the IPv6 redirect is not tested");
                return Optional.empty();
            }
            return probe(ipv6, true, retryEvery.multipliedBy(IPV6_ATTEMPTS), probes, config);
        } finally {
            ipv4.forEach(SelfTest::closeQuietly);
            ipv6.forEach(SelfTest::closeQuietly);
        }
    }

    private Optional<String> probe(Deque<SocketChannel> sockets, boolean ipv6, Duration window, ProbeCatcher probes,
            RedirectConfig config) throws InterruptedException {
        long deadline = System.nanoTime() + window.toNanos();
        String lastProblem = "no attempt made";
        while (!sockets.isEmpty()) {
            Optional<InetSocketAddress> dialled = ProbeTarget.find(config, ipv6);
            Attempt attempt = dialled.isPresent()
                    ? attempt(sockets.poll(), dialled.get(), probes)
                    : Attempt.retry(ipv6 ? "no IPv6 neighbour or gateway to probe through yet"
                            : "no non-loopback IPv4 interface or gateway to probe through yet");
            if (attempt.verdict != null) {
                return attempt.verdict.isEmpty() ? Optional.empty() : Optional.of(attempt.verdict);
            }
            lastProblem = attempt.retryBecause;
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            // Waiting for an interface costs no socket: once a second. A connect that found no
            // route used one up: the rest are spread over the time that remains.
            long spread = dialled.isPresent() ? left / Math.max(1, sockets.size()) : 0;
            long pause = Math.min(left, Math.max(retryEvery.toNanos(), spread));
            log.info("redirect self-test: {}; retrying in {} ms", lastProblem, TimeUnit.NANOSECONDS.toMillis(pause));
            TimeUnit.NANOSECONDS.sleep(pause);
        }
        return Optional.of("redirect self-test gave up: " + lastProblem);
    }

    /** A verdict ("" for success), or a reason to try again. */
    private record Attempt(String verdict, String retryBecause) {
        static Attempt passed() { return new Attempt("", null); }
        static Attempt failed(String why) { return new Attempt(why, null); }
        static Attempt retry(String why) { return new Attempt(null, why); }
    }

    /** One connection through {@code socket}, which it uses up, to {@code target}. */
    private Attempt attempt(SocketChannel socket, InetSocketAddress target, ProbeCatcher probes) throws InterruptedException {
        CompletableFuture<InetSocketAddress> arrived = new CompletableFuture<>();
        try (socket) {
            socket.bind(null); // an ephemeral port of the socket's own family
            probes.expect(((InetSocketAddress) socket.getLocalAddress()).getPort(), arrived::complete);
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
            probes.clear();
        }
    }

    private static String notRedirected(InetSocketAddress target, String detail) {
        return "redirect self-test: a connection to " + target + " did not reach the outbound listener (" + detail
                + "); check the rules (sidecar iptables check) and the xt_REDIRECT/xt_owner kernel modules";
    }

    private static void closeQuietly(SocketChannel socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing was sent on it; the fd is gone either way
        }
    }
}
