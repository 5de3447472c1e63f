package dev.sidecar.proxy.selftest;

import dev.sidecar.iptables.RedirectConfig;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the {@link SelfTest} probe dials: an address outside the pod that an application could
 * dial, which the redirect must catch before any packet leaves. Preferred is a neighbour on a
 * directly connected subnet of a non-loopback interface. A pod whose address is alone in its subnet
 * (an IPv4 /32, an IPv6 /128, as many CNI plugins assign) routes everything through its default
 * route: over IPv4 the gateway itself is dialled; over IPv6 the gateway is usually link-local, and
 * a connection to a link-local address is bound to its interface, which REDIRECT cannot turn to
 * loopback, so an address of the documentation prefix (RFC 3849) is dialled through the default
 * route instead: nothing routes it, so even a probe that escaped would reach no one. The port is
 * one no skip rule exempts.
 */
final class ProbeTarget {
    private static final Logger log = LoggerFactory.getLogger(ProbeTarget.class);
    private static final int FIRST_PROBE_PORT = 9; // discard: harmless even if a packet did leave
    static final InetAddress UNROUTED_IPV6 = address(HexFormat.of().parseHex("20010db8ffff00000000000000000001"));

    private ProbeTarget() {}

    /** The address to dial over IPv6 ({@code ipv6}) or IPv4, or empty when the pod has none yet. */
    static Optional<InetSocketAddress> find(RedirectConfig config, boolean ipv6) {
        int port = probePort(config);
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nic.isUp() || nic.isLoopback()) {
                    continue;
                }
                for (InterfaceAddress ia : nic.getInterfaceAddresses()) {
                    InetAddress own = ia.getAddress();
                    int bits = own.getAddress().length * 8;
                    // IPv6: global addresses only. A link-local neighbour needs a scope, and a
                    // connection bound to an interface cannot be redirected to loopback.
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
        Optional<InetAddress> beyond = ipv6
                ? read("/proc/net/ipv6_route").filter(ProbeTarget::hasDefaultRoute6).map(routes -> UNROUTED_IPV6)
                : read("/proc/net/route").flatMap(ProbeTarget::defaultGateway);
        return beyond.filter(a -> !skipped(a, config)).map(a -> new InetSocketAddress(a, port));
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

    /** The IPv4 default gateway in the lines of {@code /proc/net/route} (addresses little-endian hex). */
    static Optional<InetAddress> defaultGateway(List<String> routes) {
        for (String line : routes.subList(Math.min(1, routes.size()), routes.size())) { // a header line first
            String[] f = line.trim().split("\\s+");
            if (f.length > 2 && !f[0].equals("lo") && f[1].equals("00000000") && !f[2].equals("00000000")) {
                int gw = Integer.reverseBytes((int) Long.parseLong(f[2], 16));
                return Optional.of(address(new byte[] {(byte) (gw >>> 24), (byte) (gw >>> 16), (byte) (gw >>> 8), (byte) gw}));
            }
        }
        return Optional.empty();
    }

    /** Whether the lines of {@code /proc/net/ipv6_route} hold a default route (::/0) out of the pod. */
    static boolean hasDefaultRoute6(List<String> routes) {
        String any = "0".repeat(32);
        for (String line : routes) {
            // destination, its prefix length, source, its prefix length, next hop, metric, refs, use, flags, device
            String[] f = line.trim().split("\\s+");
            if (f.length >= 10 && f[0].equals(any) && f[1].equals("00") && !f[9].equals("lo")) {
                return true;
            }
        }
        return false;
    }

    private static InetAddress address(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (IOException e) {
            throw new IllegalStateException(e); // four or sixteen bytes are always a valid address
        }
    }

    private static Optional<List<String>> read(String file) {
        try {
            return Optional.of(Files.readAllLines(Path.of(file)));
        } catch (IOException | RuntimeException e) {
            log.debug("cannot read {}", file, e);
            return Optional.empty();
        }
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
}
