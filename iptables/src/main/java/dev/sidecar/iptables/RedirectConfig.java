package dev.sidecar.iptables;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Validated, immutable input of the redirect: which ports the proxy listens on, whose traffic and
 * which ports and subnets bypass it, and which families and backend to use. Built with
 * {@link #builder()} or {@link #defaults()} plus {@link #toBuilder()}; {@link Builder#build()}
 * rejects inconsistent settings with an {@link InvalidConfigException} naming the setting.
 */
public final class RedirectConfig {
    public static final int DEFAULT_INBOUND_PORT = 4143;
    public static final int DEFAULT_OUTBOUND_PORT = 4140;
    public static final int DEFAULT_PROXY_UID = 2102;
    /**
     * Smallest uid/gid accepted: 0 is root, and exempting root's traffic (or dropping to root's
     * group) would let everything that runs as root in the pod bypass the proxy.
     */
    public static final int MIN_ID = 1;
    /** Largest uid/gid accepted; ids are Java ints here, which covers every id real systems hand out. */
    public static final int MAX_ID = Integer.MAX_VALUE;

    private final int inboundPort;
    private final int outboundPort;
    private final int proxyUid;
    private final OptionalInt proxyGid;
    private final List<PortRange> skipInboundPorts;
    private final List<PortRange> skipOutboundPorts;
    private final List<PortRange> redirectInboundPorts;
    private final List<Cidr> skipInboundSubnets;
    private final List<Cidr> skipOutboundSubnets;
    private final boolean ipv6;
    private final Backend backend;
    private final InboundMode inboundMode;

    private RedirectConfig(Builder b) {
        this.inboundPort = b.inboundPort;
        this.outboundPort = b.outboundPort;
        this.proxyUid = b.proxyUid;
        this.proxyGid = b.proxyGid;
        this.skipInboundPorts = List.copyOf(b.skipInboundPorts);
        this.skipOutboundPorts = List.copyOf(b.skipOutboundPorts);
        this.redirectInboundPorts = List.copyOf(b.redirectInboundPorts);
        this.skipInboundSubnets = List.copyOf(b.skipInboundSubnets);
        this.skipOutboundSubnets = List.copyOf(b.skipOutboundSubnets);
        this.ipv6 = b.ipv6;
        this.backend = b.backend;
        this.inboundMode = b.inboundMode;
    }

    /**
     * Linkerd's defaults: 4143 in, 4140 out, uid 2102, nothing skipped, IPv4 only, auto backend.
     * A value type decides nothing about the machine: whether this namespace has IPv6 is the
     * caller's choice (the CLI asks {@link #namespaceHasIpv6()}).
     */
    public static RedirectConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.inboundPort = inboundPort;
        b.outboundPort = outboundPort;
        b.proxyUid = proxyUid;
        b.proxyGid = proxyGid;
        b.skipInboundPorts = skipInboundPorts;
        b.skipOutboundPorts = skipOutboundPorts;
        b.redirectInboundPorts = redirectInboundPorts;
        b.skipInboundSubnets = skipInboundSubnets;
        b.skipOutboundSubnets = skipOutboundSubnets;
        b.ipv6 = ipv6;
        b.backend = backend;
        b.inboundMode = inboundMode;
        return b;
    }

    /**
     * Whether IPv6 is enabled in this network namespace, so ip6tables rules and [::1] listeners make
     * sense. The kernel having IPv6 is not enough: a Docker {@code --network none} container or an
     * IPv4-only pod has the module but {@code disable_ipv6=1} on loopback, and no [::1] to bind.
     * Reads /proc only (its net/ part is per namespace). A probe of the machine, not a default:
     * the CLI decides with it when {@code --ipv6} is not given.
     */
    public static boolean namespaceHasIpv6() {
        try {
            return Files.readString(Path.of("/proc/sys/net/ipv6/conf/lo/disable_ipv6")).trim().equals("0");
        } catch (java.io.IOException | RuntimeException e) {
            return false; // no IPv6 in this kernel or namespace
        }
    }

    public int inboundPort() { return inboundPort; }
    public int outboundPort() { return outboundPort; }
    public int proxyUid() { return proxyUid; }
    public OptionalInt proxyGid() { return proxyGid; }
    public List<PortRange> skipInboundPorts() { return skipInboundPorts; }
    public List<PortRange> skipOutboundPorts() { return skipOutboundPorts; }
    /** Empty means every inbound port is redirected. */
    public List<PortRange> redirectInboundPorts() { return redirectInboundPorts; }
    public List<Cidr> skipInboundSubnets() { return skipInboundSubnets; }
    public List<Cidr> skipOutboundSubnets() { return skipOutboundSubnets; }
    public boolean ipv6() { return ipv6; }
    public Backend backend() { return backend; }
    /** How inbound connections reach the proxy: nat REDIRECT (default) or mangle TPROXY. */
    public InboundMode inboundMode() { return inboundMode; }

    /** The families rules are installed for: IPv4 always, IPv6 when enabled. */
    public List<IpFamily> families() {
        return ipv6 ? List.of(IpFamily.IPV4, IpFamily.IPV6) : List.of(IpFamily.IPV4);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RedirectConfig c && inboundPort == c.inboundPort && outboundPort == c.outboundPort
                && proxyUid == c.proxyUid && proxyGid.equals(c.proxyGid) && skipInboundPorts.equals(c.skipInboundPorts)
                && skipOutboundPorts.equals(c.skipOutboundPorts) && redirectInboundPorts.equals(c.redirectInboundPorts)
                && skipInboundSubnets.equals(c.skipInboundSubnets) && skipOutboundSubnets.equals(c.skipOutboundSubnets)
                && ipv6 == c.ipv6 && backend == c.backend && inboundMode == c.inboundMode;
    }

    @Override
    public int hashCode() {
        return Objects.hash(inboundPort, outboundPort, proxyUid, proxyGid, skipInboundPorts, skipOutboundPorts,
                redirectInboundPorts, skipInboundSubnets, skipOutboundSubnets, ipv6, backend, inboundMode);
    }

    @Override
    public String toString() {
        return "RedirectConfig{inbound=" + inboundPort + ", outbound=" + outboundPort + ", uid=" + proxyUid
                + ", gid=" + (proxyGid.isPresent() ? proxyGid.getAsInt() : "none") + ", skipIn=" + skipInboundPorts
                + ", skipOut=" + skipOutboundPorts + ", redirectIn=" + (redirectInboundPorts.isEmpty() ? "all" : redirectInboundPorts)
                + ", skipInSubnets=" + skipInboundSubnets + ", skipOutSubnets=" + skipOutboundSubnets
                + ", ipv6=" + ipv6 + ", backend=" + backend + ", inboundMode=" + inboundMode + "}";
    }

    /** Collects settings; {@link #build()} validates them together. */
    public static final class Builder {
        private int inboundPort = DEFAULT_INBOUND_PORT;
        private int outboundPort = DEFAULT_OUTBOUND_PORT;
        private int proxyUid = DEFAULT_PROXY_UID;
        private OptionalInt proxyGid = OptionalInt.empty();
        private List<PortRange> skipInboundPorts = List.of();
        private List<PortRange> skipOutboundPorts = List.of();
        private List<PortRange> redirectInboundPorts = List.of();
        private List<Cidr> skipInboundSubnets = List.of();
        private List<Cidr> skipOutboundSubnets = List.of();
        private boolean ipv6; // IPv4 only unless the caller, who knows the machine, says otherwise
        private Backend backend = Backend.AUTO;
        private InboundMode inboundMode = InboundMode.REDIRECT;

        private Builder() {}

        public Builder inboundPort(int port) { this.inboundPort = port; return this; }
        public Builder outboundPort(int port) { this.outboundPort = port; return this; }
        public Builder proxyUid(int uid) { this.proxyUid = uid; return this; }
        public Builder proxyGid(OptionalInt gid) { this.proxyGid = Objects.requireNonNull(gid); return this; }
        public Builder proxyGid(int gid) { return proxyGid(OptionalInt.of(gid)); }
        public Builder skipInboundPorts(List<PortRange> ports) { this.skipInboundPorts = List.copyOf(ports); return this; }
        public Builder skipOutboundPorts(List<PortRange> ports) { this.skipOutboundPorts = List.copyOf(ports); return this; }
        public Builder redirectInboundPorts(List<PortRange> ports) { this.redirectInboundPorts = List.copyOf(ports); return this; }
        public Builder skipInboundSubnets(List<Cidr> subnets) { this.skipInboundSubnets = List.copyOf(subnets); return this; }
        public Builder skipOutboundSubnets(List<Cidr> subnets) { this.skipOutboundSubnets = List.copyOf(subnets); return this; }
        public Builder ipv6(boolean on) { this.ipv6 = on; return this; }
        public Builder backend(Backend backend) { this.backend = Objects.requireNonNull(backend); return this; }

        public Builder inboundMode(InboundMode mode) { this.inboundMode = Objects.requireNonNull(mode); return this; }

        /** Validates every setting and the combinations; throws {@link InvalidConfigException}. */
        public RedirectConfig build() {
            checkPort("inbound-port", inboundPort);
            checkPort("outbound-port", outboundPort);
            if (inboundPort == outboundPort) {
                throw new InvalidConfigException("outbound-port", Integer.toString(outboundPort),
                        "must differ from the inbound port, or inbound and outbound traffic would meet on one listener");
            }
            checkId("proxy-uid", proxyUid);
            if (proxyGid.isPresent()) {
                checkId("proxy-gid", proxyGid.getAsInt());
            }
            if (!ipv6) {
                checkNoIpv6("skip-inbound-subnets", skipInboundSubnets);
                checkNoIpv6("skip-outbound-subnets", skipOutboundSubnets);
            }
            return new RedirectConfig(this);
        }

        private static void checkPort(String setting, int port) {
            if (port < PortRange.MIN || port > PortRange.MAX) {
                throw new InvalidConfigException(setting, Integer.toString(port), "port out of range (expected 1-65535)");
            }
        }

        private static void checkId(String setting, int id) {
            if (id == 0) {
                throw new InvalidConfigException(setting, "0", "is root, whose traffic would bypass the proxy (expected "
                        + MIN_ID + "-" + MAX_ID + ")");
            }
            if (id < MIN_ID) {
                throw new InvalidConfigException(setting, Integer.toString(id), "not a valid id (expected " + MIN_ID + "-" + MAX_ID + ")");
            }
        }

        // An IPv6 subnet with IPv6 off would silently do nothing; say so instead.
        private static void checkNoIpv6(String setting, List<Cidr> subnets) {
            for (Cidr c : subnets) {
                if (c.family() == IpFamily.IPV6) {
                    throw new InvalidConfigException(setting, c.toString(), "an IPv6 subnet, but IPv6 rules are off");
                }
            }
        }
    }
}
