package dev.sidecar.proxy.admin;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * What the admin endpoint counts about itself: connections it cut to protect the process, by
 * reason. Both reasons are exported from 0, so an alert on {@code rate()} works from the start.
 */
final class AdminMetrics {
    private final CounterDataPoint overLimit;
    private final CounterDataPoint pastDeadline;

    /** Registers {@code sidecar_admin_connections_dropped_total} on {@code registry}; once per registry. */
    AdminMetrics(PrometheusRegistry registry) {
        Counter dropped = Counter.builder()
                .name("sidecar_admin_connections_dropped_total")
                .help("Admin connections closed by the endpoint to protect itself: reason=limit (closed on"
                        + " accept, too many open), reason=deadline (request not complete in time).")
                .labelNames("reason")
                .withoutExemplars()
                .register(registry);
        overLimit = dropped.labelValues("limit");
        pastDeadline = dropped.labelValues("deadline");
    }

    void overLimit() {
        overLimit.inc();
    }

    void pastDeadline() {
        pastDeadline.inc();
    }
}
