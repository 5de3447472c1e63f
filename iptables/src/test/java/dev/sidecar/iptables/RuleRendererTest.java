package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class RuleRendererTest {
    private static final RedirectPlan DEFAULT = RedirectPlan.of(RedirectConfig.builder().ipv6(false).build());
    private static final List<Rule> RULES = DEFAULT.rules(IpFamily.IPV4);

    @Test
    void freshTableGetsChainsJumpsAndRulesInOneTransaction() {
        String text = RuleRenderer.install(RULES, SaveParser.parse(SaveDumps.FOREIGN_ONLY));
        assertThat(text).startsWith("*nat\n:PROXY_INIT_REDIRECT - [0:0]\n:PROXY_INIT_OUTPUT - [0:0]\n").endsWith("COMMIT\n");
        assertThat(text).doesNotContain("-D ").contains("-A PREROUTING ", "-A OUTPUT ");
        assertThat(text.lines().filter(l -> l.startsWith("-A ")).count()).isEqualTo(RULES.size());
    }

    @Test
    void correctJumpsAreKeptInPlaceOnReinstall() {
        String text = RuleRenderer.install(RULES, SaveParser.parse(SaveDumps.INSTALLED_DEFAULT));
        assertThat(text).doesNotContain("-A PREROUTING", "-A OUTPUT", "-D ");
        assertThat(text).contains(":PROXY_INIT_OUTPUT - [0:0]", "-A PROXY_INIT_OUTPUT -o lo");
    }

    @Test
    void duplicateAndStaleJumpsAreDeletedLeavingExactlyOne() {
        String text = RuleRenderer.install(RULES, SaveParser.parse(SaveDumps.HALF_INSTALLED));
        assertThat(text.lines().filter(l -> l.startsWith("-D ")).toList()).containsExactly(
                "-D OUTPUT -m comment --comment \"proxy-init/install-proxy-init-output\" -j PROXY_INIT_OUTPUT",
                "-D OUTPUT -j PROXY_INIT_OUTPUT");
        assertThat(text).doesNotContain("-A OUTPUT ").contains("-A PREROUTING ");
        assertThat(text).doesNotContain("198.18.0.9");
    }

    @Test
    void removeDeletesJumpsThenFlushesThenDeletesChains() {
        String text = RuleRenderer.remove(SaveParser.parse(SaveDumps.INSTALLED_DEFAULT)).orElseThrow();
        assertThat(text.lines().toList()).containsExactly("*nat",
                "-D PREROUTING -m comment --comment \"proxy-init/install-proxy-init-prerouting\" -j PROXY_INIT_REDIRECT",
                "-D OUTPUT -m comment --comment \"proxy-init/install-proxy-init-output\" -j PROXY_INIT_OUTPUT",
                "-F PROXY_INIT_REDIRECT", "-F PROXY_INIT_OUTPUT", "-X PROXY_INIT_REDIRECT", "-X PROXY_INIT_OUTPUT", "COMMIT");
    }

    @Test
    void removeOfAHalfInstallTouchesOnlyWhatExists() {
        String text = RuleRenderer.remove(SaveParser.parse(SaveDumps.HALF_INSTALLED)).orElseThrow();
        assertThat(text).doesNotContain("PROXY_INIT_REDIRECT");
        assertThat(text.lines().filter(l -> l.startsWith("-D OUTPUT")).count()).isEqualTo(3);
    }

    @Test
    void removeWithNothingOfOursIsEmpty() {
        assertThat(RuleRenderer.remove(SaveParser.parse(SaveDumps.FOREIGN_ONLY))).isEmpty();
    }

    @Test
    void revertToATableWithNothingOfOursIsRemove() {
        NatState current = SaveParser.parse(SaveDumps.INSTALLED_DEFAULT);
        assertThat(RuleRenderer.revert(SaveParser.parse(SaveDumps.FOREIGN_ONLY), current))
                .isPresent().isEqualTo(RuleRenderer.remove(current));
    }

    @Test
    void revertWithNothingOfOursOnEitherSideIsEmpty() {
        NatState foreign = SaveParser.parse(SaveDumps.FOREIGN_ONLY);
        assertThat(RuleRenderer.revert(foreign, foreign)).isEmpty();
    }

    @Test
    void revertToAnOlderInstallPutsItsChainsAndJumpsBackInPlace() {
        String text = RuleRenderer.revert(SaveParser.parse(SaveDumps.OLDER_INSTALL),
                SaveParser.parse(SaveDumps.REINSTALLED_DEFAULT)).orElseThrow();
        assertThat(text.lines().toList()).containsExactly("*nat",
                ":PROXY_INIT_REDIRECT - [0:0]",
                ":PROXY_INIT_OUTPUT - [0:0]",
                "-D PREROUTING -m comment --comment \"proxy-init/install-proxy-init-prerouting\" -j PROXY_INIT_REDIRECT",
                "-D OUTPUT -m comment --comment \"proxy-init/install-proxy-init-output\" -j PROXY_INIT_OUTPUT",
                "-A PROXY_INIT_REDIRECT -p tcp -m comment --comment \"proxy-init/proxy-init-redirect-all\" -j REDIRECT --to-ports 4143",
                "-A PROXY_INIT_OUTPUT -m owner --uid-owner 2102 -m comment --comment \"proxy-init/ignore-proxy-uid\" -j RETURN",
                "-A PROXY_INIT_OUTPUT -o lo -m comment --comment \"proxy-init/ignore-loopback\" -j RETURN",
                "-A PROXY_INIT_OUTPUT -p tcp -m multiport --dports 25 -m comment --comment \"proxy-init/ignore-port\" -j RETURN",
                "-A PROXY_INIT_OUTPUT -p tcp -m comment --comment \"proxy-init/redirect-all-outgoing\" -j REDIRECT --to-ports 4140",
                "-I PREROUTING 2 -m comment --comment \"proxy-init/install-proxy-init-prerouting\" -j PROXY_INIT_REDIRECT",
                "-I OUTPUT 2 -j PROXY_INIT_OUTPUT",
                "COMMIT");
    }

    @Test
    void revertDeletesOurChainsTheOldStateDidNotHave() {
        // HALF_INSTALLED has only PROXY_INIT_OUTPUT; the install on top of it added PROXY_INIT_REDIRECT.
        String text = RuleRenderer.revert(SaveParser.parse(SaveDumps.HALF_INSTALLED),
                SaveParser.parse(SaveDumps.INSTALLED_DEFAULT)).orElseThrow();
        assertThat(text.lines().filter(l -> l.startsWith(":")).toList()).containsExactly(":PROXY_INIT_OUTPUT - [0:0]");
        assertThat(text).contains("-D PREROUTING -m comment --comment \"proxy-init/install-proxy-init-prerouting\" -j PROXY_INIT_REDIRECT",
                "-A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-ports 9999\n").endsWith("-F PROXY_INIT_REDIRECT\n-X PROXY_INIT_REDIRECT\nCOMMIT\n");
        // The duplicate and stale jumps come back where they were, around the foreign rule.
        assertThat(text.lines().filter(l -> l.startsWith("-I OUTPUT")).toList()).containsExactly(
                "-I OUTPUT 1 -m comment --comment \"proxy-init/install-proxy-init-output\" -j PROXY_INIT_OUTPUT",
                "-I OUTPUT 3 -m comment --comment \"proxy-init/install-proxy-init-output\" -j PROXY_INIT_OUTPUT",
                "-I OUTPUT 4 -j PROXY_INIT_OUTPUT");
    }

    @Test
    void revertClampsOldPositionsToWhatTheChainHoldsNow() {
        // Someone deleted the foreign OUTPUT rules meanwhile: the old position 2 no longer exists.
        NatState current = SaveParser.parse(SaveDumps.REINSTALLED_DEFAULT.replace("-A OUTPUT -d 198.18.0.9/32 -j RETURN\n", "")
                .replace("-A OUTPUT -p udp -m udp --dport 53 -j RETURN\n", ""));
        String text = RuleRenderer.revert(SaveParser.parse(SaveDumps.OLDER_INSTALL), current).orElseThrow();
        assertThat(text).contains("\n-I OUTPUT 1 -j PROXY_INIT_OUTPUT\n");
    }
}
