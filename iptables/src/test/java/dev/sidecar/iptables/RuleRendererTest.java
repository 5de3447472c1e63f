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
}
