package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DriftTest {
    private static final RedirectPlan DEFAULT = RedirectPlan.of(RedirectConfig.builder().ipv6(false).build());

    @Test
    void installedDefaultWithForeignRulesIsClean() {
        Drift d = Drift.between(DEFAULT, IpFamily.IPV4, SaveParser.parse(SaveDumps.INSTALLED_DEFAULT));
        assertThat(d.isClean()).as(d.describe()).isTrue();
        assertThat(d.describe()).isEqualTo("IPv4: nat table matches the plan");
    }

    @Test
    void aDeletedRuleIsMissing() {
        String dump = SaveDumps.INSTALLED_DEFAULT.replace(
                "-A PROXY_INIT_OUTPUT -o lo -m comment --comment \"proxy-init/ignore-loopback\" -j RETURN\n", "");
        Drift d = Drift.between(DEFAULT, IpFamily.IPV4, SaveParser.parse(dump));
        assertThat(d.missing()).containsExactly("-A PROXY_INIT_OUTPUT -o lo -m comment --comment \"proxy-init/ignore-loopback\" -j RETURN");
        assertThat(d.extra()).isEmpty();
        assertThat(d.describe()).contains("  - -A PROXY_INIT_OUTPUT -o lo");
    }

    @Test
    void nothingInstalledMeansMissingChainsAndJumps() {
        Drift d = Drift.between(DEFAULT, IpFamily.IPV4, SaveParser.parse(SaveDumps.FOREIGN_ONLY));
        assertThat(d.problems()).containsExactly("chain PROXY_INIT_REDIRECT does not exist", "chain PROXY_INIT_OUTPUT does not exist");
        assertThat(d.missing()).hasSize(DEFAULT.rules(IpFamily.IPV4).size());
    }

    @Test
    void duplicateAndStaleJumpsAreExtra() {
        Drift d = Drift.between(DEFAULT, IpFamily.IPV4, SaveParser.parse(SaveDumps.HALF_INSTALLED));
        assertThat(d.extra()).contains(
                "-A OUTPUT -m comment --comment \"proxy-init/install-proxy-init-output\" -j PROXY_INIT_OUTPUT",
                "-A OUTPUT -j PROXY_INIT_OUTPUT",
                "-A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-ports 9999");
        assertThat(d.isClean()).isFalse();
    }

    @Test
    void reorderedRulesAreAProblemEvenWithNothingMissing() {
        String dump = SaveDumps.INSTALLED_DEFAULT
                .replace("-A PROXY_INIT_OUTPUT -m owner --uid-owner 2102 -m comment --comment \"proxy-init/ignore-proxy-uid\" -j RETURN\n", "")
                .replace("-A PROXY_INIT_OUTPUT -p tcp -m comment", "-A PROXY_INIT_OUTPUT -m owner --uid-owner 2102 -m comment --comment \"proxy-init/ignore-proxy-uid\" -j RETURN\n-A PROXY_INIT_OUTPUT -p tcp -m comment");
        Drift d = Drift.between(DEFAULT, IpFamily.IPV4, SaveParser.parse(dump));
        assertThat(d.missing()).isEmpty();
        assertThat(d.extra()).isEmpty();
        assertThat(d.problems()).containsExactly("rules of PROXY_INIT_OUTPUT are out of order");
    }

    @Test
    void aDifferentConfigShowsBothSidesOfTheChange() {
        RedirectPlan custom = RedirectPlan.of(RedirectConfig.builder().ipv6(false).outboundPort(5000).build());
        Drift d = Drift.between(custom, IpFamily.IPV4, SaveParser.parse(SaveDumps.INSTALLED_DEFAULT));
        assertThat(d.missing()).singleElement().asString().endsWith("--to-ports 5000");
        assertThat(d.extra()).singleElement().asString().endsWith("--to-ports 4140");
    }
}
