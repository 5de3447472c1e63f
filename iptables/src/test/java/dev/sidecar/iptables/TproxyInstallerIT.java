package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sidecar.testkit.NetnsLab;
import dev.sidecar.testkit.RedirectCases;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The tproxy cases on real iptables and real {@code ip} in a fresh namespace: install, check, again, remove, fail. */
@Tag("netns")
@Timeout(120)
class TproxyInstallerIT {
    private static final RedirectConfig TPROXY = RedirectCases.anyNamed("tproxy").config();

    private NetnsLab lab;
    private String ns;

    @BeforeEach
    void freshNamespace() {
        lab = new NetnsLab("tpx");
        ns = lab.namespace("pod");
    }

    @AfterEach
    void deleteNamespace() {
        lab.close();
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void installAddsBothTablesAndTheRoutingAndCheckFindsThemClean(Variant variant) {
        for (RedirectCases.Case c : RedirectCases.tproxy()) {
            installer(variant).install(c.config());
            assertThat(installer(variant).check(c.config()).describe()).doesNotContain("differs");
            assertThat(installer(variant).check(c.config()).isClean()).isTrue();
        }
        assertThat(lab.exec(ns, "ip", "-4", "rule", "show")).contains("fwmark 0x539 lookup 133");
        assertThat(lab.exec(ns, "ip", "-6", "rule", "show")).contains("fwmark 0x539 lookup 133");
        assertThat(lab.exec(ns, "ip", "-4", "route", "show", "table", "133")).contains("local default dev lo");
        assertThat(lab.exec(ns, "ip", "-6", "route", "show", "table", "133")).contains("local default dev lo");
        assertThat(save(variant, IpFamily.IPV4, "nat")).doesNotContain("PROXY_INIT_REDIRECT").contains("PROXY_INIT_OUTPUT");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void installingTwiceAddsNoSecondRuleOrRoute(Variant variant) {
        installer(variant).install(TPROXY);
        installer(variant).install(TPROXY);
        assertThat(lab.exec(ns, "ip", "-4", "rule", "show").split("fwmark 0x539", -1)).hasSize(2);
        assertThat(installer(variant).check(TPROXY).isClean()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void checkReportsAMissingIpRule(Variant variant) {
        installer(variant).install(TPROXY);
        lab.exec(ns, "ip", "-6", "rule", "del", "fwmark", "0x539", "lookup", "133");
        RedirectInstaller.CheckResult result = installer(variant).check(TPROXY);
        assertThat(result.isClean()).isFalse();
        assertThat(result.describe()).contains("missing: ip -6 rule add fwmark 0x539 lookup 133");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void removeLeavesNoChainJumpRuleOrRoute(Variant variant) {
        installer(variant).install(RedirectCases.anyNamed("tproxy-everything").config());
        assertThat(installer(variant).remove(TPROXY)).isTrue();
        assertNothingLeft(variant);
        assertThat(installer(variant).remove(TPROXY)).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void tproxyInstalledOverRedirectReplacesTheInboundNatChain(Variant variant) {
        installer(variant).install(RedirectCases.named("default").config());
        installer(variant).install(TPROXY);
        assertThat(save(variant, IpFamily.IPV4, "nat")).doesNotContain("PROXY_INIT_REDIRECT");
        assertThat(installer(variant).check(TPROXY).isClean()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void aRejectedMangleTableLeavesNothingInstalled(Variant variant) {
        // As on a kernel without xt_TPROXY: the mangle section is refused after the routes were added.
        IptablesBackend real = backend(variant);
        IptablesBackend noTproxy = new IptablesBackend() {
            @Override public Variant variant() { return real.variant(); }
            @Override public String save(IpFamily family) { return real.save(family); }
            @Override public String save(IpFamily family, String table) { return real.save(family, table); }
            @Override public String saveAll(IpFamily family) { return real.saveAll(family); }
            @Override public void restore(IpFamily family, String text) {
                real.restore(family, text.replace("-j TPROXY ", "-j NO_SUCH_TARGET "));
            }
        };
        assertThatThrownBy(() -> new RedirectInstaller(noTproxy, routes()).install(TPROXY))
                .isInstanceOf(RuntimeException.class);
        assertNothingLeft(variant);
    }

    private void assertNothingLeft(Variant variant) {
        for (IpFamily f : IpFamily.values()) {
            assertThat(save(variant, f, "nat")).doesNotContain("PROXY_INIT");
            assertThat(save(variant, f, "mangle")).doesNotContain("PROXY_INIT");
        }
        assertThat(lab.exec(ns, "ip", "-4", "rule", "show")).doesNotContain("0x539");
        assertThat(lab.exec(ns, "ip", "-6", "rule", "show")).doesNotContain("0x539");
        assertThat(lab.tryExec(ns, "ip", "-4", "route", "show", "table", "133").output()).doesNotContain("local");
        assertThat(lab.tryExec(ns, "ip", "-6", "route", "show", "table", "133").output()).doesNotContain("local");
    }

    private IptablesBackend backend(Variant variant) {
        return new ProcessIptablesBackend(variant, List.of(NetnsLab.inNs(ns)));
    }

    private IpRoutes routes() {
        return new ProcessIpRoutes(List.of(NetnsLab.inNs(ns)));
    }

    private RedirectInstaller installer(Variant variant) {
        return new RedirectInstaller(backend(variant), routes());
    }

    private String save(Variant variant, IpFamily family, String table) {
        return lab.exec(ns, variant.binary(family, "save"), "-t", table);
    }
}
