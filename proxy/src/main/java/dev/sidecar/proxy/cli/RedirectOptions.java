package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.Backend;
import dev.sidecar.iptables.Cidr;
import dev.sidecar.iptables.PortRange;
import dev.sidecar.iptables.RedirectConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import picocli.CommandLine.Option;

/**
 * The redirect options, shared as a {@code @Mixin} by every command that installs or inspects the
 * rules. Each option can also come from an environment variable, named in {@code --help}; a flag
 * beats the variable. {@link #toConfig()} is the one place flags become a {@link RedirectConfig}.
 */
public final class RedirectOptions {

    @Option(names = "--inbound-port", paramLabel = "PORT", converter = Converters.Port.class,
            defaultValue = "${env:SIDECAR_INBOUND_PORT:-4143}",
            description = "Port the proxy accepts redirected inbound connections on (env SIDECAR_INBOUND_PORT). Default: ${DEFAULT-VALUE}.")
    int inboundPort;

    @Option(names = "--outbound-port", paramLabel = "PORT", converter = Converters.Port.class,
            defaultValue = "${env:SIDECAR_OUTBOUND_PORT:-4140}",
            description = "Port the proxy accepts redirected outbound connections on (env SIDECAR_OUTBOUND_PORT). Default: ${DEFAULT-VALUE}.")
    int outboundPort;

    @Option(names = "--proxy-uid", paramLabel = "UID", converter = Converters.Id.class,
            defaultValue = "${env:SIDECAR_PROXY_UID:-2102}",
            description = "Uid whose outbound traffic is never redirected: the proxy's own (env SIDECAR_PROXY_UID). Default: ${DEFAULT-VALUE}.")
    int proxyUid;

    @Option(names = "--proxy-gid", paramLabel = "GID", converter = Converters.Id.class,
            defaultValue = "${env:SIDECAR_PROXY_GID}",
            description = "Also never redirect outbound traffic of this gid; the rule goes right after the uid rule (env SIDECAR_PROXY_GID). Default: none.")
    Integer proxyGid;

    @Option(names = "--skip-inbound-ports", paramLabel = "PORT", split = ",", converter = Converters.Ports.class,
            defaultValue = "${env:SIDECAR_SKIP_INBOUND_PORTS}",
            description = "Inbound destination ports and ranges that bypass the proxy, e.g. 22,9000-9010 (env SIDECAR_SKIP_INBOUND_PORTS). Default: none.")
    List<PortRange> skipInboundPorts = new ArrayList<>();

    @Option(names = "--skip-outbound-ports", paramLabel = "PORT", split = ",", converter = Converters.Ports.class,
            defaultValue = "${env:SIDECAR_SKIP_OUTBOUND_PORTS}",
            description = "Outbound destination ports and ranges that bypass the proxy, e.g. 25,443 (env SIDECAR_SKIP_OUTBOUND_PORTS). Default: none.")
    List<PortRange> skipOutboundPorts = new ArrayList<>();

    @Option(names = "--redirect-inbound-ports", paramLabel = "PORT", split = ",", converter = Converters.Ports.class,
            defaultValue = "${env:SIDECAR_REDIRECT_INBOUND_PORTS}",
            description = "Redirect only these inbound ports, one rule each (env SIDECAR_REDIRECT_INBOUND_PORTS). Default: all.")
    List<PortRange> redirectInboundPorts = new ArrayList<>();

    @Option(names = "--skip-inbound-subnets", paramLabel = "CIDR", split = ",", converter = Converters.Subnet.class,
            defaultValue = "${env:SIDECAR_SKIP_INBOUND_SUBNETS}",
            description = "Source subnets whose inbound traffic bypasses the proxy; IPv4 and IPv6 may be mixed (env SIDECAR_SKIP_INBOUND_SUBNETS). Default: none.")
    List<Cidr> skipInboundSubnets = new ArrayList<>();

    @Option(names = "--skip-outbound-subnets", paramLabel = "CIDR", split = ",", converter = Converters.Subnet.class,
            defaultValue = "${env:SIDECAR_SKIP_OUTBOUND_SUBNETS}",
            description = "Outbound traffic to these destination subnets bypasses the proxy; IPv4 and IPv6 may be mixed (env SIDECAR_SKIP_OUTBOUND_SUBNETS). Default: none.")
    List<Cidr> skipOutboundSubnets = new ArrayList<>();

    @Option(names = "--ipv6", negatable = true, defaultValue = "${env:SIDECAR_IPV6}", fallbackValue = "true",
            description = "Also install the rules with ip6tables (env SIDECAR_IPV6=true|false). Default: on when IPv6 is enabled in this network namespace.")
    Boolean ipv6;

    @Option(names = "--backend", paramLabel = "auto|nft|legacy", converter = Converters.BackendName.class,
            defaultValue = "${env:SIDECAR_BACKEND:-auto}",
            description = "iptables implementation; auto uses whichever already holds rules here, else nft (env SIDECAR_BACKEND). Default: ${DEFAULT-VALUE}.")
    Backend backend;

    /** The validated configuration; throws {@code InvalidConfigException} for inconsistent combinations. */
    public RedirectConfig toConfig() {
        return RedirectConfig.builder()
                .inboundPort(inboundPort)
                .outboundPort(outboundPort)
                .proxyUid(proxyUid)
                .proxyGid(proxyGid == null ? OptionalInt.empty() : OptionalInt.of(proxyGid))
                .skipInboundPorts(orEmpty(skipInboundPorts))
                .skipOutboundPorts(orEmpty(skipOutboundPorts))
                .redirectInboundPorts(orEmpty(redirectInboundPorts))
                .skipInboundSubnets(orEmpty(skipInboundSubnets))
                .skipOutboundSubnets(orEmpty(skipOutboundSubnets))
                .ipv6(ipv6 == null ? RedirectConfig.namespaceHasIpv6() : ipv6)
                .backend(backend)
                .build();
    }

    private static <T> List<T> orEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }
}
