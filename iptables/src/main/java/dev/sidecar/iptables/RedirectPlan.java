package dev.sidecar.iptables;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The rules a {@link RedirectConfig} asks for, per address family, in the order of Linkerd's
 * proxy-init rules (<a href="https://linkerd.io/2/reference/iptables/">Linkerd's iptables
 * reference</a>): the PREROUTING jump, the inbound chain, the OUTPUT jump, the outbound chain. In
 * tproxy mode ({@link InboundMode#TPROXY}) the nat inbound half is left out and the mangle rules of
 * {@link TproxyRules} follow the outbound chain, with the policy routing of {@link #routing}.
 * Deciding what the rules are happens here and nowhere else; nothing runs while the plan is built.
 */
public final class RedirectPlan {
    /** iptables' multiport match takes at most 15 ports per rule, a range counting as two. */
    static final int MULTIPORT_SLOTS = 15;

    private final RedirectConfig config;
    private final Map<IpFamily, List<Rule>> rules = new EnumMap<>(IpFamily.class);

    private RedirectPlan(RedirectConfig config) {
        this.config = config;
        for (IpFamily family : config.families()) {
            rules.put(family, List.copyOf(build(config, family)));
        }
    }

    public static RedirectPlan of(RedirectConfig config) {
        return new RedirectPlan(config);
    }

    public RedirectConfig config() {
        return config;
    }

    /** The families this plan covers. */
    public List<IpFamily> families() {
        return config.families();
    }

    /** Every rule for one family, in order; empty for a family the plan does not cover. */
    public List<Rule> rules(IpFamily family) {
        return rules.getOrDefault(family, List.of());
    }

    /** The rules of one nat chain, in order. */
    public List<Rule> rules(IpFamily family, String chain) {
        return rules(family, Chains.TABLE, chain);
    }

    /** The rules of one chain of {@code table}, in order. */
    public List<Rule> rules(IpFamily family, String table, String chain) {
        return rules(family).stream().filter(r -> r.table().equals(table) && r.chain().equals(chain)).toList();
    }

    /** Every rule of {@code table} for one family, in order. */
    public List<Rule> tableRules(IpFamily family, String table) {
        return rules(family).stream().filter(r -> r.table().equals(table)).toList();
    }

    /** The tables this plan has rules in: nat, and mangle in tproxy mode. */
    public List<String> tables() {
        return config.inboundMode() == InboundMode.TPROXY ? Chains.TABLES : List.of(Chains.TABLE);
    }

    /** The policy routing that delivers marked packets locally; none in redirect mode. */
    public List<RouteStep> routing(IpFamily family) {
        return config.inboundMode() == InboundMode.TPROXY && config.families().contains(family)
                ? RouteStep.of(family) : List.of();
    }

    private static List<Rule> build(RedirectConfig c, IpFamily family) {
        List<Rule> out = new ArrayList<>();
        if (c.inboundMode() == InboundMode.REDIRECT) {
            inboundRedirect(out, c, family);
        }
        outbound(out, c, family);
        if (c.inboundMode() == InboundMode.TPROXY) {
            TproxyRules.add(out, c, family);
        }
        return out;
    }

    private static void inboundRedirect(List<Rule> out, RedirectConfig c, IpFamily family) {
        out.add(new Rule(Chains.PREROUTING, "", Chains.INSTALL_PREROUTING, Chains.REDIRECT));
        // Exclusions come before the redirect: the first matching RETURN wins.
        ignorePorts(out, Chains.REDIRECT, c.skipInboundPorts());
        for (Cidr subnet : onlyFamily(c.skipInboundSubnets(), family)) {
            out.add(new Rule(Chains.REDIRECT, "-s " + subnet, Chains.IGNORE_SUBNET, "RETURN"));
        }
        String toInbound = "REDIRECT --to-ports " + c.inboundPort();
        if (c.redirectInboundPorts().isEmpty()) {
            out.add(new Rule(Chains.REDIRECT, "-p tcp", Chains.REDIRECT_ALL, toInbound));
        } else {
            for (PortRange port : c.redirectInboundPorts()) {
                out.add(new Rule(Chains.REDIRECT, "-p tcp -m tcp --dport " + port.iptablesSpelling(), Chains.REDIRECT_PORT, toInbound));
            }
        }
    }

    private static void outbound(List<Rule> out, RedirectConfig c, IpFamily family) {
        out.add(new Rule(Chains.OUTPUT, "", Chains.INSTALL_OUTPUT, Chains.PROXY_OUTPUT));
        // The proxy's own connections must leave untouched, or they would loop back into it.
        out.add(new Rule(Chains.PROXY_OUTPUT, "-m owner --uid-owner " + c.proxyUid(), Chains.IGNORE_PROXY_UID, "RETURN"));
        if (c.proxyGid().isPresent()) {
            out.add(new Rule(Chains.PROXY_OUTPUT, "-m owner --gid-owner " + c.proxyGid().getAsInt(), Chains.IGNORE_PROXY_GID, "RETURN"));
        }
        // Loopback traffic includes the proxy's hand-off to the local application.
        out.add(new Rule(Chains.PROXY_OUTPUT, "-o lo", Chains.IGNORE_LOOPBACK, "RETURN"));
        ignorePorts(out, Chains.PROXY_OUTPUT, c.skipOutboundPorts());
        for (Cidr subnet : onlyFamily(c.skipOutboundSubnets(), family)) {
            out.add(new Rule(Chains.PROXY_OUTPUT, "-d " + subnet, Chains.IGNORE_SUBNET, "RETURN"));
        }
        out.add(new Rule(Chains.PROXY_OUTPUT, "-p tcp", Chains.REDIRECT_ALL_OUTGOING, "REDIRECT --to-ports " + c.outboundPort()));
    }

    private static void ignorePorts(List<Rule> out, String chain, List<PortRange> ports) {
        ignorePorts(out, Chains.TABLE, chain, ports);
    }

    static void ignorePorts(List<Rule> out, String table, String chain, List<PortRange> ports) {
        for (List<PortRange> group : multiportGroups(ports)) {
            String list = String.join(",", group.stream().map(PortRange::iptablesSpelling).toList());
            out.add(new Rule(table, chain, "-p tcp -m multiport --dports " + list, Chains.IGNORE_PORT, "RETURN"));
        }
    }

    /** Splits ports into groups that each fit one multiport match, keeping their order. */
    static List<List<PortRange>> multiportGroups(List<PortRange> ports) {
        List<List<PortRange>> groups = new ArrayList<>();
        List<PortRange> current = new ArrayList<>();
        int slots = 0;
        for (PortRange p : ports) {
            if (slots + p.multiportSlots() > MULTIPORT_SLOTS) {
                groups.add(List.copyOf(current));
                current.clear();
                slots = 0;
            }
            current.add(p);
            slots += p.multiportSlots();
        }
        if (!current.isEmpty()) {
            groups.add(List.copyOf(current));
        }
        return groups;
    }

    // A mixed list is split by family: each family's table only ever sees its own addresses.
    static List<Cidr> onlyFamily(List<Cidr> subnets, IpFamily family) {
        return subnets.stream().filter(s -> s.family() == family).toList();
    }
}
