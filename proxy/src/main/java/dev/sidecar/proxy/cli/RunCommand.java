package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.InvalidConfigException;
import dev.sidecar.iptables.PortRange;
import dev.sidecar.iptables.InboundMode;
import dev.sidecar.iptables.RedirectConfig;
import dev.sidecar.iptables.RedirectInstaller;
import dev.sidecar.proxy.Sidecar;
import dev.sidecar.proxy.StartupException;
import dev.sidecar.proxy.admin.AdminServer;
import dev.sidecar.proxy.admin.ProxyMetrics;
import dev.sidecar.proxy.admin.Readiness;
import dev.sidecar.proxy.admin.RulesMetrics;
import dev.sidecar.proxy.os.Privileges;
import dev.sidecar.proxy.relay.ConnectionBudget;
import dev.sidecar.proxy.relay.DeadPeerDetection;
import dev.sidecar.proxy.relay.ProxyProtocolHeader;
import dev.sidecar.proxy.relay.RelaySettings;
import dev.sidecar.proxy.rules.RulesWatcher;
import dev.sidecar.proxy.transport.TransportChoice;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sidecar run}: installs the redirect, drops to the proxy uid and relays every redirected
 * connection until SIGTERM. Flags become a {@link Sidecar.Settings} here; {@link Sidecar} owns the order.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Install the redirect rules, drop to the proxy uid and gid (--proxy-uid, --proxy-gid or 2102) "
                + "and relay every redirected connection to its original destination until SIGTERM/SIGINT.")
public final class RunCommand implements Callable<Integer> {
    /** Gid the proxy drops to when {@code --proxy-gid} is not given. */
    static final int DEFAULT_PROXY_GID = 2102;

    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @ParentCommand SidecarCommand sidecar;
    @Mixin RedirectOptions redirect;
    @Mixin AdminOptions admin;

    @Option(names = "--no-iptables", arity = "0..1", paramLabel = "BOOL", fallbackValue = "true", converter = Converters.Bool.class,
            defaultValue = "${env:" + Env.NO_IPTABLES + ":-false}",
            description = "Do not install the rules: an init container or CNI plugin already did (env " + Env.NO_IPTABLES + "). Default: ${DEFAULT-VALUE}.")
    boolean noIptables;

    @Option(names = "--connect-timeout", paramLabel = "DURATION", converter = RunConverters.DurationConverter.class,
            defaultValue = "${env:" + Env.CONNECT_TIMEOUT + ":-1s}",
            description = "Upstream connect timeout, both directions, e.g. 500ms, 2s (env " + Env.CONNECT_TIMEOUT + "). Default: ${DEFAULT-VALUE}.")
    Duration connectTimeout;

    @Option(names = "--inbound-connect-timeout", paramLabel = "DURATION", converter = RunConverters.DurationConverter.class,
            defaultValue = "${env:" + Env.INBOUND_CONNECT_TIMEOUT + "}",
            description = "Connect timeout to the local application for inbound connections (env " + Env.INBOUND_CONNECT_TIMEOUT + "). Default: --connect-timeout.")
    Duration inboundConnectTimeout;

    @Option(names = "--outbound-connect-timeout", paramLabel = "DURATION", converter = RunConverters.DurationConverter.class,
            defaultValue = "${env:" + Env.OUTBOUND_CONNECT_TIMEOUT + "}",
            description = "Connect timeout to remote destinations for outbound connections (env " + Env.OUTBOUND_CONNECT_TIMEOUT + "). Default: --connect-timeout.")
    Duration outboundConnectTimeout;

    @Option(names = "--shutdown-grace", paramLabel = "DURATION", converter = RunConverters.DurationConverter.class,
            defaultValue = "${env:" + Env.SHUTDOWN_GRACE + ":-30s}",
            description = "After SIGTERM, how long open connections may take to finish before they are reset (env " + Env.SHUTDOWN_GRACE + "). Default: ${DEFAULT-VALUE}.")
    Duration shutdownGrace;

    @Option(names = "--inbound-ips", paramLabel = "IPS", converter = Converters.Addresses.class,
            defaultValue = "${env:" + Env.INBOUND_IPS + "}",
            description = "Relay inbound connections only when their original destination is one of these IPv4/IPv6 addresses,"
                    + " comma-separated (env " + Env.INBOUND_IPS + "). Default: the network namespace's own addresses, kept current.")
    Converters.AddressList inboundIps;

    @Option(names = "--max-connections", paramLabel = "N", converter = RunConverters.CountConverter.class,
            defaultValue = "${env:" + Env.MAX_CONNECTIONS + "}",
            description = "Connections relayed at once, both directions together; more are reset at once (env " + Env.MAX_CONNECTIONS + "). "
                    + "Default: from the file-descriptor limit, (limit - reserve) / 2, the reserve an eighth of the limit (64 to 1024).")
    Integer maxConnections;

