package dev.sidecar.proxy.admin;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * What the rules watch reports: {@code sidecar_rules_in_place} is 1 while the redirect rules match
 * the plan, 0 while they differ, and -1 while nobody knows (not checked yet, the watch is off, or
 * the rules could not be read); {@code sidecar_rules_repairs_total} counts re-installs of the plan
 * after drift ({@code --rules-repair}), exported from 0.
 */
public final class RulesMetrics {
    private final Gauge inPlace;
    private final Counter repairs;

    /** Registers both metrics on {@code registry}, the gauge at -1; once per registry. */
    public RulesMetrics(PrometheusRegistry registry) {
        inPlace = Gauge.builder()
                .name("sidecar_rules_in_place")
                .help("1 while the redirect rules match the plan, 0 while they differ, -1 while unknown"
                        + " (not checked yet, rules watch off, or the rules could not be read).")
                .withoutExemplars()
                .register(registry);
        repairs = Counter.builder()
                .name("sidecar_rules_repairs_total")
                .help("Times the plan was installed again after the rules were found to differ from it (--rules-repair).")
                .withoutExemplars()
                .register(registry);
        inPlace.set(-1);
        repairs.initLabelValues();
    }

    public void inPlace() {
        inPlace.set(1);
    }

    public void drifted() {
        inPlace.set(0);
    }

    public void unknown() {
        inPlace.set(-1);
    }

    public void repaired() {
        repairs.inc();
    }

    /** The gauge's value now: 1, 0 or -1. */
    public int inPlaceValue() {
        return (int) inPlace.get();
    }

    /** Repairs so far. */
    public long repairsValue() {
        return (long) repairs.get();
    }
}
