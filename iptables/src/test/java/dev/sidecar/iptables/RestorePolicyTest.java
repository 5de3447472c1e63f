package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.testkit.RedirectCases;
import java.util.List;
import org.junit.jupiter.api.Test;

class RestorePolicyTest {
    private static final RedirectPlan PLAN = RedirectPlan.of(RedirectCases.named("default").config());
    private static final RestorePolicy V4 = RestorePolicy.of(PLAN, IpFamily.IPV4);

    @Test
    void allowsEveryLineInstallSendsToAnEmptyTable() {
        assertThat(RuleRenderer.install(PLAN, IpFamily.IPV4).lines()).allMatch(V4::allows);
    }

    @Test
    void allowsEveryLineInstallSendsToATableWithDuplicateAndStaleJumps() {
        NatState messy = SaveParser.parse("""
                *nat
                :OUTPUT ACCEPT [0:0]
                :PROXY_INIT_OUTPUT - [0:0]
                -A OUTPUT -m comment --comment "proxy-init/install-proxy-init-output" -j PROXY_INIT_OUTPUT
                -A OUTPUT -m comment --comment "proxy-init/install-proxy-init-output" -j PROXY_INIT_OUTPUT
                -A OUTPUT -j PROXY_INIT_OUTPUT
                -A OUTPUT -p tcp -g PROXY_INIT_OUTPUT
                -A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-ports 9999
                COMMIT
                """);

        String text = RuleRenderer.install(PLAN.rules(IpFamily.IPV4), messy);

        assertThat(text).contains("-D OUTPUT -j PROXY_INIT_OUTPUT", "-D OUTPUT -p tcp -g PROXY_INIT_OUTPUT");
        assertThat(text.lines()).allMatch(V4::allows);
    }

    @Test
    void refusesRulesOfOtherTablesChainsAndTargets() {
        assertThat(V4.allows("*filter")).isFalse();
        assertThat(V4.allows("-A OUTPUT -j DROP")).isFalse();
        assertThat(V4.allows("-A PROXY_INIT_OUTPUT -j ACCEPT")).isFalse();
        assertThat(V4.allows("-D OUTPUT -j ACCEPT")).isFalse();
        assertThat(V4.allows("-D INPUT -j PROXY_INIT_OUTPUT")).as("only the built-in chain that jumps there").isFalse();
        assertThat(V4.allows("-D OUTPUT -j PROXY_INIT_REDIRECT")).as("not the other chain's jump").isFalse();
        assertThat(V4.allows("-F OUTPUT")).isFalse();
        assertThat(V4.allows("-X PROXY_INIT_OUTPUT")).isFalse();
        assertThat(V4.allows("-A OUTPUT -m comment --comment \"proxy-init/install-proxy-init-output\" -j PROXY_INIT_OUTPUT -j DROP"))
                .isFalse();
    }

    @Test
    void aReadOnlyPolicyAllowsNothing() {
        assertThat(RuleRenderer.install(PLAN, IpFamily.IPV4).lines()).noneMatch(RestorePolicy.readOnly(IpFamily.IPV4)::allows);
    }

    @Test
    void entriesNameTheFamilyAsTheHelperReadsThem() {
        assertThat(V4.entries()).first().isEqualTo("ipv4 = *nat");
        assertThat(V4.entries()).contains("ipv4 ~ -D OUTPUT *-j PROXY_INIT_OUTPUT", "ipv4 = COMMIT");
        assertThat(RestorePolicy.of(PLAN, IpFamily.IPV6).entries()).allMatch(e -> e.startsWith("ipv6 "));
    }

    @Test
    void aTproxyPolicyAllowsBothTablesAndAddingOrDeletingOnlyThePlansRouteSteps() {
        RedirectPlan tproxy = RedirectPlan.of(RedirectCases.anyNamed("tproxy").config());
        RestorePolicy v4 = RestorePolicy.of(tproxy, IpFamily.IPV4);

        assertThat(RuleRenderer.install(tproxy, IpFamily.IPV4)).contains("*mangle");
        assertThat(RuleRenderer.install(tproxy, IpFamily.IPV4).lines()).allMatch(v4::allows);
        for (RouteStep step : tproxy.routing(IpFamily.IPV4)) {
            assertThat(v4.allowsRoute(step.add())).as(step.addLine()).isTrue();
            assertThat(v4.allowsRoute(step.delete())).isTrue();
            assertThat(v4.allowsRoute(step.show())).as("showing runs in-process, not as the helper").isFalse();
        }
        assertThat(v4.allowsRoute(List.of("-4", "rule", "add", "fwmark", "0x539", "lookup", "134"))).isFalse();
        assertThat(v4.allowsRoute(List.of("-4", "route", "add", "default", "via", "198.18.0.1"))).isFalse();
        assertThat(v4.allowsRoute(List.of("-6", "rule", "add", "fwmark", "0x539", "lookup", "133"))).as("the other family's").isFalse();
        assertThat(v4.allowsRoute(List.of("-4", "rule", "flush"))).isFalse();
        assertThat(v4.entries()).contains("ipv4 ip -4 rule add fwmark 0x539 lookup 133",
                "ipv4 ip -4 route del local 0.0.0.0/0 dev lo table 133");
        assertThat(V4.routes()).as("redirect mode has no route step").isEmpty();
        assertThat(RestorePolicy.readOnly(IpFamily.IPV4).routes()).isEmpty();
    }
}
