package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sidecar.testkit.Golden;
import dev.sidecar.testkit.NetnsLab;
import dev.sidecar.testkit.RedirectCases;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The installer on the real iptables-nft and iptables-legacy binaries, each test in its own fresh
 * network namespace (deleted afterwards, even on failure). Nothing runs in the machine's namespace:
 * every binary is started through {@code ip netns exec}.
 */
@Tag("netns")
@Timeout(120)
class RedirectInstallerIT {

    /** What a crash, an older version or a hand edit could leave behind: duplicate and stale jumps, half a plan. */
    private static final String HALF_FINISHED_V4 = """
            *nat
            :PROXY_INIT_OUTPUT - [0:0]
            -A OUTPUT -m comment --comment "proxy-init/install-proxy-init-output" -j PROXY_INIT_OUTPUT
            -A OUTPUT -d 198.18.0.9/32 -j RETURN
            -A OUTPUT -m comment --comment "proxy-init/install-proxy-init-output" -j PROXY_INIT_OUTPUT
            -A OUTPUT -j PROXY_INIT_OUTPUT
            -A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-ports 9999
            COMMIT
            """;
    private static final RedirectConfig DEFAULT = RedirectCases.named("default").config();
    private static final String FOREIGN_BEFORE = "-d 198.18.0.9/32 -j RETURN";
    private static final String FOREIGN_AFTER = "-p udp -m udp --dport 53 -j RETURN";

    private NetnsLab lab;
    private String ns;

    @BeforeEach
    void freshNamespace() {
        lab = new NetnsLab("ipt");
        ns = lab.namespace("pod");
    }

    @AfterEach
    void deleteNamespace() {
        lab.close();
    }

