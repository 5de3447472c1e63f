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
}
