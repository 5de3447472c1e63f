package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.Backend;
import dev.sidecar.iptables.Cidr;
import dev.sidecar.iptables.InboundMode;
import dev.sidecar.iptables.PortRange;
import dev.sidecar.iptables.RedirectConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import picocli.CommandLine.Option;

/**
 * The redirect options, shared as a {@code @Mixin} by every command that installs or inspects the
 * rules. Each option can also come from an environment variable ({@link Env}), named in
 * {@code --help}; a flag beats the variable. {@link #toConfig()} is the one place flags become a
 * {@link RedirectConfig}. A list option's converter takes a whole comma-separated list per
 * occurrence ({@link Converters.PortList}), so a stray comma is an error rather than nothing
 * (picocli's {@code split} drops trailing empty entries); picocli adds each converted list to the
 * field, so repeating the option adds to the list.
 */
public final class RedirectOptions {

    @Option(names = "--inbound-port", paramLabel = "PORT", converter = Converters.Port.class,
            defaultValue = "${env:" + Env.INBOUND_PORT + ":-4143}",
            description = "Port the proxy accepts redirected inbound connections on (env " + Env.INBOUND_PORT + "). Default: ${DEFAULT-VALUE}.")
    int inboundPort;

    @Option(names = "--outbound-port", paramLabel = "PORT", converter = Converters.Port.class,
            defaultValue = "${env:" + Env.OUTBOUND_PORT + ":-4140}",
            description = "Port the proxy accepts redirected outbound connections on (env " + Env.OUTBOUND_PORT + "). Default: ${DEFAULT-VALUE}.")
    int outboundPort;

    @Option(names = "--proxy-uid", paramLabel = "UID", converter = Converters.Id.class,
            defaultValue = "${env:" + Env.PROXY_UID + ":-2102}",
            description = "Uid whose outbound traffic is never redirected: the proxy's own; not 0 (env " + Env.PROXY_UID + "). Default: ${DEFAULT-VALUE}.")
    int proxyUid;

    @Option(names = "--proxy-gid", paramLabel = "GID", converter = Converters.Id.class,
            defaultValue = "${env:" + Env.PROXY_GID + "}",
            description = "Also never redirect outbound traffic of this gid; the rule goes right after the uid rule; not 0 (env " + Env.PROXY_GID + "). Default: none.")
    Integer proxyGid;

    @Option(names = "--skip-inbound-ports", paramLabel = "PORT[,PORT...]", converter = Converters.PortList.class,
            defaultValue = "${env:" + Env.SKIP_INBOUND_PORTS + "}",
            description = "Inbound destination ports and ranges that bypass the proxy, e.g. 22,9000-9010 (env " + Env.SKIP_INBOUND_PORTS + "). Default: none.")
    List<PortRange> skipInboundPorts = new ArrayList<>();

    @Option(names = "--skip-outbound-ports", paramLabel = "PORT[,PORT...]", converter = Converters.PortList.class,
            defaultValue = "${env:" + Env.SKIP_OUTBOUND_PORTS + "}",
            description = "Outbound destination ports and ranges that bypass the proxy, e.g. 25,443 (env " + Env.SKIP_OUTBOUND_PORTS + "). Default: none.")
    List<PortRange> skipOutboundPorts = new ArrayList<>();

    @Option(names = "--redirect-inbound-ports", paramLabel = "PORT[,PORT...]", converter = Converters.PortList.class,
            defaultValue = "${env:" + Env.REDIRECT_INBOUND_PORTS + "}",
            description = "Redirect only these inbound ports, one rule each (env " + Env.REDIRECT_INBOUND_PORTS + "). Default: all.")
    List<PortRange> redirectInboundPorts = new ArrayList<>();

    @Option(names = "--skip-inbound-subnets", paramLabel = "CIDR[,CIDR...]", converter = Converters.SubnetList.class,
            defaultValue = "${env:" + Env.SKIP_INBOUND_SUBNETS + "}",
            description = "Source subnets whose inbound traffic bypasses the proxy; IPv4 and IPv6 may be mixed (env " + Env.SKIP_INBOUND_SUBNETS + "). Default: none.")
    List<Cidr> skipInboundSubnets = new ArrayList<>();

    @Option(names = "--skip-outbound-subnets", paramLabel = "CIDR[,CIDR...]", converter = Converters.SubnetList.class,
            defaultValue = "${env:" + Env.SKIP_OUTBOUND_SUBNETS + "}",
            description = "Outbound traffic to these destination subnets bypasses the proxy; IPv4 and IPv6 may be mixed (env " + Env.SKIP_OUTBOUND_SUBNETS + "). Default: none.")
    List<Cidr> skipOutboundSubnets = new ArrayList<>();

    // arity 0..1 with the strict converter: --ipv6=TRUE works, --ipv6= is an error, not false.
    @Option(names = "--ipv6", negatable = true, arity = "0..1", paramLabel = "BOOL", converter = Converters.Bool.class,
            defaultValue = "${env:" + Env.IPV6 + "}", fallbackValue = "true",
            description = "Also install the rules with ip6tables; --no-ipv6 takes no value (env " + Env.IPV6 + "=true|false). Default: on when IPv6 is enabled in this network namespace.")
    Boolean ipv6;

    @Option(names = "--backend", paramLabel = "auto|nft|legacy", converter = Converters.BackendName.class,
            defaultValue = "${env:" + Env.BACKEND + ":-auto}",
            description = "iptables implementation; auto uses whichever already holds rules here, else nft (env " + Env.BACKEND + "). Default: ${DEFAULT-VALUE}.")
    Backend backend;

    @Option(names = "--inbound-mode", paramLabel = "redirect|tproxy", converter = Converters.InboundModeName.class,
            defaultValue = "${env:" + Env.INBOUND_MODE + ":-redirect}",
            description = "How inbound connections reach the proxy: redirect (nat REDIRECT) or tproxy (mangle TPROXY; the app sees the client's address; the proxy keeps CAP_NET_RAW) (env " + Env.INBOUND_MODE + "). Default: ${DEFAULT-VALUE}.")
    InboundMode inboundMode;

    /**
     * The validated configuration; throws {@code InvalidConfigException} for inconsistent
     * combinations. Without {@code --ipv6} or {@code --no-ipv6}, the machine decides here: IPv6
     * rules when this network namespace has IPv6.
     */
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
                .inboundMode(inboundMode)
                .build();
    }

    private static <T> List<T> orEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }
}
