package dev.sidecar.proxy.rules;

import dev.sidecar.iptables.Chains;
import dev.sidecar.iptables.Drift;
import dev.sidecar.iptables.IpFamily;
import dev.sidecar.iptables.RedirectInstaller.CheckResult;
import dev.sidecar.proxy.admin.Readiness;
import dev.sidecar.proxy.admin.RulesMetrics;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One step of the rules watch, decided from one check of the rules against the plan: intact,
 * drifted (the rules differ from the plan) or unknown (they could not be read). Keeps
 * {@link Readiness} and {@link RulesMetrics} in step and logs each change once: one WARN line when
 * a drift is first seen or changes, one INFO line when the rules are back; a drift that lasts is
 * not logged again. With repair on it installs the plan again, at most once per distinct drift (a
 * repair that leaves the same drift behind is not retried until the drift changes or ends).
 *
 * <p>Not thread-safe: {@link RulesWatcher} calls {@link #check} from its one thread.
 */
public final class RulesWatch {
    private static final Logger log = LoggerFactory.getLogger(RulesWatch.class);

    /** The plan's rules, as the watch sees them; "the plan" may span several tables and families. */
    public interface Rules {
        /** Compares the rules with the plan; throws when they cannot be read. */
        CheckResult check();

        /** Installs the plan again, atomically per family; throws when that fails. */
        void repair();
    }

    private final Rules rules;
    private final boolean repair;
    private final Readiness readiness;
    private final RulesMetrics metrics;
    private String drift; // the drift last logged, null while intact
    private String repairedDrift; // the drift the last repair was made for
    private String unreadable; // the read failure last logged

    public RulesWatch(Rules rules, boolean repair, Readiness readiness, RulesMetrics metrics) {
        this.rules = rules;
        this.repair = repair;
        this.readiness = readiness;
        this.metrics = metrics;
    }

    /** Checks once and acts on what it finds; never throws. */
    public void check() {
        CheckResult result = read();
        if (result == null) {
            return;
        }
        if (result.isClean()) {
            intact("rules match the plan again");
            return;
        }
        drifted(result);
        if (!repair || summary(result).equals(repairedDrift)) {
            return;
        }
        repairedDrift = summary(result);
        try {
            rules.repair();
        } catch (RuntimeException e) {
            log.warn("rules watch: repair failed, rules still differ from the plan: {}", e.getMessage());
            return;
        }
        metrics.repaired();
        CheckResult after = read();
        if (after != null && after.isClean()) {
            intact("rules repaired: the plan is installed again");
        } else if (after != null) {
            drifted(after);
        }
    }

    private CheckResult read() {
        try {
            CheckResult r = rules.check();
            unreadable = null;
            return r;
        } catch (RuntimeException e) {
            metrics.unknown();
            String why = String.valueOf(e.getMessage());
            if (!why.equals(unreadable)) {
                unreadable = why;
                log.warn("rules watch: cannot read the rules ({}); sidecar_rules_in_place is -1 until it can", why);
            }
            return null;
        }
    }

    private void intact(String news) {
        metrics.inPlace();
        readiness.rulesInPlace();
        if (drift != null) {
            log.info("rules watch: {}", news);
        }
        drift = null;
        repairedDrift = null;
    }

    private void drifted(CheckResult result) {
        metrics.drifted();
        readiness.rulesDrifted(reason(result));
        String summary = summary(result);
        if (!summary.equals(drift)) {
            drift = summary;
            log.warn("rules watch: rules differ from the plan: {}; {}", summary, repair
                    ? "installing the plan again (--rules-repair)"
                    : "/ready is 503 until they match again (--rules-repair would put them back)");
        }
    }

    /**
     * {@code /ready}'s one-line reason: how many lines differ, per family and table (nat unnamed,
     * mangle named, in tproxy mode), then how many route steps differ.
     */
    static String reason(CheckResult result) {
        List<String> parts = new ArrayList<>();
        for (Drift d : drifts(result)) {
            parts.add(label(d) + ": " + d.missing().size() + " missing, " + d.extra().size() + " extra"
                    + (d.problems().isEmpty() ? "" : ", " + d.problems().size() + " other"));
        }
        if (!result.routing().isEmpty()) {
            int n = result.routing().size();
            parts.add("policy routing: " + (n == 1 ? "1 step differs" : n + " steps differ"));
        }
        return "iptables rules differ from the plan (" + String.join("; ", parts) + ")";
    }

    /**
     * The whole diff on one line: problems ({@code !}), missing ({@code -}) and extra ({@code +})
     * lines per family and table, then the route steps that differ.
     */
    static String summary(CheckResult result) {
        List<String> parts = new ArrayList<>();
        for (Drift d : drifts(result)) {
            List<String> lines = new ArrayList<>();
            d.problems().forEach(p -> lines.add("! " + p));
            d.missing().forEach(m -> lines.add("- " + m));
            d.extra().forEach(e -> lines.add("+ " + e));
            parts.add(label(d) + ": " + String.join(" | ", lines));
        }
        if (!result.routing().isEmpty()) {
            parts.add("policy routing: " + String.join(" | ", result.routing()));
        }
        return String.join("; ", parts);
    }

    /** The drifts that are not clean, per family (IPv4 first): nat, then the other tables. */
    private static List<Drift> drifts(CheckResult result) {
        List<Drift> out = new ArrayList<>();
        for (IpFamily f : IpFamily.values()) {
            Drift nat = result.drifts().get(f);
            if (nat != null && !nat.isClean()) {
                out.add(nat);
            }
            result.otherTables().stream().filter(d -> d.family() == f && !d.isClean()).forEach(out::add);
        }
        return out;
    }

    private static String label(Drift d) {
        return d.table().equals(Chains.TABLE) ? d.family().label() : d.family().label() + " " + d.table();
    }
}
