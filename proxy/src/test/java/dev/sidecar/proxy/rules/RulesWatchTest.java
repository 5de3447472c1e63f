package dev.sidecar.proxy.rules;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.sidecar.iptables.Chains;
import dev.sidecar.iptables.Drift;
import dev.sidecar.iptables.InboundMode;
import dev.sidecar.iptables.IpFamily;
import dev.sidecar.iptables.IptablesEnvironmentException;
import dev.sidecar.iptables.NatState;
import dev.sidecar.iptables.RedirectConfig;
import dev.sidecar.iptables.RedirectInstaller.CheckResult;
import dev.sidecar.iptables.RedirectPlan;
import dev.sidecar.iptables.Rule;
import dev.sidecar.proxy.admin.Readiness;
import dev.sidecar.proxy.admin.RulesMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The watch's state machine against a fake table: what it logs, exports and tells /ready at each step. */
class RulesWatchTest {
    private static final RedirectPlan PLAN = RedirectPlan.of(RedirectConfig.builder().ipv6(false).build());

    private final FakeTable table = new FakeTable();
    private final Readiness readiness = readyOtherwise();
    private final RulesMetrics metrics = new RulesMetrics(new PrometheusRegistry());
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(RulesWatch.class);

    @BeforeEach
    void captureLog() {
        logged.start();
        logger.addAppender(logged);
    }

    @AfterEach
    void releaseLog() {
        logger.detachAppender(logged);
    }

    @Test
    void intactRulesExportOneKeepReadyAndLogNothing() {
        RulesWatch watch = watch(false);
        assertThat(metrics.inPlaceValue()).as("before the first check").isEqualTo(-1);

        watch.check();
        watch.check();

        assertThat(metrics.inPlaceValue()).isEqualTo(1);
        assertThat(readiness.notReadyReason()).isNull();
        assertThat(logged.list).isEmpty();
    }

    @Test
    void aDriftIsOneWarnLineWhileItLastsAndTurnsReadyAndTheGauge() {
        RulesWatch watch = watch(false);
        watch.check();

        table.flush(Chains.PROXY_OUTPUT);
        for (int i = 0; i < 5; i++) {
            watch.check();
        }

        assertThat(metrics.inPlaceValue()).isZero();
        assertThat(readiness.notReadyReason()).isEqualTo("iptables rules differ from the plan (IPv4: 3 missing, 0 extra, 1 other)");
        assertThat(warnings()).hasSize(1);
        assertThat(warnings().get(0)).startsWith("rules watch: rules differ from the plan: IPv4: ! chain PROXY_INIT_OUTPUT does not exist | - -A PROXY_INIT_OUTPUT ")
                .endsWith("; /ready is 503 until they match again (--rules-repair would put them back)")
                .doesNotContain("\n");
        assertThat(table.repairs).isZero();
    }

    @Test
    void aChangedDriftIsLoggedAgainAndTheRulesComingBackOnce() {
        RulesWatch watch = watch(false);
        table.flush(Chains.PROXY_OUTPUT);
        watch.check();
        table.deleteJump(Chains.PROXY_OUTPUT);
        watch.check();
        watch.check();

        table.reset();
        watch.check();
        watch.check();

        assertThat(warnings()).hasSize(2);
        assertThat(warnings().get(1)).contains("- -A OUTPUT -m comment --comment \"proxy-init/install-proxy-init-output\"");
        assertThat(infos()).containsExactly("rules watch: rules match the plan again");
        assertThat(metrics.inPlaceValue()).isEqualTo(1);
        assertThat(readiness.notReadyReason()).isNull();
    }

    @Test
    void withRepairADriftIsRepairedCountedAndReadyAgain() {
        RulesWatch watch = watch(true);
        watch.check();

        table.flush(Chains.PROXY_OUTPUT);
        watch.check();
        watch.check();

        assertThat(table.repairs).isEqualTo(1);
        assertThat(metrics.repairsValue()).isEqualTo(1);
        assertThat(metrics.inPlaceValue()).isEqualTo(1);
        assertThat(readiness.notReadyReason()).isNull();
        assertThat(warnings()).singleElement().asString().endsWith("; installing the plan again (--rules-repair)");
        assertThat(infos()).containsExactly("rules watch: rules repaired: the plan is installed again");
    }

    @Test
    void aRepairThatLeavesTheSameDriftIsNotRetriedUntilTheDriftChanges() {
        RulesWatch watch = watch(true);
        table.repairDoesNothing = true;
        table.flush(Chains.PROXY_OUTPUT);

        watch.check();
        watch.check();
        watch.check();
        assertThat(table.repairs).isEqualTo(1);
        assertThat(metrics.inPlaceValue()).isZero();
        assertThat(readiness.notReadyReason()).startsWith("iptables rules differ from the plan");

        table.deleteJump(Chains.PROXY_OUTPUT);
        watch.check();
        assertThat(table.repairs).isEqualTo(2);
        assertThat(warnings()).hasSize(2);
    }

