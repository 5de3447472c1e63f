package dev.sidecar.proxy.admin;

import static dev.sidecar.proxy.relay.RelayEvents.Direction.INBOUND;
import static dev.sidecar.proxy.relay.RelayEvents.Direction.OUTBOUND;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sidecar.proxy.relay.RelayEvents.Failure;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ProxyMetricsTest {

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ProxyMetrics metrics = new ProxyMetrics(registry);

    @Test
    void connectionCountsAreLabelledByDirectionAndOriginalPort() throws IOException {
        metrics.opened(OUTBOUND, 443);
        metrics.opened(OUTBOUND, 443);
        metrics.opened(INBOUND, 8080);
        metrics.closed(OUTBOUND, 443, 10, 20, 1_000_000);

        PrometheusText text = scrape();
        assertThat(text.value("sidecar_connections_opened_total{direction=\"outbound\",port=\"443\"}")).isEqualTo(2);
        assertThat(text.value("sidecar_connections_opened_total{direction=\"inbound\",port=\"8080\"}")).isEqualTo(1);
        assertThat(text.value("sidecar_connections_closed_total{direction=\"outbound\",port=\"443\"}")).isEqualTo(1);
        assertThat(text.samples).doesNotContainKey("sidecar_connections_opened_total{direction=\"inbound\",port=\"443\"}");
    }

    @Test
    void openGaugeFollowsOpenedMinusClosed() throws IOException {
        metrics.opened(INBOUND, 80);
        metrics.opened(INBOUND, 80);
        metrics.opened(INBOUND, 80);
        metrics.closed(INBOUND, 80, 0, 0, 0);
        assertThat(scrape().value("sidecar_connections_open{direction=\"inbound\",port=\"80\"}")).isEqualTo(2);

        metrics.closed(INBOUND, 80, 0, 0, 0);
        metrics.closed(INBOUND, 80, 0, 0, 0);
        assertThat(scrape().value("sidecar_connections_open{direction=\"inbound\",port=\"80\"}")).isZero();
    }

    @Test
    void bytesAreCountedPerDirectionAndSendingSideAsTheyAreRelayed() throws IOException {
        metrics.opened(OUTBOUND, 5432);
        metrics.relayed(OUTBOUND, true, 400);
        metrics.relayed(OUTBOUND, true, 600);
        for (int i = 0; i < 64 * 8; i++) { // 64 GiB in 128 MiB reads: no overflow in the count
            metrics.relayed(OUTBOUND, false, 128 << 20);
        }
        metrics.opened(INBOUND, 80);
        metrics.relayed(INBOUND, true, 7);
        metrics.relayed(INBOUND, false, 9);

        PrometheusText text = scrape();
        assertThat(text.value("sidecar_relayed_bytes_total{direction=\"outbound\",from=\"client\"}")).isEqualTo(1_000);
        assertThat(text.value("sidecar_relayed_bytes_total{direction=\"outbound\",from=\"target\"}")).isEqualTo(64L << 30);
        assertThat(text.value("sidecar_relayed_bytes_total{direction=\"inbound\",from=\"client\"}")).isEqualTo(7);
        assertThat(text.value("sidecar_relayed_bytes_total{direction=\"inbound\",from=\"target\"}")).isEqualTo(9);
    }

    @Test
    void closingAConnectionDoesNotCountItsBytesAgain() throws IOException {
        metrics.opened(OUTBOUND, 443);
        metrics.relayed(OUTBOUND, true, 10);
        metrics.relayed(OUTBOUND, false, 20);
        metrics.closed(OUTBOUND, 443, 10, 20, 1_000_000);

        PrometheusText text = scrape();
        assertThat(text.value("sidecar_relayed_bytes_total{direction=\"outbound\",from=\"client\"}")).isEqualTo(10);
        assertThat(text.value("sidecar_relayed_bytes_total{direction=\"outbound\",from=\"target\"}")).isEqualTo(20);
    }

    @Test
    void connectionDurationIsObservedInSeconds() throws IOException {
        metrics.opened(INBOUND, 80);
        metrics.closed(INBOUND, 80, 0, 0, 2_500_000_000L);

        PrometheusText text = scrape();
        String h = "sidecar_connection_duration_seconds";
        assertThat(text.value(h + "_count{direction=\"inbound\"}")).isEqualTo(1);
        assertThat(text.value(h + "_sum{direction=\"inbound\"}")).isCloseTo(2.5, within(1e-9));
        assertThat(text.value(h + "_bucket{direction=\"inbound\",le=\"1.0\"}")).isZero();
        assertThat(text.value(h + "_bucket{direction=\"inbound\",le=\"5.0\"}")).isEqualTo(1);
        assertThat(text.value(h + "_bucket{direction=\"inbound\",le=\"+Inf\"}")).isEqualTo(1);
        assertThat(text.value(h + "_count{direction=\"outbound\"}")).isZero();
    }

    @Test
    void upstreamConnectLatencyIsObservedInSeconds() throws IOException {
        metrics.connected(OUTBOUND, 300_000); // 0.3 ms
        metrics.connected(OUTBOUND, 30_000_000); // 30 ms

        PrometheusText text = scrape();
        String h = "sidecar_upstream_connect_duration_seconds";
        assertThat(text.value(h + "_count{direction=\"outbound\"}")).isEqualTo(2);
        assertThat(text.value(h + "_bucket{direction=\"outbound\",le=\"5.0E-4\"}")).isEqualTo(1);
        assertThat(text.value(h + "_bucket{direction=\"outbound\",le=\"0.05\"}")).isEqualTo(2);
        assertThat(text.value(h + "_sum{direction=\"outbound\"}")).isCloseTo(0.0303, within(1e-9));
    }

    @Test
    void everyErrorReasonIsExportedFromZeroAndCountedByDirection() throws IOException {
        assertThat(scrape().value("sidecar_connection_errors_total{direction=\"inbound\",reason=\"no_original_dst\"}")).isZero();
        assertThat(scrape().value("sidecar_connection_errors_total{direction=\"inbound\",reason=\"not_local\"}")).isZero();

        metrics.failed(OUTBOUND, Failure.REFUSED);
        metrics.failed(OUTBOUND, Failure.REFUSED);
        metrics.failed(INBOUND, Failure.LOOP);

        PrometheusText text = scrape();
        for (Failure f : Failure.values()) {
            assertThat(text.samples).containsKey("sidecar_connection_errors_total{direction=\"outbound\",reason=\"" + f.label() + "\"}");
        }
        assertThat(text.value("sidecar_connection_errors_total{direction=\"outbound\",reason=\"refused\"}")).isEqualTo(2);
        assertThat(text.value("sidecar_connection_errors_total{direction=\"inbound\",reason=\"loop\"}")).isEqualTo(1);
        assertThat(text.value("sidecar_connection_errors_total{direction=\"inbound\",reason=\"refused\"}")).isZero();
    }

    @Test
    void unknownDestinationPortIsLabelledUnknown() throws IOException {
        metrics.opened(INBOUND, 0);
        metrics.failed(INBOUND, Failure.NO_ORIGINAL_DST);
        metrics.closed(INBOUND, 0, 0, 0, 1000);

        PrometheusText text = scrape();
        assertThat(text.value("sidecar_connections_opened_total{direction=\"inbound\",port=\"unknown\"}")).isEqualTo(1);
        assertThat(text.value("sidecar_connections_open{direction=\"inbound\",port=\"unknown\"}")).isZero();
    }

    @Test
    void portsBeyondTheCapShareTheOtherLabel() throws IOException {
        int extra = 5;
        for (int port = 1; port <= ProxyMetrics.MAX_PORT_LABELS + extra; port++) {
            metrics.opened(OUTBOUND, port);
        }
        metrics.closed(OUTBOUND, ProxyMetrics.MAX_PORT_LABELS + 1, 0, 0, 0);

        PrometheusText text = scrape();
        long portSeries = text.samples.keySet().stream()
                .filter(k -> k.startsWith("sidecar_connections_opened_total{direction=\"outbound\",port=\""))
                .filter(k -> k.matches(".*port=\"\\d+\"}"))
                .count();
        assertThat(portSeries).isEqualTo(ProxyMetrics.MAX_PORT_LABELS);
        assertThat(text.value("sidecar_connections_opened_total{direction=\"outbound\",port=\"other\"}")).isEqualTo(extra);
        assertThat(text.value("sidecar_connections_open{direction=\"outbound\",port=\"other\"}")).isEqualTo(extra - 1);
        assertThat(text.value("sidecar_connections_opened_total{direction=\"outbound\",port=\"1\"}")).isEqualTo(1);
    }

    @Test
    void negativeCountsFromTheRelayAreIgnoredRatherThanThrown() throws IOException {
        metrics.opened(INBOUND, 80);
        metrics.relayed(INBOUND, true, -1);
        metrics.closed(INBOUND, 80, -1, -2, -3);

        PrometheusText text = scrape();
        assertThat(text.value("sidecar_relayed_bytes_total{direction=\"inbound\",from=\"client\"}")).isZero();
        assertThat(text.value("sidecar_connection_duration_seconds_count{direction=\"inbound\"}")).isEqualTo(1);
        assertThat(text.value("sidecar_connections_closed_total{direction=\"inbound\",port=\"80\"}")).isEqualTo(1);
    }

    @Test
    @Timeout(30)
    void countsStayExactWhenManyEventLoopsReportAtOnce() throws Exception {
        int threads = 4;
        int perThread = 20_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        int port = 1000 + i % 50; // new ports appear concurrently on every thread
                        metrics.opened(OUTBOUND, port);
                        metrics.relayed(OUTBOUND, false, 2);
                        metrics.closed(OUTBOUND, port, 1, 2, 1000);
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }

        PrometheusText text = scrape();
        double opened = 0;
        for (int port = 1000; port < 1050; port++) {
            opened += text.value("sidecar_connections_opened_total{direction=\"outbound\",port=\"" + port + "\"}");
            assertThat(text.value("sidecar_connections_open{direction=\"outbound\",port=\"" + port + "\"}")).isZero();
        }
        assertThat(opened).isEqualTo(threads * perThread);
        assertThat(text.value("sidecar_relayed_bytes_total{direction=\"outbound\",from=\"target\"}")).isEqualTo(2.0 * threads * perThread);
    }

    @Test
    void registerJvmExportsJvmAndProcessMetricsBesideOurs() throws IOException {
        PrometheusRegistry full = new PrometheusRegistry();
        ProxyMetrics.register(full);
        ProxyMetrics.registerJvm(full);

        PrometheusText text = PrometheusText.parse(render(full));
        assertThat(text.families).contains(
                "sidecar_connections_opened_total", "jvm_memory_used_bytes", "jvm_threads_current",
                "process_cpu_seconds_total", "process_open_fds", "sidecar_netty_allocator_used_bytes",
                "jvm_gc_collection_seconds", "jvm_classes_currently_loaded", "jvm_runtime_info");
    }

    @Test
    void registerJvmExportsEveryFamilyOfPrometheusJvmMetricsButNativeMemory() throws IOException {
        // ProxyMetrics lists JvmMetrics' collectors itself: a library upgrade that adds one fails here.
        PrometheusRegistry library = new PrometheusRegistry();
        JvmMetrics.builder().register(library);
        PrometheusRegistry ours = new PrometheusRegistry();
        ProxyMetrics.register(ours);
        ProxyMetrics.registerJvm(ours);
        // jvm_memory_pool_allocated_bytes_total appears at the first collection each registry's
        // listener is told of: have one, and give both listeners time to hear of it.
        System.gc();
        long deadline = System.nanoTime() + 5_000_000_000L;
        List<String> expected;
        Set<String> exported;
        do {
            expected = PrometheusText.parse(render(library)).families.stream()
                    .filter(f -> !f.startsWith("jvm_native_memory"))
                    .toList();
            exported = PrometheusText.parse(render(ours)).families;
        } while (!exported.containsAll(expected) && System.nanoTime() < deadline && sleep(50));

        assertThat(exported).containsAll(expected);
    }

    private static boolean sleep(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Test
    void infoNamesTheTransportAndTheVersion() throws IOException {
        ProxyMetrics.registerInfo(registry, "io_uring", "1.2.3");

        assertThat(render(registry)).contains("sidecar_info{transport=\"io_uring\",version=\"1.2.3\"} 1");
    }

    private PrometheusText scrape() throws IOException {
        return PrometheusText.parse(render(registry));
    }

    static String render(PrometheusRegistry registry) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
        return out.toString(StandardCharsets.UTF_8);
    }
}
