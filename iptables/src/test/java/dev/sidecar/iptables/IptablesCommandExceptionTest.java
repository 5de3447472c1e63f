package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IptablesCommandExceptionTest {

    @Test
    void theMessageIsTheFirstLineOfWhatTheCommandPrinted() {
        IptablesCommandException e = new IptablesCommandException("iptables-legacy-restore -w --noflush", 1,
                "iptables-restore: line 4 failed\nsecond line\n");
        assertThat(e.getMessage()).isEqualTo("iptables-legacy-restore -w --noflush exited 1: iptables-restore: line 4 failed");
    }

    @Test
    void anNftHeaderEndingInAColonTakesTheReasonFromTheNextLine() {
        // As ip6tables-nft-restore 1.8.9 prints a rejected rule.
        String output = "ip6tables-nft-restore v1.8.9 (nf_tables): \n"
                + "line 12: RULE_APPEND failed (Invalid argument): rule in chain PROXY_INIT_REDIRECT\n";
        IptablesCommandException e = new IptablesCommandException("ip6tables-nft-restore -w --noflush", 4, output);
        assertThat(e.getMessage()).isEqualTo("ip6tables-nft-restore -w --noflush exited 4: ip6tables-nft-restore v1.8.9 (nf_tables):"
                + " line 12: RULE_APPEND failed (Invalid argument): rule in chain PROXY_INIT_REDIRECT");
    }

    @Test
    void theFailingInputLineIsNamedWhenIptablesSaysWhichItWas() {
        IptablesCommandException e = new IptablesCommandException("iptables-legacy-restore -w --noflush", 1,
                "iptables-restore: line 7 failed\nError occurred at line: 7\n");
        assertThat(e.getMessage()).endsWith("(restore input line 7, logged above)");
    }
}