    static Stream<Arguments> variantsAndCases() {
        return Stream.of(Variant.values()).flatMap(v -> RedirectCases.stream().map(c -> Arguments.of(v, c)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("variantsAndCases")
    void installedTableEqualsGoldenExpectation(Variant variant, RedirectCases.Case c) {
        RedirectInstaller installer = installer(variant);
        installer.install(c.config());

        assertThat(rulesByChain(save(variant, IpFamily.IPV4)))
                .isEqualTo(rulesByChain(Golden.read(c.name() + "/install-v4.rules")));
        if (c.config().ipv6()) {
            assertThat(rulesByChain(save(variant, IpFamily.IPV6)))
                    .isEqualTo(rulesByChain(Golden.read(c.name() + "/install-v6.rules")));
        } else {
            assertThat(save(variant, IpFamily.IPV6)).doesNotContain("PROXY_INIT");
        }
        assertThat(installer.check(c.config()).isClean()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void installingTwiceGivesAnIdenticalTable(Variant variant) {
        RedirectInstaller installer = installer(variant);
        RedirectConfig config = RedirectCases.named("everything").config();
        installer.install(config);
        String first = save(variant, IpFamily.IPV4) + save(variant, IpFamily.IPV6);
        installer.install(config);
        assertThat(withoutComments(save(variant, IpFamily.IPV4) + save(variant, IpFamily.IPV6))).isEqualTo(withoutComments(first));
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void foreignRulesInOutputStayInPlaceAroundOurJump(Variant variant) {
        iptables(variant, "-A", "OUTPUT", "-d", "198.18.0.9/32", "-j", "RETURN");
        RedirectInstaller installer = installer(variant);
        installer.install(DEFAULT);
        iptables(variant, "-A", "OUTPUT", "-p", "udp", "--dport", "53", "-j", "RETURN");
        installer.install(RedirectCases.named("proxy-gid").config());

        List<String> output = SaveParser.parse(save(variant, IpFamily.IPV4)).rules("OUTPUT");
        assertThat(output).containsExactly(FOREIGN_BEFORE,
                "-m comment --comment \"proxy-init/install-proxy-init-output\" -j PROXY_INIT_OUTPUT", FOREIGN_AFTER);
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void removeLeavesTheTableExactlyAsItWas(Variant variant) {
        iptables(variant, "-A", "OUTPUT", "-d", "198.18.0.9/32", "-j", "RETURN");
        iptables(variant, "-A", "PREROUTING", "-p", "tcp", "--dport", "2222", "-j", "REDIRECT", "--to-ports", "22");
        iptables(variant, "-N", "SOMEONE_ELSE");
        String before = withoutComments(save(variant, IpFamily.IPV4));

        RedirectInstaller installer = installer(variant);
        installer.install(RedirectCases.named("everything").config());
        assertThat(installer.remove(DEFAULT)).isTrue();

        assertThat(withoutComments(save(variant, IpFamily.IPV4))).isEqualTo(before);
        assertThat(save(variant, IpFamily.IPV6)).doesNotContain("PROXY_INIT");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void removeSucceedsEvenWhenSomeoneElsesChainJumpsToOurs(Variant variant) {
        RedirectInstaller installer = installer(variant);
        installer.install(DEFAULT);
        iptables(variant, "-N", "SOMEONE_ELSE");
        iptables(variant, "-A", "SOMEONE_ELSE", "-p", "tcp", "-j", "PROXY_INIT_OUTPUT");
        iptables(variant, "-A", "SOMEONE_ELSE", "-p", "udp", "-j", "RETURN");

        assertThat(installer.remove(DEFAULT)).isTrue();
        NatState after = SaveParser.parse(save(variant, IpFamily.IPV4));
        assertThat(after.hasAnyOfOurs()).isFalse();
        assertThat(after.rules("SOMEONE_ELSE")).containsExactly("-p udp -j RETURN");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void removeWithNothingInstalledSucceedsAndChangesNothing(Variant variant) {
        iptables(variant, "-A", "OUTPUT", "-d", "198.18.0.9/32", "-j", "RETURN");
        String before = withoutComments(save(variant, IpFamily.IPV4));
        assertThat(installer(variant).remove(DEFAULT)).isFalse();
        assertThat(withoutComments(save(variant, IpFamily.IPV4))).isEqualTo(before);
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void checkDetectsAHandDeletedRule(Variant variant) {
        RedirectInstaller installer = installer(variant);
        installer.install(DEFAULT);
        iptables(variant, "-D", "PROXY_INIT_OUTPUT", "-o", "lo", "-m", "comment", "--comment", "proxy-init/ignore-loopback", "-j", "RETURN");

        RedirectInstaller.CheckResult result = installer.check(DEFAULT);
        assertThat(result.isClean()).isFalse();
        assertThat(result.drifts().get(IpFamily.IPV6).isClean()).isTrue();
        assertThat(result.describe()).contains(
                "IPv4: nat table differs from the plan",
                "  - -A PROXY_INIT_OUTPUT -o lo -m comment --comment \"proxy-init/ignore-loopback\" -j RETURN");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void aRejectedInstallLeavesTheTableUntouched(Variant variant) {
        iptables(variant, "-A", "OUTPUT", "-d", "198.18.0.9/32", "-j", "RETURN");
        installer(variant).install(DEFAULT);
        String before = withoutComments(save(variant, IpFamily.IPV4));

        // The last line of the transaction is one iptables rejects; everything before it
        // (flushing our chains, new rules) must be rolled back with it.
        IptablesBackend real = backend(variant);
        IptablesBackend faulty = new IptablesBackend() {
            @Override public Variant variant() { return real.variant(); }
            @Override public String save(IpFamily f) { return real.save(f); }
            @Override public String saveAll(IpFamily f) { return real.saveAll(f); }
            @Override public void restore(IpFamily f, String text) {
                real.restore(f, text.replace("COMMIT\n", "-A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-ports 99999\nCOMMIT\n"));
            }
        };
        assertThatThrownBy(() -> new RedirectInstaller(faulty).install(RedirectCases.named("everything").config()))
                .isInstanceOf(IptablesCommandException.class)
                .hasMessageContaining("99999");

        assertThat(withoutComments(save(variant, IpFamily.IPV4))).isEqualTo(before);
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void aRejectedIpv6UndoesIpv4WhenNothingOfOursWasThere(Variant variant) {
        iptables(variant, "-A", "OUTPUT", "-d", "198.18.0.9/32", "-j", "RETURN");
        assertIpv6RejectionLeavesBothTablesAsTheyWere(variant, DEFAULT);
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void aRejectedIpv6PutsBackAnOlderInstallOfIpv4(Variant variant) {
        iptables(variant, "-A", "OUTPUT", "-d", "198.18.0.9/32", "-j", "RETURN");
        iptables(variant, "-A", "PREROUTING", "-p", "tcp", "--dport", "2222", "-j", "REDIRECT", "--to-ports", "22");
        // An older config: other ports and subnets, IPv6 off (so the IPv6 table has none of ours yet).
        installer(variant).install(RedirectCases.named("ipv6-off").config());
        iptables(variant, "-A", "OUTPUT", "-p", "udp", "--dport", "53", "-j", "RETURN");
        iptables(variant, "-A", "PREROUTING", "-p", "udp", "--dport", "53", "-j", "RETURN");
        assertIpv6RejectionLeavesBothTablesAsTheyWere(variant, RedirectCases.named("everything").config());
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void aRejectedIpv6PutsBackAHalfFinishedIpv4WithItsJumpsInPlace(Variant variant) {
        backend(variant).restore(IpFamily.IPV4, HALF_FINISHED_V4);
        assertIpv6RejectionLeavesBothTablesAsTheyWere(variant, DEFAULT);
    }

    /**
     * Makes the kernel reject the IPv6 transaction of an install, runs it, and checks that IPv4 was
     * really changed and then put back exactly (rule order included), and that IPv6 is untouched.
     *
     * <p>The rejection is real, from the unmodified restore text: a stray jump from POSTROUTING into
     * an (empty) IPv6 PROXY_INIT_REDIRECT, as a hand edit or another tool could leave. Install rewrites
     * that chain with a REDIRECT rule, and REDIRECT is only valid where PREROUTING or OUTPUT reach it,
     * so the kernel refuses the transaction (iptables-nft: "RULE_APPEND failed (Invalid argument)",
     * exit 4; iptables-legacy: the commit fails, exit 1). Install leaves that foreign jump alone, so
     * it cannot avoid the failure, and the IPv4 table has no such jump, so IPv4 is applied first.
     */
    private void assertIpv6RejectionLeavesBothTablesAsTheyWere(Variant variant, RedirectConfig config) {
        ip6tables(variant, "-N", Chains.REDIRECT);
        ip6tables(variant, "-A", "POSTROUTING", "-j", Chains.REDIRECT);
        String v4Before = comparable(save(variant, IpFamily.IPV4));
        String v6Before = comparable(save(variant, IpFamily.IPV6));
        List<String> restores = new ArrayList<>();
        IptablesBackend real = backend(variant);
        IptablesBackend recording = new IptablesBackend() {
            @Override public Variant variant() { return real.variant(); }
            @Override public String save(IpFamily f) { return real.save(f); }
            @Override public String saveAll(IpFamily f) { return real.saveAll(f); }
            @Override public void restore(IpFamily f, String text) {
                restores.add(f.shortName());
                real.restore(f, text);
            }
        };

        assertThatThrownBy(() -> new RedirectInstaller(recording).install(config))
                .isInstanceOf(IptablesCommandException.class)
                .hasMessageContaining(variant.binary(IpFamily.IPV6, "restore"));

        assertThat(comparable(save(variant, IpFamily.IPV4))).isEqualTo(v4Before);
        assertThat(comparable(save(variant, IpFamily.IPV6))).isEqualTo(v6Before);
        // Guards against passing vacuously: IPv4 really was changed before it was put back.
        assertThat(restores).as("IPv4 applied, IPv6 rejected, IPv4 undone").containsExactly("v4", "v6", "v4");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void ipv6RulesAppearInIp6tablesSave(Variant variant) {
        installer(variant).install(RedirectCases.named("subnets-v4-v6").config());
        String v6 = save(variant, IpFamily.IPV6);
        assertThat(v6).contains("-A PROXY_INIT_OUTPUT -d 2001:db8::/32 -m comment --comment \"proxy-init/ignore-subnet\" -j RETURN")
                .contains("-A PREROUTING -m comment --comment \"proxy-init/install-proxy-init-prerouting\" -j PROXY_INIT_REDIRECT")
                .doesNotContain("10.0.0.0/8");
        assertThat(save(variant, IpFamily.IPV4)).doesNotContain("2001:db8");
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void installAfterAHalfFinishedRunConvergesToThePlan(Variant variant) {
        backend(variant).restore(IpFamily.IPV4, HALF_FINISHED_V4);
        RedirectInstaller installer = installer(variant);
        installer.install(DEFAULT);

        assertThat(installer.check(DEFAULT).isClean()).as(installer.check(DEFAULT).describe()).isTrue();
        NatState state = SaveParser.parse(save(variant, IpFamily.IPV4));
        assertThat(state.jumpsTo(Chains.PROXY_OUTPUT)).hasSize(1);
        assertThat(state.rules("OUTPUT")).contains(FOREIGN_BEFORE);
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void autoPicksTheVariantThatAlreadyHoldsRules(Variant variant) {
        lab.exec(ns, "iptables-" + variant, "-w", "-t", "filter", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT");
        BackendDetector detector = new BackendDetector(this::backend);
        BackendDetector.Detection d = detector.resolve(Backend.AUTO, List.of(IpFamily.IPV4, IpFamily.IPV6));
        assertThat(d.variant()).isEqualTo(variant);
        assertThat(d.reason()).contains(variant + " already holds 1 rules");
    }

    @org.junit.jupiter.api.Test
    void autoPicksNftInAnEmptyNamespaceWithoutCreatingAnyTable() {
        BackendDetector.Detection d = new BackendDetector(this::backend).detect(List.of(IpFamily.IPV4, IpFamily.IPV6));
        assertThat(d.variant()).isEqualTo(Variant.NFT);
        assertThat(lab.exec(ns, "iptables-legacy-save")).isBlank();
        assertThat(lab.exec(ns, "iptables-nft-save")).isBlank();
    }

    private IptablesBackend backend(Variant variant) {
        return new ProcessIptablesBackend(variant, List.of(NetnsLab.inNs(ns)));
    }

    private RedirectInstaller installer(Variant variant) {
        return new RedirectInstaller(backend(variant));
    }

    private String save(Variant variant, IpFamily family) {
        return lab.exec(ns, variant.binary(family, "save"), "-t", "nat");
    }

    private void iptables(Variant variant, String... args) {
        String[] cmd = new String[args.length + 4];
        cmd[0] = "iptables-" + variant;
        cmd[1] = "-w";
        cmd[2] = "-t";
        cmd[3] = "nat";
        System.arraycopy(args, 0, cmd, 4, args.length);
        lab.exec(ns, cmd);
    }

    /** Rules per chain, ignoring empty built-in chains, counters and comment lines. */
    private static Map<String, List<String>> rulesByChain(String saveOrRestoreText) {
        NatState s = SaveParser.parse(saveOrRestoreText);
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String chain : s.chainNames().stream().sorted().toList()) {
            if (!s.rules(chain).isEmpty() || Chains.isOurs(chain)) {
                out.put(chain, s.rules(chain));
            }
        }
        return out;
    }

    private void ip6tables(Variant variant, String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip6tables-" + variant, "-w", "-t", "nat"));
        cmd.addAll(List.of(args));
        lab.exec(ns, cmd.toArray(String[]::new));
    }

    /** A save without comment lines or counters: equal exactly when the rules and their order are. */
    private static String comparable(String save) {
        return withoutComments(save).replaceAll("\\[\\d+:\\d+\\]", "[0:0]");
    }

    private static String withoutComments(String save) {
        return String.join("\n", save.lines().filter(l -> !l.startsWith("#")).toList());
    }
}
