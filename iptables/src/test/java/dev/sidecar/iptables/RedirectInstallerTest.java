package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sidecar.testkit.RecordingIptablesBackend;
import org.junit.jupiter.api.Test;

class RedirectInstallerTest {
    private final RecordingIptablesBackend backend = new RecordingIptablesBackend();
    private final RedirectInstaller installer = new RedirectInstaller(backend);
    private final RedirectConfig both = RedirectConfig.builder().ipv6(true).build();

    @Test
    void installReadsEveryFamilyThenRestoresOncePerFamily() {
        installer.install(both);
        assertThat(backend.calls()).containsExactly("save v4", "save v6", "restore v4", "restore v6");
        assertThat(backend.restores()).allSatisfy(t -> assertThat(t).startsWith("*nat\n").endsWith("COMMIT\n"));
    }

    @Test
    void installWithIpv6OffTouchesOnlyIpv4() {
        installer.install(RedirectConfig.builder().ipv6(false).build());
        assertThat(backend.calls()).containsExactly("save v4", "restore v4");
    }

    @Test
    void installComputesAgainstWhatIsThere() {
        backend.withDump(IpFamily.IPV4, SaveDumps.HALF_INSTALLED);
        installer.install(both);
        assertThat(backend.restores().get(0)).contains("-D OUTPUT -j PROXY_INIT_OUTPUT");
        assertThat(backend.restores().get(1)).doesNotContain("-D ");
    }

    @Test
    void removeWithNothingInstalledRestoresNothingAndSucceeds() {
        assertThat(installer.remove(both)).isFalse();
        assertThat(backend.calls()).containsExactly("save v4", "save v6");
    }

    @Test
    void removeRestoresOnlyWhereSomethingIsInstalled() {
        backend.withDump(IpFamily.IPV6, SaveDumps.INSTALLED_DEFAULT);
        assertThat(installer.remove(both)).isTrue();
        assertThat(backend.calls()).containsExactly("save v4", "save v6", "restore v6");
    }

    @Test
    void aFamilyThatCannotBeReadChangesNothing() {
        backend.failing(IpFamily.IPV6, () -> new IptablesEnvironmentException("ip6tables-nft-save not found on PATH"));
        assertThatThrownBy(() -> installer.install(both)).isInstanceOf(IptablesEnvironmentException.class);
        assertThat(backend.calls()).containsExactly("save v4", "save v6");
    }

    @Test
    void checkReportsDriftPerFamilyAndChangesNothing() {
        backend.withDump(IpFamily.IPV4, SaveDumps.INSTALLED_DEFAULT);
        RedirectInstaller.CheckResult r = installer.check(both);
        assertThat(r.drifts().get(IpFamily.IPV4).isClean()).isTrue();
        assertThat(r.drifts().get(IpFamily.IPV6).isClean()).isFalse();
        assertThat(r.isClean()).isFalse();
        assertThat(r.describe()).startsWith("IPv4: nat table matches the plan\nIPv6: nat table differs from the plan");
        assertThat(backend.calls()).containsExactly("save v4", "save v6");
    }

    @Test
    void aRejectedFamilyStopsTheInstallWithItsError() {
        backend.rejectingRestore(IpFamily.IPV4, () -> new IptablesCommandException("iptables-nft-restore -w --noflush", 1, "boom"));
        assertThatThrownBy(() -> installer.install(both)).isInstanceOf(IptablesCommandException.class)
                .hasMessage("iptables-nft-restore -w --noflush exited 1: boom");
        assertThat(backend.calls()).containsExactly("save v4", "save v6", "restore v4");
        assertThat(backend.restores()).isEmpty();
    }

    @Test
    void aRejectedIpv6UndoesTheAppliedIpv4AndRethrowsTheRejection() {
        IptablesCommandException rejection = new IptablesCommandException("ip6tables-nft-restore -w --noflush", 4, "RULE_APPEND failed");
        backend.withDump(IpFamily.IPV4, SaveDumps.FOREIGN_ONLY)
                .withDumpAfterRestore(IpFamily.IPV4, SaveDumps.INSTALLED_DEFAULT)
                .rejectingRestore(IpFamily.IPV6, () -> rejection);

        assertThatThrownBy(() -> installer.install(both)).isSameAs(rejection);

        assertThat(backend.calls()).containsExactly("save v4", "save v6", "restore v4", "restore v6", "save v4", "restore v4");
        assertThat(backend.restores()).hasSize(2);
        assertThat(backend.restores().get(1)).isEqualTo(RuleRenderer.remove(SaveParser.parse(SaveDumps.INSTALLED_DEFAULT)).orElseThrow());
    }

    @Test
    void theUndoPutsBackAnOlderInstall() {
        backend.withDump(IpFamily.IPV4, SaveDumps.OLDER_INSTALL)
                .withDumpAfterRestore(IpFamily.IPV4, SaveDumps.REINSTALLED_DEFAULT)
                .rejectingRestore(IpFamily.IPV6, () -> new IptablesCommandException("ip6tables-nft-restore -w --noflush", 4, "boom"));

        assertThatThrownBy(() -> installer.install(both)).isInstanceOf(IptablesCommandException.class);

        assertThat(backend.restores().get(1)).isEqualTo(RuleRenderer.revert(
                SaveParser.parse(SaveDumps.OLDER_INSTALL), SaveParser.parse(SaveDumps.REINSTALLED_DEFAULT)).orElseThrow());
    }

    @Test
    void aFailedUndoIsSuppressedUnderTheOriginalRejection() {
        IptablesCommandException rejection = new IptablesCommandException("ip6tables-nft-restore -w --noflush", 4, "boom");
        IptablesCommandException undoFailure = new IptablesCommandException("iptables-nft-restore -w --noflush", 4, "undo boom");
        backend.withDumpAfterRestore(IpFamily.IPV4, SaveDumps.INSTALLED_DEFAULT)
                .rejectingRestoreAfter(IpFamily.IPV4, 1, () -> undoFailure)
                .rejectingRestore(IpFamily.IPV6, () -> rejection);

        assertThatThrownBy(() -> installer.install(both)).isSameAs(rejection);

        assertThat(rejection.getSuppressed()).containsExactly(undoFailure);
        assertThat(backend.calls()).containsExactly("save v4", "save v6", "restore v4", "restore v6", "save v4", "restore v4");
    }
}
