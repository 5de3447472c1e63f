package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sidecar.testkit.RecordingIptablesBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackendDetectorTest {
    private final RecordingIptablesBackend nft = new RecordingIptablesBackend(Variant.NFT);
    private final RecordingIptablesBackend legacy = new RecordingIptablesBackend(Variant.LEGACY);
    private final BackendDetector detector = new BackendDetector(v -> v == Variant.NFT ? nft : legacy);
    private static final List<IpFamily> BOTH = List.of(IpFamily.IPV4, IpFamily.IPV6);

    @Test
    void emptyNamespacePicksNft() {
        BackendDetector.Detection d = detector.detect(BOTH);
        assertThat(d.variant()).isEqualTo(Variant.NFT);
        assertThat(d.reason()).contains("no rules");
    }

    @Test
    void legacyHoldingRulesWins() {
        legacy.withDump(IpFamily.IPV6, SaveDumps.FOREIGN_ONLY);
        BackendDetector.Detection d = detector.detect(BOTH);
        assertThat(d.variant()).isEqualTo(Variant.LEGACY);
        assertThat(d.reason()).contains("legacy already holds 1 rules");
    }

    @Test
    void nftHoldingRulesWins() {
        nft.withDump(IpFamily.IPV4, SaveDumps.INSTALLED_DEFAULT);
        assertThat(detector.detect(BOTH).variant()).isEqualTo(Variant.NFT);
    }

    @Test
    void detectionOnlyReadsAndNeverInstantiatesTables() {
        detector.detect(BOTH);
        assertThat(nft.calls()).containsExactly("saveAll v4", "saveAll v6");
        assertThat(legacy.calls()).containsExactly("saveAll v4", "saveAll v6");
    }

    @Test
    void unusableNftFallsBackToLegacy() {
        nft.failing(IpFamily.IPV4, () -> new IptablesEnvironmentException("iptables-nft-save not found on PATH"));
        assertThat(detector.detect(BOTH).variant()).isEqualTo(Variant.LEGACY);
    }

    @Test
    void bothUnusableReportsPermissionProblemFirst() {
        nft.failing(IpFamily.IPV4, () -> new IptablesEnvironmentException("iptables-nft-save not found on PATH"));
        legacy.failing(IpFamily.IPV4, () -> new IptablesEnvironmentException("iptables-legacy-save: permission denied; ..."));
        assertThatThrownBy(() -> detector.detect(BOTH)).hasMessageStartingWith("iptables-legacy-save: permission denied");
    }

    @Test
    void explicitChoiceDoesNotLook() {
        assertThat(detector.resolve(Backend.LEGACY, BOTH).variant()).isEqualTo(Variant.LEGACY);
        assertThat(nft.calls()).isEmpty();
        assertThat(legacy.calls()).isEmpty();
    }

    @Test
    void countsRulesWithAndWithoutCounters() {
        assertThat(BackendDetector.countRules(SaveDumps.HALF_INSTALLED)).isEqualTo(5);
        assertThat(BackendDetector.countRules(SaveDumps.INSTALLED_DEFAULT)).isEqualTo(8);
    }
}
