package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.InvalidConfigException;
import dev.sidecar.iptables.PortRange;
import dev.sidecar.iptables.RedirectConfig;
import dev.sidecar.iptables.RedirectInstaller;
import dev.sidecar.proxy.Sidecar;
import dev.sidecar.proxy.admin.AdminServer;
import dev.sidecar.proxy.admin.ProxyMetrics;
import dev.sidecar.proxy.admin.Readiness;
import dev.sidecar.proxy.relay.RelaySettings;
import dev.sidecar.proxy.transport.TransportChoice;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.TypeConversionException;

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

    @Option(names = "--no-iptables", defaultValue = "${env:SIDECAR_NO_IPTABLES:-false}",
            description = "Do not install the rules: an init container or CNI plugin already did (env SIDECAR_NO_IPTABLES). Default: ${DEFAULT-VALUE}.")
    boolean noIptables;

    @Option(names = "--connect-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = "${env:SIDECAR_CONNECT_TIMEOUT:-1s}",
            description = "Upstream connect timeout, both directions, e.g. 500ms, 2s (env SIDECAR_CONNECT_TIMEOUT). Default: ${DEFAULT-VALUE}.")
    Duration connectTimeout;

    @Option(names = "--inbound-connect-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = "${env:SIDECAR_INBOUND_CONNECT_TIMEOUT}",
            description = "Connect timeout to the local application for inbound connections (env SIDECAR_INBOUND_CONNECT_TIMEOUT). Default: --connect-timeout.")
    Duration inboundConnectTimeout;

    @Option(names = "--outbound-connect-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = "${env:SIDECAR_OUTBOUND_CONNECT_TIMEOUT}",
            description = "Connect timeout to remote destinations for outbound connections (env SIDECAR_OUTBOUND_CONNECT_TIMEOUT). Default: --connect-timeout.")
    Duration outboundConnectTimeout;

    @Option(names = "--shutdown-grace", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = "${env:SIDECAR_SHUTDOWN_GRACE:-30s}",
            description = "After SIGTERM, how long open connections may take to finish before they are reset (env SIDECAR_SHUTDOWN_GRACE). Default: ${DEFAULT-VALUE}.")
    Duration shutdownGrace;

    @Option(names = "--transport", paramLabel = "auto|io_uring|epoll", converter = TransportConverter.class,
            defaultValue = "${env:SIDECAR_TRANSPORT:-auto}",
            description = "Netty's native transport: io_uring, epoll, or auto (io_uring where the kernel and seccomp allow it, else epoll) (env SIDECAR_TRANSPORT). Default: ${DEFAULT-VALUE}.")
    TransportChoice.Request transport;

    @Override
    public Integer call() throws Exception {
        admin.applyLogging();
        RedirectConfig config = withAdminPortSkipped(redirect.toConfig());
        RelaySettings relay = RelaySettings.defaults().withConnectTimeouts(
                inboundConnectTimeout != null ? inboundConnectTimeout : connectTimeout,
                outboundConnectTimeout != null ? outboundConnectTimeout : connectTimeout);
        int gid = config.proxyGid().orElse(DEFAULT_PROXY_GID);
        TransportChoice choice = TransportChoice.choose(transport);
        log.info("transport: {} ({})", choice.transport().label(), choice.reason());
        relay = relay.withTransport(choice.transport());
        log.info("configuration: {}; relay {}; admin port {}; shutdown grace {}", config, relay, admin.adminPort(), shutdownGrace);
        RedirectInstaller installer = noIptables ? null : sidecar.installer(config.backend());
        PrometheusRegistry registry = new PrometheusRegistry();
        ProxyMetrics.registerInfo(registry, choice.transport().label(), new SidecarCommand.ManifestVersion().version());
        Readiness readiness = new Readiness();
        Sidecar proxy = new Sidecar(Sidecar.Settings.of(config, gid, relay, shutdownGrace), installer,
                ProxyMetrics.register(registry), readiness);
        // The admin endpoint comes first, so probes see /live and the reason for 503 during start-up.
        try (AdminServer adminServer = AdminServer.start(admin.settings(config.ipv6()), choice.transport(), readiness,
                registry, proxy::stop)) {
            log.info("admin endpoint on {}", adminServer.localAddresses());
            proxy.start();
            proxy.awaitSignalThenDrain();
        }
        return Failures.OK;
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

    /** {@code auto}, {@code io_uring} or {@code epoll}. */
    static final class TransportConverter implements ITypeConverter<TransportChoice.Request> {
        @Override
        public TransportChoice.Request convert(String value) {
            try {
                return TransportChoice.Request.parse(value.trim().toLowerCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not a transport; use auto, io_uring or epoll");
            }
        }
    }

    /** {@code 250ms}, {@code 2s}, {@code 1m}; a bare number means seconds. Must be positive. */
    static final class DurationConverter implements ITypeConverter<Duration> {
        private static final Pattern FORMAT = Pattern.compile("(\\d{1,9})(ms|s|m)?");

        @Override
        public Duration convert(String value) {
            Matcher m = FORMAT.matcher(value.trim().toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new TypeConversionException("'" + value + "' is not a duration; use e.g. 500ms, 2s or 1m");
            }
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            Duration d = switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofSeconds(n);
            };
            if (d.isZero()) {
                throw new TypeConversionException("'" + value + "' must be more than zero");
            }
            return d;
        }
    }
}
