package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sidecar.testkit.RecordingIpRoutes;
import dev.sidecar.testkit.RecordingIptablesBackend;
import dev.sidecar.testkit.RedirectCases;
import org.junit.jupiter.api.Test;

/** The order of what tproxy mode's install, remove and check run, on recording fakes. */
class TproxyInstallerTest {
    private final RecordingIptablesBackend backend = new RecordingIptablesBackend();
    private final RecordingIpRoutes ip = new RecordingIpRoutes();
    private final RedirectInstaller installer = new RedirectInstaller(backend, ip);
    private final RedirectConfig tproxy = RedirectCases.anyNamed("tproxy").config();

    @Test
    void installReadsBothTablesThenAddsTheRoutingThenRestoresOncePerFamilyWithBothTables() {
        installer.install(tproxy);

        assertThat(backend.calls()).containsExactly("save v4", "save v4 mangle", "save v6", "save v6 mangle", "restore v4", "restore v6");
        assertThat(backend.restores()).allSatisfy(t -> assertThat(t).startsWith("*nat\n").contains("COMMIT\n*mangle\n").endsWith("COMMIT\n"));
        assertThat(ip.state()).containsExactly("-4 route table 133", "-6 route table 133",
                "-4 rule fwmark 0x539 lookup 133", "-6 rule fwmark 0x539 lookup 133");
    }

    @Test
    void installAddsNoRoutingStepThatIsAlreadyThere() {
        installer.install(tproxy);
        installer.install(tproxy);

        assertThat(ip.calls().stream().filter(c -> c.contains(" add ")).count()).isEqualTo(4);
        assertThat(installer.check(tproxy).routing()).isEmpty();
    }

    @Test
    void aRejectedRestoreTakesBackTheRoutesItAdded() {
        backend.rejectingRestore(IpFamily.IPV6, () -> new IptablesCommandException("ip6tables-nft-restore", 2,
                "Couldn't load target `TPROXY'"));

        assertThatThrownBy(() -> installer.install(tproxy)).isInstanceOf(IptablesCommandException.class)
                .hasMessageContaining("Couldn't load target `TPROXY'").hasMessageContaining("nothing was left installed")
                .hasMessageContaining("modprobe xt_TPROXY").hasMessageNotContaining("\n");
        assertThat(ip.state()).isEmpty();
        // IPv4 was applied and is reverted; IPv6 is read again in case one of its tables committed.
        assertThat(backend.calls()).containsSubsequence("restore v4", "restore v6", "save v6", "save v6 mangle", "save v4", "save v4 mangle");
    }

    @Test
    void aRoutingStepThatFailsTakesBackTheStepsBeforeItAndTouchesNoTable() {
        ip.failing("ip -6 rule add fwmark 0x539 lookup 133");

        assertThatThrownBy(() -> installer.install(tproxy)).isInstanceOf(IptablesCommandException.class);
        assertThat(ip.state()).isEmpty();
        assertThat(backend.calls()).noneMatch(c -> c.startsWith("restore"));
    }

    @Test
    void removeDeletesTheRoutingAfterTheRules() {
        installer.install(tproxy);
        backend.withDump(IpFamily.IPV4, RuleRenderer.install(RedirectPlan.of(tproxy), IpFamily.IPV4).replace("COMMIT\n*", "COMMIT\n\n*"));

        assertThat(installer.remove(tproxy)).isTrue();
        assertThat(ip.state()).isEmpty();
        assertThat(backend.restores().get(backend.restores().size() - 1)).contains("-X PROXY_INIT_TPROXY", "-X PROXY_INIT_OUTPUT");
    }

    @Test
    void checkNamesEachMissingRoutingStep() {
        RedirectInstaller.CheckResult result = installer.check(tproxy);

        assertThat(result.isClean()).isFalse();
        assertThat(result.describe()).contains("missing: ip -4 rule add fwmark 0x539 lookup 133",
                "missing: ip -6 route add local ::/0 dev lo table 133", "IPv4: mangle table differs from the plan");
    }

    @Test
    void redirectModeNeverRunsIp() {
        installer.install(RedirectCases.named("default").config());
        installer.remove(RedirectCases.named("default").config());
        installer.check(RedirectCases.named("default").config());

        assertThat(ip.calls()).isEmpty();
        assertThat(backend.calls()).noneMatch(c -> c.contains("mangle"));
    }

    @Test
    void anInstallerWithoutIpRefusesTproxyBeforeChangingAnyTable() {
        assertThatThrownBy(() -> new RedirectInstaller(backend).install(tproxy)).isInstanceOf(IptablesEnvironmentException.class);
        assertThat(backend.calls()).noneMatch(c -> c.startsWith("restore"));
    }
}
