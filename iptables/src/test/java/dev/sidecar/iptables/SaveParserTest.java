package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SaveParserTest {

    @Test
    void readsOnlyTheNatTableInSaveOrder() {
        NatState s = SaveParser.parse(SaveDumps.INSTALLED_DEFAULT);
        assertThat(s.chainNames()).containsExactly("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING", "PROXY_INIT_OUTPUT", "PROXY_INIT_REDIRECT");
        assertThat(s.rules("OUTPUT")).containsExactly(
                "-d 198.18.0.9/32 -j RETURN",
                "-m comment --comment \"proxy-init/install-proxy-init-output\" -j PROXY_INIT_OUTPUT");
        assertThat(s.rules("INPUT")).isEmpty();
    }

    @Test
    void findsJumpsToOurChainsWhateverTheirComment() {
        NatState s = SaveParser.parse(SaveDumps.HALF_INSTALLED);
        assertThat(s.jumpsTo(Chains.PROXY_OUTPUT)).extracting(NatState.SavedRule::spec).containsExactly(
                "-m comment --comment \"proxy-init/install-proxy-init-output\" -j PROXY_INIT_OUTPUT",
                "-m comment --comment \"proxy-init/install-proxy-init-output\" -j PROXY_INIT_OUTPUT",
                "-j PROXY_INIT_OUTPUT");
    }

    @Test
    void countersAreDropped() {
        NatState s = SaveParser.parse(SaveDumps.HALF_INSTALLED);
        assertThat(s.rules("PROXY_INIT_OUTPUT")).containsExactly("-p tcp -j REDIRECT --to-ports 9999");
    }

    @Test
    void emptyDumpIsAnEmptyTable() {
        NatState s = SaveParser.parse("");
        assertThat(s.chainNames()).isEmpty();
        assertThat(s.hasAnyOfOurs()).isFalse();
    }

    @Test
    void aDumpWithoutNatGivesNoChains() {
        assertThat(SaveParser.parse("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n").chainNames()).isEmpty();
    }

    @Test
    void aJumpToAChainWithALongerNameIsNotOurs() {
        NatState s = SaveParser.parse("*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j PROXY_INIT_OUTPUT_2\nCOMMIT\n");
        assertThat(s.jumpsTo(Chains.PROXY_OUTPUT)).isEmpty();
    }

    @Test
    void aGotoFromAForeignChainIsAReferenceToo() {
        NatState s = SaveParser.parse("*nat\n:OUTPUT ACCEPT [0:0]\n:MINE - [0:0]\n-A MINE -p tcp -g PROXY_INIT_OUTPUT\nCOMMIT\n");
        assertThat(s.jumpsTo(Chains.PROXY_OUTPUT)).containsExactly(new NatState.SavedRule("MINE", "-p tcp -g PROXY_INIT_OUTPUT"));
    }

    @Test
    void garbageInsideNatIsReported() {
        assertThatThrownBy(() -> SaveParser.parse("*nat\n-Z what\nCOMMIT\n")).hasMessageContaining("-Z what");
    }
}
