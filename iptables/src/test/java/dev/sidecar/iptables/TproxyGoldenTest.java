package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.testkit.Golden;
import dev.sidecar.testkit.RedirectCases;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every tproxy case of {@link RedirectCases#tproxy} rendered and compared with its golden files. */
class TproxyGoldenTest {

    static java.util.stream.Stream<RedirectCases.Case> cases() {
        return RedirectCases.tproxy().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void installTextOfBothTablesMatchesGoldenForIpv4(RedirectCases.Case c) {
        Golden.assertMatches(c.name() + "/install-v4.rules", RuleRenderer.install(RedirectPlan.of(c.config()), IpFamily.IPV4));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void installTextOfBothTablesMatchesGoldenForIpv6(RedirectCases.Case c) {
        Golden.assertMatches(c.name() + "/install-v6.rules", RuleRenderer.install(RedirectPlan.of(c.config()), IpFamily.IPV6));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void routingStepsMatchGolden(RedirectCases.Case c) {
        RedirectPlan plan = RedirectPlan.of(c.config());
        String text = plan.families().stream().flatMap(f -> plan.routing(f).stream())
                .map(RouteStep::addLine).collect(Collectors.joining("\n", "", "\n"));
        Golden.assertMatches(c.name() + "/routing.txt", text);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void planJsonMatchesGolden(RedirectCases.Case c) {
        Golden.assertMatches(c.name() + "/plan.json", PlanJson.render(RedirectPlan.of(c.config())));
    }

    @Test
    void natTableKeepsOnlyTheOutboundHalfInTproxyMode() {
        RedirectPlan plan = RedirectPlan.of(RedirectCases.anyNamed("tproxy").config());
        assertThat(plan.tableRules(IpFamily.IPV4, Chains.TABLE)).extracting(Rule::chain)
                .containsOnly(Chains.OUTPUT, Chains.PROXY_OUTPUT);
        assertThat(plan.tables()).containsExactly("nat", "mangle");
    }

    @Test
    void redirectModeHasNoMangleRulesAndNoRouting() {
        RedirectPlan plan = RedirectPlan.of(RedirectCases.named("default").config());
        assertThat(plan.tables()).containsExactly("nat");
        assertThat(plan.routing(IpFamily.IPV4)).isEmpty();
        assertThat(plan.rules(IpFamily.IPV4)).allMatch(r -> r.table().equals("nat"));
    }

    @Test
    void installingTproxyOverARedirectInstallDeletesTheInboundNatChain() {
        NatState redirect = NatState.of(RedirectPlan.of(RedirectCases.named("default").config()).rules(IpFamily.IPV4));
        RedirectPlan tproxy = RedirectPlan.of(RedirectCases.anyNamed("tproxy").config());
        String text = RuleRenderer.install(Chains.TABLE, tproxy.tableRules(IpFamily.IPV4, Chains.TABLE), redirect);
        assertThat(text).contains("-D PREROUTING -m comment --comment \"proxy-init/install-proxy-init-prerouting\" -j PROXY_INIT_REDIRECT",
                "-F PROXY_INIT_REDIRECT", "-X PROXY_INIT_REDIRECT").doesNotContain(":PROXY_INIT_REDIRECT");
        assertThat(Drift.between(tproxy, IpFamily.IPV4, redirect).extra()).isNotEmpty();
    }

    @Test
    void removeOfAnInstalledMangleTableDeletesJumpsThenChains() {
        RedirectPlan plan = RedirectPlan.of(RedirectCases.anyNamed("tproxy").config());
        NatState mangle = NatState.of(plan.tableRules(IpFamily.IPV4, Chains.MANGLE));
        assertThat(RuleRenderer.remove(Chains.MANGLE, mangle).orElseThrow().lines().toList()).containsExactly(
                "*mangle",
                "-D PREROUTING -m comment --comment \"proxy-init/install-proxy-init-tproxy-prerouting\" -j PROXY_INIT_TPROXY",
                "-D OUTPUT -m comment --comment \"proxy-init/install-proxy-init-tproxy-output\" -j PROXY_INIT_TPROXY_OUTPUT",
                "-F PROXY_INIT_TPROXY", "-F PROXY_INIT_TPROXY_OUTPUT", "-X PROXY_INIT_TPROXY", "-X PROXY_INIT_TPROXY_OUTPUT", "COMMIT");
    }

    @Test
    void routeStepsSpellIpCommandsForBothFamilies() {
        assertThat(RouteStep.of(IpFamily.IPV6).stream().map(RouteStep::addLine).toList()).containsExactly(
                "ip -6 route add local ::/0 dev lo table 133", "ip -6 rule add fwmark 0x539 lookup 133");
        assertThat(new RouteStep(IpFamily.IPV4, RouteStep.Kind.ROUTE).delete())
                .containsExactly("-4", "route", "del", "local", "0.0.0.0/0", "dev", "lo", "table", "133");
    }

    @Test
    void routeStepsAreFoundInIpShowOutput() {
        RouteStep rule = new RouteStep(IpFamily.IPV4, RouteStep.Kind.RULE);
        RouteStep route = new RouteStep(IpFamily.IPV6, RouteStep.Kind.ROUTE);
        assertThat(rule.countIn("0:\tfrom all lookup local\n32765:\tfrom all fwmark 0x539 lookup 133\n32766:\tfrom all lookup main\n"))
                .isEqualTo(1);
        assertThat(rule.countIn("32765:\tfrom all fwmark 0x5390 lookup 133\n")).isZero();
        assertThat(route.countIn("local default dev lo metric 1024 pref medium\n")).isEqualTo(1);
        assertThat(new RouteStep(IpFamily.IPV4, RouteStep.Kind.ROUTE).countIn("local default dev lo scope host \n")).isEqualTo(1);
        assertThat(route.countIn("")).isZero();
    }

    @Test
    void modeIsParsedFromEitherWordAndRejectsOthersNamingTheOption() {
        assertThat(InboundMode.parse(" TProxy ")).isEqualTo(InboundMode.TPROXY);
        assertThat(InboundMode.parse("redirect")).isEqualTo(InboundMode.REDIRECT);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> InboundMode.parse("nat"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("inbound-mode").hasMessageContaining("nat");
    }

}
