package dev.sidecar.proxy.os;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProcStatusTest {
    private static final String DROPPED = """
            Name:\tjava
            Umask:\t0022
            State:\tS (sleeping)
            Uid:\t2102\t2102\t2102\t2102
            Gid:\t2102\t2102\t2102\t2102
            Groups:\t
            CapInh:\t0000000000000000
            CapPrm:\t0000000000000000
            CapEff:\t0000000000000000
            CapBnd:\t000001ffffffffff
            """;

    @Test
    void aFullyDroppedThreadMatches() {
        assertThat(ProcStatus.parse(DROPPED).mismatch(2102, 2102)).isNull();
    }

    @Test
    void aRootSavedUidIsReported() {
        String text = DROPPED.replace("Uid:\t2102\t2102\t2102\t2102", "Uid:\t2102\t2102\t0\t2102");
        assertThat(ProcStatus.parse(text).mismatch(2102, 2102)).isEqualTo("Uid [2102, 2102, 0, 2102], want 2102");
    }

    @Test
    void aWrongGidIsReported() {
        assertThat(ProcStatus.parse(DROPPED).mismatch(2102, 1)).isEqualTo("Gid [2102, 2102, 2102, 2102], want 1");
    }

    @Test
    void remainingGroupsAreReported() {
        String text = DROPPED.replace("Groups:\t", "Groups:\t0 4");
        assertThat(ProcStatus.parse(text).mismatch(2102, 2102)).isEqualTo("supplementary groups [0, 4] remain");
    }

    @Test
    void anyEffectiveCapabilityIsReported() {
        String text = DROPPED.replace("CapEff:\t0000000000000000", "CapEff:\t0000000000001000");
        assertThat(ProcStatus.parse(text).mismatch(2102, 2102)).isEqualTo("CapEff 1000, want 0");
    }

    @Test
    void aStatusWithoutIdentityLinesIsRejected() {
        assertThatThrownBy(() -> ProcStatus.parse("Name:\tjava\n")).hasMessage("status lacks Uid/Gid/Groups/CapEff lines");
    }

    private static final long NET_RAW = 1L << ProcStatus.CAP_NET_RAW;
    private static final String LOOP = DROPPED.replace("CapPrm:\t0000000000000000", "CapPrm:\t0000000000002000")
            .replace("CapEff:\t0000000000000000", "CapEff:\t0000000000002000") + "CapAmb:\t0000000000000000\n";

    @Test
    void anEventLoopHoldingExactlyCapNetRawMatchesInTproxyMode() {
        assertThat(ProcStatus.parse(LOOP).mismatch(2102, 2102, NET_RAW, true)).isNull();
    }

    @Test
    void aThreadWithNothingMatchesUnlessItMustHoldCapNetRaw() {
        String none = DROPPED + "CapAmb:\t0000000000000000\n";
        assertThat(ProcStatus.parse(none).mismatch(2102, 2102, NET_RAW, false)).isNull();
        assertThat(ProcStatus.parse(none).mismatch(2102, 2102, NET_RAW, true)).isEqualTo("CapEff 0 CapPrm 0, want 2000");
    }

    @Test
    void anyCapabilityBesideCapNetRawIsRefused() {
        String more = LOOP.replace("CapEff:\t0000000000002000", "CapEff:\t0000000000003000");
        assertThat(ProcStatus.parse(more).mismatch(2102, 2102, NET_RAW, false)).isEqualTo("CapEff 3000 CapPrm 2000, want 0 or 2000");
    }

    @Test
    void aPermittedButNotEffectiveCapabilityIsRefusedToo() {
        String kept = DROPPED.replace("CapPrm:\t0000000000000000", "CapPrm:\t0000000000200000") + "CapAmb:\t0000000000000000\n";
        assertThat(ProcStatus.parse(kept).mismatch(2102, 2102, NET_RAW, false)).startsWith("CapEff 0 CapPrm 200000");
    }

    @Test
    void inheritableOrAmbientCapabilitiesAreRefused() {
        String ambient = LOOP.replace("CapAmb:\t0000000000000000", "CapAmb:\t0000000000002000");
        assertThat(ProcStatus.parse(ambient).mismatch(2102, 2102, NET_RAW, true)).isEqualTo("CapInh 0 CapAmb 2000, want 0");
    }

    @Test
    void aStatusWithoutTheOtherCapabilitySetsCannotProveTproxyMode() {
        assertThat(ProcStatus.parse(DROPPED).mismatch(2102, 2102, NET_RAW, false)).isEqualTo("status lacks CapPrm/CapInh/CapAmb lines");
    }

    @Test
    void wrongUidsAreReportedBeforeCapabilitiesInTproxyModeToo() {
        assertThat(ProcStatus.parse(LOOP.replace("Uid:\t2102\t2102\t2102\t2102", "Uid:\t0\t2102\t2102\t2102"))
                .mismatch(2102, 2102, NET_RAW, true)).isEqualTo("Uid [0, 2102, 2102, 2102], want 2102");
    }
}
