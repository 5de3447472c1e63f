package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sidecar.testkit.NetnsLab;
import dev.sidecar.testkit.RedirectCases;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The rules helper on the real binaries of both variants, in a fresh namespace: the installer
 * reads and repairs through it exactly as through the binaries, and it refuses every line that is
 * not the plan's.
 */
@Tag("netns")
@Timeout(60)
class RulesHelperIT {
    private static final RedirectConfig CONFIG = RedirectCases.named("default").config();
    private static final RedirectPlan PLAN = RedirectPlan.of(CONFIG);
    private static final RedirectConfig TPROXY = RedirectCases.anyNamed("tproxy").config().toBuilder().ipv6(false).build();
    private static final RedirectPlan TPROXY_PLAN = RedirectPlan.of(TPROXY);

    private NetnsLab lab;
    private String ns;
    private RulesHelper helper;

    @BeforeEach
    void freshNamespace() {
        lab = new NetnsLab("hlp");
        ns = lab.namespace("pod");
    }

    @AfterEach
    void stop() {
        if (helper != null) {
            helper.close();
        }
        lab.close();
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void installerChecksAndRepairsThroughTheHelperAsThroughTheBinaries(Variant variant) throws Exception {
        helper = start(variant, policies(PLAN));
        RedirectInstaller installer = new RedirectInstaller(helper);

        installer.install(CONFIG);
        assertThat(installer.check(CONFIG).isClean()).isTrue();
        assertThat(new RedirectInstaller(new ProcessIptablesBackend(variant, List.of("ip", "netns", "exec", ns)))
                .check(CONFIG).isClean()).as("the binaries see what the helper installed").isTrue();

        iptables(variant, "-t", "nat", "-F", Chains.PROXY_OUTPUT);
        iptables(variant, "-t", "nat", "-A", "OUTPUT", "-j", Chains.PROXY_OUTPUT); // a stale second jump
        RedirectInstaller.CheckResult drifted = installer.check(CONFIG);
        assertThat(drifted.isClean()).isFalse();
        assertThat(drifted.describe()).contains("- -A PROXY_INIT_OUTPUT", "+ -A OUTPUT -j PROXY_INIT_OUTPUT");

        installer.install(CONFIG);
        assertThat(installer.check(CONFIG).isClean()).as(installer.check(CONFIG).describe()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void refusesEveryLineThatIsNotThePlansAndAppliesNothingOfThatRequest(Variant variant) throws Exception {
        helper = start(variant, policies(PLAN));
        String before = save(variant);

        assertThatThrownBy(() -> helper.restore(IpFamily.IPV4, "*nat\n:PROXY_INIT_OUTPUT - [0:0]\n-A OUTPUT -j DROP\nCOMMIT\n"))
                .isInstanceOf(IptablesCommandException.class)
                .hasMessageContaining("refused by the rules helper: not in the plan for ipv4: -A OUTPUT -j DROP");
        assertThatThrownBy(() -> helper.restore(IpFamily.IPV4, "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"))
                .hasMessageContaining("not in the plan for ipv4: *filter");
        assertThat(save(variant)).as("nothing was applied").isEqualTo(before);
        assertThat(helper.save(IpFamily.IPV4)).as("and it still answers").contains("*nat");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void aReadOnlyHelperReadsButRestoresNothing(Variant variant) throws Exception {
        helper = start(variant, List.of(RestorePolicy.readOnly(IpFamily.IPV4)));

        assertThat(helper.save(IpFamily.IPV4)).contains("*nat");
        assertThatThrownBy(() -> helper.restore(IpFamily.IPV4, RuleRenderer.install(PLAN, IpFamily.IPV4)))
                .hasMessageContaining("refused by the rules helper");
        assertThatThrownBy(() -> helper.save(IpFamily.IPV6)).hasMessageContaining("unknown family: ipv6");
        assertThat(save(variant)).doesNotContain(Chains.PROXY_OUTPUT);
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void exitsWhenItsStdinCloses(Variant variant) throws Exception {
        helper = start(variant, policies(PLAN));
        long pid = helper.pid();

        helper.close();

        assertThat(ProcessHandle.of(pid).map(h -> {
            try {
                return h.onExit().get(5, TimeUnit.SECONDS).isAlive();
            } catch (Exception e) {
                return true;
            }
        }).orElse(false)).isFalse();
        assertThatThrownBy(() -> helper.save(IpFamily.IPV4)).isInstanceOf(IptablesEnvironmentException.class)
                .hasMessageStartingWith("the rules helper is gone");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void readsEachTableItWasStartedForAloneAndRefusesAnyOther(Variant variant) throws Exception {
        helper = RulesHelper.start(variant, List.of("ip", "netns", "exec", ns), TPROXY_PLAN.tables(),
                List.of(RestorePolicy.readOnly(IpFamily.IPV4)), Duration.ofSeconds(10));

        assertThat(helper.save(IpFamily.IPV4, Chains.MANGLE)).contains("*mangle", ":PREROUTING ACCEPT").doesNotContain("*nat");
        assertThat(helper.save(IpFamily.IPV4)).contains("*nat").doesNotContain("*mangle");
        assertThatThrownBy(() -> helper.save(IpFamily.IPV4, "filter")).isInstanceOf(IptablesCommandException.class)
                .hasMessageContaining("refused by the rules helper: not a table of the plan: filter");
        assertThatThrownBy(() -> helper.save(IpFamily.IPV4, "")).hasMessageContaining("not a table of the plan");
        assertThat(helper.save(IpFamily.IPV4, Chains.MANGLE)).as("and it still answers").contains("*mangle");
        helper.close();

        helper = start(variant, List.of(RestorePolicy.readOnly(IpFamily.IPV4)));
        assertThatThrownBy(() -> helper.save(IpFamily.IPV4, Chains.MANGLE))
                .hasMessageContaining("not a table of the plan: mangle");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void tproxyInstallerChecksAndRepairsBothTablesAndItsRouteStepsThroughTheHelper(Variant variant) throws Exception {
        List<String> prefix = List.of("ip", "netns", "exec", ns);
        helper = RulesHelper.start(variant, prefix, TPROXY_PLAN.tables(), policies(TPROXY_PLAN), Duration.ofSeconds(10));
        RedirectInstaller installer = new RedirectInstaller(helper, helper.routes(new ProcessIpRoutes(prefix)));

        installer.install(TPROXY);
        assertThat(installer.check(TPROXY).isClean()).as(installer.check(TPROXY).describe()).isTrue();
        assertThat(new RedirectInstaller(new ProcessIptablesBackend(variant, prefix), new ProcessIpRoutes(prefix))
                .check(TPROXY).isClean()).as("the binaries see what the helper installed").isTrue();

        iptables(variant, "-t", "mangle", "-F", Chains.TPROXY);
        lab.exec(ns, "ip", "-4", "rule", "del", "fwmark", RouteStep.MARK, "lookup", "133");
        RedirectInstaller.CheckResult drifted = installer.check(TPROXY);
        assertThat(drifted.drifts().get(IpFamily.IPV4).isClean()).isTrue();
        assertThat(drifted.describe()).contains("IPv4: mangle table differs from the plan", "- -A PROXY_INIT_TPROXY",
                "routing differs from the plan: IPv4: missing: ip -4 rule add fwmark 0x539 lookup 133");

        installer.install(TPROXY);
        assertThat(installer.check(TPROXY).isClean()).as(installer.check(TPROXY).describe()).isTrue();
        assertThat(lab.exec(ns, "ip", "-4", "rule", "show")).contains("fwmark 0x539 lookup 133");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void runsNoIpCommandButThePlansRouteSteps(Variant variant) throws Exception {
        helper = start(variant, policies(TPROXY_PLAN));
        String rules = lab.exec(ns, "ip", "-4", "rule", "show");

        for (List<String> args : List.of(List.of("-4", "rule", "add", "fwmark", "0x1", "lookup", "5"),
                List.of("-4", "rule", "flush"), List.of("-4", "rule", "show"),
                List.of("-4", "rule", "add", "fwmark", "0x539", "lookup", "133", "priority", "1"))) {
            assertThatThrownBy(() -> helper.route(args)).as(String.join(" ", args)).isInstanceOf(IptablesCommandException.class)
                    .hasMessageContaining("refused by the rules helper: not a route step of the plan for ipv4");
        }
        assertThatThrownBy(() -> helper.route(List.of("-6", "rule", "add", "fwmark", "0x539", "lookup", "133")))
                .hasMessageContaining("refused by the rules helper: unknown family: ipv6");
        assertThatThrownBy(() -> helper.route(List.of("rule", "flush"))).hasMessageContaining("refused");
        assertThat(lab.exec(ns, "ip", "-4", "rule", "show")).isEqualTo(rules);

        RouteStep route = TPROXY_PLAN.routing(IpFamily.IPV4).get(0);
        helper.route(route.add());
        assertThat(lab.exec(ns, "ip", "-4", "route", "show", "table", "133")).contains("local default dev lo");
        helper.route(route.delete());
        assertThat(lab.tryExec(ns, "ip", "-4", "route", "show", "table", "133").output()).doesNotContain("local");
        assertThat(RestorePolicy.readOnly(IpFamily.IPV4).allowsRoute(route.add())).isFalse();
    }

    private RulesHelper start(Variant variant, List<RestorePolicy> policies) throws Exception {
        return RulesHelper.start(variant, List.of("ip", "netns", "exec", ns), policies, Duration.ofSeconds(10));
    }

    private static List<RestorePolicy> policies(RedirectPlan plan) {
        return plan.families().stream().map(f -> RestorePolicy.of(plan, f)).toList();
    }

    private String save(Variant variant) {
        return lab.exec(ns, variant.binary(IpFamily.IPV4, "save"), "-t", "nat").replaceAll("(?m)^#.*\n", "");
    }

    private void iptables(Variant variant, String... args) {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "iptables-" + variant;
        System.arraycopy(args, 0, cmd, 1, args.length);
        lab.exec(ns, cmd);
    }
}