    @Option(names = "--keepalive", paramLabel = "DURATION", converter = RunConverters.KeepaliveConverter.class,
            defaultValue = "${env:" + Env.KEEPALIVE + ":-10s}",
            description = "TCP keepalive idle time on both sockets of every relayed connection, whole seconds;"
                    + " probes follow every half of it (env " + Env.KEEPALIVE + "). Default: ${DEFAULT-VALUE}.")
    Duration keepalive;

    @Option(names = "--user-timeout", paramLabel = "DURATION", converter = RunConverters.UserTimeoutConverter.class,
            defaultValue = "${env:" + Env.USER_TIMEOUT + ":-20s}",
            description = "TCP_USER_TIMEOUT on both sockets: a peer that leaves sent data unacknowledged this long"
                    + " is gone; off or 0 keeps the kernel's default (env " + Env.USER_TIMEOUT + "). Default: ${DEFAULT-VALUE}.")
    Duration userTimeout;

    @Option(names = "--transport", paramLabel = "auto|io_uring|epoll", converter = RunConverters.TransportConverter.class,
            defaultValue = "${env:" + Env.TRANSPORT + ":-auto}",
            description = "Netty's native transport: io_uring, epoll, or auto (io_uring where the kernel and seccomp allow it, else epoll) (env " + Env.TRANSPORT + "). Default: ${DEFAULT-VALUE}.")
    TransportChoice.Request transport;

    @Option(names = "--inbound-proxy-protocol-ports", paramLabel = "PORT[,PORT...]", converter = Converters.PortList.class,
            defaultValue = "${env:" + Env.INBOUND_PROXY_PROTOCOL_PORTS + "}",
            description = "Inbound destination ports and ranges whose connections reach the application with a PROXY protocol header"
                    + " first, naming the client and the original destination; the application must expect it"
                    + " (env " + Env.INBOUND_PROXY_PROTOCOL_PORTS + "). Default: none.")
    List<PortRange> proxyProtocolPorts = new ArrayList<>();

    @Option(names = "--proxy-protocol-version", paramLabel = "1|2", converter = RunConverters.ProxyProtocolVersionConverter.class,
            defaultValue = "${env:" + Env.PROXY_PROTOCOL_VERSION + ":-2}",
            description = "PROXY protocol header for --inbound-proxy-protocol-ports: 1 (text) or 2 (binary)"
                    + " (env " + Env.PROXY_PROTOCOL_VERSION + "). Default: ${DEFAULT-VALUE}.")
    int proxyProtocolVersion;

    @Option(names = "--rules-check-interval", paramLabel = "DURATION", converter = RunConverters.IntervalConverter.class,
            defaultValue = "${env:" + Env.RULES_CHECK_INTERVAL + ":-10s}",
            description = "How often the redirect rules are compared with the plan (one iptables-save per family);"
                    + " off or 0 never (env " + Env.RULES_CHECK_INTERVAL + "). Default: ${DEFAULT-VALUE}.")
    Duration rulesCheckInterval;

    @Option(names = "--rules-repair", arity = "0..1", paramLabel = "BOOL", fallbackValue = "true", converter = Converters.Bool.class,
            defaultValue = "${env:" + Env.RULES_REPAIR + ":-false}",
            description = "Install the plan again when the rules are found to differ from it; not with --no-iptables"
                    + " (env " + Env.RULES_REPAIR + "). Default: ${DEFAULT-VALUE}.")
    boolean rulesRepair;

    @Override
    public Integer call() throws Exception {
        RedirectConfig config = withAdminPortSkipped(redirect.toConfig());
        if (rulesRepair && noIptables) {
            throw new InvalidConfigException("rules-repair", "true",
                    "cannot repair rules someone else installed (--no-iptables); drop one of the two");
        }
        RelaySettings relay = RelaySettings.defaults().withConnectTimeouts(
                inboundConnectTimeout != null ? inboundConnectTimeout : connectTimeout,
                outboundConnectTimeout != null ? outboundConnectTimeout : connectTimeout)
                .withDeadPeer(new DeadPeerDetection(keepalive, userTimeout));
        relay = withConnectionBound(relay);
        ProxyProtocolHeader proxyProtocol = proxyProtocolHeader(config);
        int gid = config.proxyGid().orElse(DEFAULT_PROXY_GID);
        checkCanDropPrivileges(config.proxyUid(), gid, config.inboundMode() == InboundMode.TPROXY);
        RedirectInstaller installer = noIptables ? null : sidecar.installer(config.backend()); // made, not run yet
        TransportChoice choice = TransportChoice.choose(transport);
        log.info("transport: {} ({})", choice.transport().label(), choice.reason());
        relay = relay.withTransport(choice.transport());
        log.info("configuration: {}; relay {}; admin port {}; shutdown grace {}", config, relay, admin.adminPort(), shutdownGrace);
        PrometheusRegistry registry = new PrometheusRegistry();
        ProxyMetrics.registerInfo(registry, choice.transport().label(), new SidecarCommand.ManifestVersion().version());
        Readiness readiness = new Readiness();
        Sidecar.Settings settings = Sidecar.Settings.of(config, gid, relay, shutdownGrace)
                .withInboundIps(inboundIps == null ? List.of() : inboundIps.addresses())
                .withProxyProtocol(proxyProtocol)
                .withRulesWatch(new RulesWatcher.Settings(rulesCheckInterval, rulesRepair));
        Sidecar proxy = new Sidecar(settings, installer, () -> sidecar.installer(config.backend()),
                ProxyMetrics.register(registry), readiness, new RulesMetrics(registry));
        // The admin endpoint comes first, so probes see /live and the reason for 503 during start-up.
        try (AdminServer adminServer = AdminServer.start(admin.settings(config.ipv6()), choice.transport(), readiness,
                registry, proxy::stop)) {
            log.info("admin endpoint on {}", adminServer.localAddresses());
            proxy.start();
            proxy.awaitSignalThenDrain();
        }
        return ExitCode.OK.code();
    }

