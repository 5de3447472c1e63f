package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PortRangeTest {

    @Test
    void singlePortIsSpelledAsItself() {
        PortRange p = PortRange.parse("443");
        assertThat(p.isSinglePort()).isTrue();
        assertThat(p.iptablesSpelling()).isEqualTo("443");
        assertThat(p.multiportSlots()).isEqualTo(1);
    }

    @Test
    void rangeUsesDashOnInputAndColonForIptables() {
        PortRange p = PortRange.parse("6000-6010");
        assertThat(p).isEqualTo(new PortRange(6000, 6010));
        assertThat(p.iptablesSpelling()).isEqualTo("6000:6010");
        assertThat(p.toString()).isEqualTo("6000-6010");
        assertThat(p.multiportSlots()).isEqualTo(2);
    }

    @Test
    void boundariesOneAnd65535AreAccepted() {
        assertThat(PortRange.parse("1-65535")).isEqualTo(new PortRange(1, 65535));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "65536", "abc", "10-5", "-1", "", "1-", "80-abc", "99999999999", "8 0",
        "\uff18\uff10", "\u0668\u0660", "\u00a080", "80\n", "+80", "\u000180"})
    void badPortsAreRejectedQuotingTheValue(String text) {
        assertThatThrownBy(() -> PortRange.parse(text))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("'" + text);
    }

    @Test
    void spacesAndTabsAroundAPortOrRangeAreDropped() {
        assertThat(PortRange.parse(" \t443 ")).isEqualTo(PortRange.of(443));
        assertThat(PortRange.parse(" 6000-6010\t")).isEqualTo(new PortRange(6000, 6010));
        assertThat(PortRange.parseList("22, 443")).containsExactly(PortRange.of(22), PortRange.of(443));
    }

    @Test
    void backwardsRangeSaysSo() {
        assertThatThrownBy(() -> PortRange.parse("10-5")).hasMessageContaining("runs backwards");
    }

    @Test
    void listKeepsOrderAndBlankMeansNone() {
        assertThat(PortRange.parseList("25,443,6000-6010")).containsExactly(
                new PortRange(25, 25), new PortRange(443, 443), new PortRange(6000, 6010));
        assertThat(PortRange.parseList(" ")).isEmpty();
    }

    @Test
    void listWithEmptyEntryIsRejected() {
        assertThatThrownBy(() -> PortRange.parseList("25,,443")).hasMessageContaining("empty entry");
    }

    @Test
    void containsIncludesBothBounds() {
        PortRange range = PortRange.parse("6000-6010");

        assertThat(range.contains(6000)).isTrue();
        assertThat(range.contains(6010)).isTrue();
        assertThat(range.contains(5999)).isFalse();
        assertThat(range.contains(6011)).isFalse();
    }
}
