package dev.sidecar.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.junit.jupiter.api.Test;

class RulesMetricsTest {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final RulesMetrics metrics = new RulesMetrics(registry);

    @Test
    void bothAreExportedFromTheStartTheGaugeUnknown() throws Exception {
        PrometheusText text = PrometheusText.parse(ProxyMetricsTest.render(registry));

        assertThat(text.value("sidecar_rules_in_place")).isEqualTo(-1);
        assertThat(text.value("sidecar_rules_repairs_total")).isZero();
    }

    @Test
    void theGaugeFollowsTheRulesAndRepairsCount() throws Exception {
        metrics.drifted();
        metrics.repaired();
        metrics.inPlace();

        PrometheusText text = PrometheusText.parse(ProxyMetricsTest.render(registry));
        assertThat(text.value("sidecar_rules_in_place")).isEqualTo(1);
        assertThat(text.value("sidecar_rules_repairs_total")).isEqualTo(1);
        metrics.drifted();
        assertThat(PrometheusText.parse(ProxyMetricsTest.render(registry)).value("sidecar_rules_in_place")).isZero();
    }
}