    /**
     * The header for the listed ports, logged. A listed port that no redirected connection can have
     * (skipped inbound, or left out of --redirect-inbound-ports) is only warned about: those
     * connections bypass the proxy and reach the application without a header.
     */
    private ProxyProtocolHeader proxyProtocolHeader(RedirectConfig config) {
        if (proxyProtocolPorts.isEmpty()) {
            return ProxyProtocolHeader.NONE;
        }
        ProxyProtocolHeader header = ProxyProtocolHeader.on(proxyProtocolPorts, proxyProtocolVersion);
        log.info("inbound connections to ports {} start with a PROXY protocol v{} header (--inbound-proxy-protocol-ports)",
                ports(proxyProtocolPorts), proxyProtocolVersion);
        for (PortRange listed : proxyProtocolPorts) {
            List<PortRange> skipped = config.skipInboundPorts().stream().filter(s -> overlap(s, listed)).toList();
            if (!skipped.isEmpty()) {
                log.warn("--inbound-proxy-protocol-ports {} overlaps --skip-inbound-ports {}: those connections bypass the proxy"
                        + " and reach the application with no PROXY protocol header", listed, ports(skipped));
            }
            if (!config.redirectInboundPorts().isEmpty()
                    && config.redirectInboundPorts().stream().noneMatch(r -> r.low() <= listed.low() && listed.high() <= r.high())) {
                log.warn("--inbound-proxy-protocol-ports {} is not all within --redirect-inbound-ports {}: connections to the"
                        + " ports left out bypass the proxy and get no PROXY protocol header", listed, ports(config.redirectInboundPorts()));
            }
        }
        return header;
    }

    private static boolean overlap(PortRange a, PortRange b) {
        return a.low() <= b.high() && b.low() <= a.high();
    }

    private static String ports(List<PortRange> ranges) {
        return String.join(",", ranges.stream().map(PortRange::toString).toList());
    }

    /** Everything the privilege drop needs, checked before any rule is installed (the ids themselves by their converters). */
    private static void checkCanDropPrivileges(int uid, int gid, boolean keepNetRaw) throws StartupException {
        try {
            Privileges.checkCanDrop(uid, gid, keepNetRaw);
        } catch (Privileges.PrivilegeException e) {
            throw new StartupException(e.getMessage(), e);
        }
    }

    /** The explicit bound, or the default for the fd limit; logged either way, with where it came from. */
    private RelaySettings withConnectionBound(RelaySettings relay) {
        long fdLimit = ConnectionBudget.processFdLimit();
        if (maxConnections != null) {
            log.info("max connections {} (--max-connections); file-descriptor limit {}", maxConnections, fdLimit);
            if (fdLimit > 0 && 2L * maxConnections > fdLimit) {
                log.warn("--max-connections {} needs {} file descriptors, over the limit of {}: beyond that,"
                        + " connections are reset as they arrive", maxConnections, 2L * maxConnections, fdLimit);
            }
            return relay.withMaxConnections(maxConnections);
        }
        if (fdLimit <= 0) {
            log.info("max connections unbounded: the file-descriptor limit is unknown");
            return relay.withMaxConnections(Integer.MAX_VALUE);
        }
        int max = ConnectionBudget.defaultMaxConnections(fdLimit);
        log.info("max connections {}, from the file-descriptor limit {} (2 per connection, {} reserved;"
                + " set --max-connections to change)", max, fdLimit, fdLimit - 2L * max);
        return relay.withMaxConnections(max);
    }

    /**
     * Kubelet probes must reach the admin endpoint, never the proxy: its port is always skipped
     * inbound, in addition to the ports the user listed. It may not be one of the proxy's ports.
     */
    private RedirectConfig withAdminPortSkipped(RedirectConfig config) {
        int port = admin.adminPort();
        if (port == config.inboundPort() || port == config.outboundPort()) {
            throw new InvalidConfigException("admin-port", String.valueOf(port),
                    "must differ from --inbound-port and --outbound-port");
        }
        if (config.skipInboundPorts().stream().anyMatch(r -> r.contains(port))) {
            return config;
        }
        List<PortRange> skipped = new ArrayList<>(config.skipInboundPorts());
        skipped.add(PortRange.of(port));
        return config.toBuilder().skipInboundPorts(skipped).build();
    }
}
