package dev.sidecar.testkit;

import dev.sidecar.iptables.Backend;
import dev.sidecar.iptables.Cidr;
import dev.sidecar.iptables.InboundMode;
import dev.sidecar.iptables.PortRange;
import dev.sidecar.iptables.RedirectConfig;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * The one table of named redirect configurations: each is the baseline (Linkerd's defaults with
 * IPv6 on) plus one change. The name is the golden directory
 * {@code src/test/resources/golden/<name>/}; the same cases run on real iptables in the ITs.
 */
public final class RedirectCases {
    private RedirectCases() {}

    /** A named configuration. */
    public record Case(String name, RedirectConfig config) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** The baseline every case starts from: defaults, IPv6 on regardless of this machine, auto backend. */
    public static RedirectConfig.Builder baseline() {
        return RedirectConfig.builder().ipv6(true).backend(Backend.AUTO);
    }

    public static List<Case> all() {
        return List.of(
                c("default", b -> b),
                // 17 entries (two ranges count double): more than one multiport rule can hold.
                c("skip-ports-split", b -> b
                        .skipInboundPorts(ports("22,25,53,80,81,82,83,84,85,86,87,88,89,90,91,9000-9010,9100-9110"))
                        .skipOutboundPorts(ports("25,443"))),
                c("port-ranges", b -> b
                        .skipInboundPorts(ports("4190-4191,6000-6010"))
                        .skipOutboundPorts(ports("1-1024,3306"))),
                c("redirect-inbound-ports", b -> b
                        .redirectInboundPorts(ports("8080,9000-9010"))
                        .skipInboundPorts(ports("9005"))),
                c("subnets-v4-v6", b -> b
                        .skipInboundSubnets(subnets("198.18.0.0/15,2001:db8:1::/48"))
                        .skipOutboundSubnets(subnets("10.0.0.0/8,192.0.2.7,2001:db8::/32,2001:db8:ff::1"))),
                c("proxy-gid", b -> b.proxyGid(2102)),
                c("custom-ports", b -> b.inboundPort(15006).outboundPort(15001).proxyUid(1337)),
                c("ipv6-off", b -> b.ipv6(false)
                        .skipOutboundSubnets(subnets("198.18.0.0/15"))
                        .skipOutboundPorts(ports("5432"))),
                c("everything", b -> b
                        .inboundPort(4243).outboundPort(4240).proxyUid(2200).proxyGid(2201)
                        .skipInboundPorts(ports("22,4190-4191"))
                        .skipOutboundPorts(ports("25,443,8000-8100"))
                        .redirectInboundPorts(ports("80,8080-8090"))
                        .skipInboundSubnets(subnets("198.18.0.0/24,2001:db8:2::/64"))
                        .skipOutboundSubnets(subnets("198.19.0.0/16,2001:db8:3::/64"))));
    }

    /**
     * The tproxy inbound mode's cases ({@code InboundMode.TPROXY}): kept apart from {@link #all},
     * whose ITs compare the nat table alone; these own a mangle section and routing steps too.
     */
    public static List<Case> tproxy() {
        return List.of(
                c("tproxy", b -> b.inboundMode(InboundMode.TPROXY)),
                c("tproxy-everything", b -> b.inboundMode(InboundMode.TPROXY)
                        .inboundPort(4243).outboundPort(4240).proxyUid(2200).proxyGid(2201)
                        .skipInboundPorts(ports("22,4190-4191"))
                        .skipOutboundPorts(ports("25,443"))
                        .redirectInboundPorts(ports("80,8080-8090"))
                        .skipInboundSubnets(subnets("198.18.0.0/24,2001:db8:2::/64"))));
    }

    /** A case of {@link #all} or {@link #tproxy} by name. */
    public static Case anyNamed(String name) {
        return Stream.concat(all().stream(), tproxy().stream()).filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    public static Stream<Case> stream() {
        return all().stream();
    }

    public static Case named(String name) {
        return all().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    private static Case c(String name, UnaryOperator<RedirectConfig.Builder> change) {
        return new Case(name, change.apply(baseline()).build());
    }

    private static List<PortRange> ports(String list) {
        return PortRange.parseList(list);
    }

    private static List<Cidr> subnets(String list) {
        return Cidr.parseList(list);
    }
}