    @Test
    void aFailedRepairIsOneWarnLineAndKeepsTheDrift() {
        RulesWatch watch = watch(true);
        table.repairFailure = () -> new IllegalStateException("iptables-nft-restore exited 1: boom");
        table.flush(Chains.PROXY_OUTPUT);

        watch.check();
        watch.check();

        assertThat(metrics.repairsValue()).isZero();
        assertThat(metrics.inPlaceValue()).isZero();
        assertThat(warnings()).hasSize(2).last().asString()
                .isEqualTo("rules watch: repair failed, rules still differ from the plan: iptables-nft-restore exited 1: boom");
    }

    @Test
    void rulesThatCannotBeReadAreMinusOneLoggedOnceAndLeaveReadinessAlone() {
        RulesWatch watch = watch(false);
        watch.check();
        table.readFailure = () -> new IptablesEnvironmentException("the rules helper is gone (it exited 0)");

        watch.check();
        watch.check();

        assertThat(metrics.inPlaceValue()).isEqualTo(-1);
        assertThat(readiness.notReadyReason()).isNull();
        assertThat(warnings()).containsExactly("rules watch: cannot read the rules (the rules helper is gone (it exited 0));"
                + " sidecar_rules_in_place is -1 until it can");
    }

    @Test
    void aMangleDriftAndAMissingRouteStepAreNamedInTheReasonAndTheOneWarnLine() {
        RedirectPlan tproxy = RedirectPlan.of(RedirectConfig.builder().ipv6(false).inboundMode(InboundMode.TPROXY).build());
        List<Rule> mangle = new ArrayList<>(tproxy.tableRules(IpFamily.IPV4, Chains.MANGLE));
        mangle.removeIf(r -> r.chain().equals(Chains.TPROXY));
        CheckResult result = new CheckResult(
                Map.of(IpFamily.IPV4, Drift.between(tproxy, IpFamily.IPV4, NatState.of(tproxy.tableRules(IpFamily.IPV4, Chains.TABLE)))),
                List.of(Drift.between(tproxy, IpFamily.IPV4, Chains.MANGLE, NatState.of(mangle))),
                List.of("IPv4: missing: ip -4 rule add fwmark 0x539 lookup 133"));
        RulesWatch watch = new RulesWatch(new RulesWatch.Rules() {
            @Override
            public CheckResult check() {
                return result;
            }

            @Override
            public void repair() {
                throw new AssertionError("repair is off");
            }
        }, false, readiness, metrics);

        watch.check();
        watch.check();

        assertThat(result.drifts().get(IpFamily.IPV4).isClean()).as("the nat table is intact").isTrue();
        assertThat(metrics.inPlaceValue()).isZero();
        assertThat(readiness.notReadyReason())
                .matches("iptables rules differ from the plan \\(IPv4 mangle: [1-9]\\d* missing, 0 extra, 1 other;"
                        + " policy routing: 1 step differs\\)");
        assertThat(warnings()).singleElement().asString()
                .startsWith("rules watch: rules differ from the plan: IPv4 mangle: ! chain PROXY_INIT_TPROXY does not exist | - -A PROXY_INIT_TPROXY ")
                .contains("; policy routing: IPv4: missing: ip -4 rule add fwmark 0x539 lookup 133;")
                .doesNotContain("\n");
    }

    private RulesWatch watch(boolean repair) {
        return new RulesWatch(table, repair, readiness, metrics);
    }

    private List<String> warnings() {
        return messages(Level.WARN);
    }

    private List<String> infos() {
        return messages(Level.INFO);
    }

    private List<String> messages(Level level) {
        return logged.list.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
    }

    private static Readiness readyOtherwise() {
        Readiness r = new Readiness();
        for (Readiness.Step s : Readiness.Step.values()) {
            r.mark(s);
        }
        return r;
    }

    /** An IPv4 nat table holding the plan, which tests damage (a chain without rules is gone); repair puts the plan back. */
    private static final class FakeTable implements RulesWatch.Rules {
        private List<Rule> rules = new ArrayList<>(PLAN.rules(IpFamily.IPV4));
        int repairs;
        boolean repairDoesNothing;
        Supplier<RuntimeException> repairFailure;
        Supplier<RuntimeException> readFailure;

        void flush(String chain) {
            rules.removeIf(r -> r.chain().equals(chain));
        }

        void deleteJump(String chain) {
            rules.removeIf(r -> r.target().equals(chain));
        }

        void reset() {
            rules = new ArrayList<>(PLAN.rules(IpFamily.IPV4));
        }

        @Override
        public CheckResult check() {
            if (readFailure != null) {
                throw readFailure.get();
            }
            Map<IpFamily, Drift> drifts = new LinkedHashMap<>();
            drifts.put(IpFamily.IPV4, Drift.between(PLAN, IpFamily.IPV4, NatState.of(rules)));
            return new CheckResult(drifts);
        }

        @Override
        public void repair() {
            if (repairFailure != null) {
                throw repairFailure.get();
            }
            repairs++;
            if (!repairDoesNothing) {
                reset();
            }
        }
    }
}
