package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.testkit.Golden;
import dev.sidecar.testkit.RedirectCases;
import java.nio.file.Files;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every case of {@link RedirectCases} rendered and compared with its golden files. */
class RedirectGoldenTest {

    static java.util.stream.Stream<RedirectCases.Case> cases() {
        return RedirectCases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void installTextMatchesGoldenForIpv4(RedirectCases.Case c) {
        Golden.assertMatches(c.name() + "/install-v4.rules", RuleRenderer.install(RedirectPlan.of(c.config()), IpFamily.IPV4));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void installTextMatchesGoldenForIpv6OrIsAbsentWhenIpv6IsOff(RedirectCases.Case c) {
        RedirectPlan plan = RedirectPlan.of(c.config());
        if (c.config().ipv6()) {
            Golden.assertMatches(c.name() + "/install-v6.rules", RuleRenderer.install(plan, IpFamily.IPV6));
        } else {
            assertThat(plan.rules(IpFamily.IPV6)).isEmpty();
            assertThat(Files.exists(Golden.root().resolve(c.name() + "/install-v6.rules"))).isFalse();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void removeTextOfAnInstalledPlanMatchesGolden(RedirectCases.Case c) {
        NatState installed = NatState.of(RedirectPlan.of(c.config()).rules(IpFamily.IPV4));
        Golden.assertMatches(c.name() + "/remove-v4.rules", RuleRenderer.remove(installed).orElseThrow());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void planJsonMatchesGolden(RedirectCases.Case c) {
        Golden.assertMatches(c.name() + "/plan.json", PlanJson.render(RedirectPlan.of(c.config())));
    }
}
