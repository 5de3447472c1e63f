package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class RedirectPlanTest {

    private static RedirectConfig.Builder base() {
        return RedirectConfig.builder().ipv6(true);
    }

    @Test
    void defaultPlanFollowsTheOrderOfLinkerdsProxyInitRules() {
        List<String> slugs = RedirectPlan.of(base().build()).rules(IpFamily.IPV4).stream().map(Rule::slug).toList();
        assertThat(slugs).containsExactly("install-proxy-init-prerouting", "proxy-init-redirect-all",
                "install-proxy-init-output", "ignore-proxy-uid", "ignore-loopback", "redirect-all-outgoing");
    }

    @Test
    void fifteenSlotsFitOneRuleAndTheSixteenthStartsAnother() {
        List<PortRange> fifteen = PortRange.parseList("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15");
        assertThat(RedirectPlan.multiportGroups(fifteen)).hasSize(1);
        List<PortRange> sixteen = PortRange.parseList("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16");
        assertThat(RedirectPlan.multiportGroups(sixteen)).extracting(List::size).containsExactly(15, 1);
    }

    @Test
    void aRangeCountsAsTwoSlots() {
        // 14 single ports plus a range is 16 slots: the range moves to a second rule.
        List<PortRange> ports = PortRange.parseList("1,2,3,4,5,6,7,8,9,10,11,12,13,14,100-200");
        assertThat(RedirectPlan.multiportGroups(ports)).extracting(List::size).containsExactly(14, 1);
    }

    @Test
    void gidRuleComesRightAfterUidRule() {
        List<Rule> out = RedirectPlan.of(base().proxyGid(7).build()).rules(IpFamily.IPV4, Chains.PROXY_OUTPUT);
        assertThat(out).extracting(Rule::slug).startsWith("ignore-proxy-uid", "ignore-proxy-gid", "ignore-loopback");
        assertThat(out.get(1).matches()).isEqualTo("-m owner --gid-owner 7");
    }

    @Test
    void eachSubnetGoesOnlyToItsOwnFamily() {
        RedirectPlan plan = RedirectPlan.of(base().skipOutboundSubnets(Cidr.parseList("10.0.0.0/8,2001:db8::/32")).build());
        assertThat(plan.rules(IpFamily.IPV4, Chains.PROXY_OUTPUT)).extracting(Rule::matches).contains("-d 10.0.0.0/8")
                .doesNotContain("-d 2001:db8::/32");
        assertThat(plan.rules(IpFamily.IPV6, Chains.PROXY_OUTPUT)).extracting(Rule::matches).contains("-d 2001:db8::/32")
                .doesNotContain("-d 10.0.0.0/8");
    }

    @Test
    void redirectInboundPortsReplacesRedirectAllWithOneRulePerEntry() {
        List<Rule> in = RedirectPlan.of(base().redirectInboundPorts(PortRange.parseList("80,8000-8100")).build())
                .rules(IpFamily.IPV4, Chains.REDIRECT);
        assertThat(in).extracting(Rule::slug).containsExactly("redirect-port", "redirect-port");
        assertThat(in).extracting(Rule::matches).containsExactly("-p tcp -m tcp --dport 80", "-p tcp -m tcp --dport 8000:8100");
    }

    @Test
    void ipv6OffPlansNoIpv6Rules() {
        assertThat(RedirectPlan.of(base().ipv6(false).build()).rules(IpFamily.IPV6)).isEmpty();
    }

    @Test
    void customPortsAndUidReachTheRules() {
        RedirectPlan plan = RedirectPlan.of(base().inboundPort(15006).outboundPort(15001).proxyUid(1337).build());
        assertThat(plan.rules(IpFamily.IPV4)).extracting(Rule::appendLine).contains(
                "-A PROXY_INIT_REDIRECT -p tcp -m comment --comment \"proxy-init/proxy-init-redirect-all\" -j REDIRECT --to-ports 15006",
                "-A PROXY_INIT_OUTPUT -m owner --uid-owner 1337 -m comment --comment \"proxy-init/ignore-proxy-uid\" -j RETURN",
                "-A PROXY_INIT_OUTPUT -p tcp -m comment --comment \"proxy-init/redirect-all-outgoing\" -j REDIRECT --to-ports 15001");
    }
}
