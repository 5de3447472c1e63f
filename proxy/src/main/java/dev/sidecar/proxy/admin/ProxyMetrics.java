package dev.sidecar.proxy.admin;

import dev.sidecar.proxy.relay.RelayEvents;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.PooledByteBufAllocator;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.instrumentation.jvm.JvmBufferPoolMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmClassLoadingMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmCompilationMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmGarbageCollectorMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryPoolAllocationMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmNativeMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmRuntimeInfoMetric;
import io.prometheus.metrics.instrumentation.jvm.JvmThreadsMetrics;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.stream.Stream;

/**
 * The proxy's Prometheus metrics, fed by the relay through {@link RelayEvents}.
 *
 * <p>Every method runs on an event loop, once per connection event or buffer read (never per
 * byte), so the cost is a handful of uncontended {@code LongAdder} additions: all label children
 * are resolved up front
 * (direction and reason at construction, destination ports on first sight), exemplars are off, and
 * histograms are classic-only. Nothing on the event path allocates once a port has been seen.
 *
 * <p>Expected call order per accepted connection: {@code opened}, then {@code connected} or
 * {@code failed}, and always exactly one {@code closed} with the same port, so that
 * {@code sidecar_connections_open} returns to zero. The metric names are listed in
 * the README ("Metrics").
 */
public final class ProxyMetrics implements RelayEvents {

    /**
     * Distinct destination ports labelled per direction; later ports share {@code port="other"}, so
     * an application dialling many ports cannot blow up the series count.
     */
    public static final int MAX_PORT_LABELS = 128;

    private static final double NANOS_PER_SECOND = 1e9;
    private static final Direction[] DIRECTIONS = Direction.values();
    private static final Failure[] FAILURES = Failure.values();

    private final PortLabels[] ports = new PortLabels[DIRECTIONS.length];
    private final CounterDataPoint[] bytesFromClient = new CounterDataPoint[DIRECTIONS.length];
    private final CounterDataPoint[] bytesFromTarget = new CounterDataPoint[DIRECTIONS.length];
    private final DistributionDataPoint[] duration = new DistributionDataPoint[DIRECTIONS.length];
    private final DistributionDataPoint[] connectLatency = new DistributionDataPoint[DIRECTIONS.length];
    private final CounterDataPoint[][] errors = new CounterDataPoint[DIRECTIONS.length][FAILURES.length];

    /** Creates the proxy's metrics and registers them (only these; see {@link #register}). */
    public ProxyMetrics(PrometheusRegistry registry) {
        Counter opened = Counter.builder()
                .name("sidecar_connections_opened_total")
                .help("Connections accepted by the proxy, by listener and original destination port.")
                .labelNames("direction", "port")
                .withoutExemplars()
                .register(registry);
        Counter closed = Counter.builder()
                .name("sidecar_connections_closed_total")
                .help("Connections whose relay ended, however it ended.")
                .labelNames("direction", "port")
                .withoutExemplars()
                .register(registry);
        Gauge open = Gauge.builder()
                .name("sidecar_connections_open")
                .help("Connections accepted and not yet closed.")
                .labelNames("direction", "port")
                .withoutExemplars()
                .register(registry);
        Counter bytes = Counter.builder()
                .name("sidecar_relayed_bytes_total")
                .unit(Unit.BYTES)
                .help("Bytes relayed, counted as they are read; from=client is what the accepted"
                        + " side sent, from=target what the original destination sent back.")
                .labelNames("direction", "from")
                .withoutExemplars()
                .register(registry);
        Histogram durations = Histogram.builder()
                .name("sidecar_connection_duration_seconds")
                .unit(Unit.SECONDS)
                .help("Lifetime of relayed connections, from accept to close.")
                .labelNames("direction")
                .classicOnly()
                .classicUpperBounds(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600)
                .withoutExemplars()
                .register(registry);
        Histogram connects = Histogram.builder()
                .name("sidecar_upstream_connect_duration_seconds")
                .unit(Unit.SECONDS)
                .help("Time to establish the upstream connection to the original destination.")
                .labelNames("direction")
                .classicOnly()
                .classicUpperBounds(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                        0.1, 0.25, 0.5, 1, 2.5, 5, 10)
                .withoutExemplars()
                .register(registry);
        Counter failures = Counter.builder()
                .name("sidecar_connection_errors_total")
                .help("Connections refused or ended abnormally, by reason.")
                .labelNames("direction", "reason")
                .withoutExemplars()
                .register(registry);

        for (Direction d : DIRECTIONS) {
            int i = d.ordinal();
            ports[i] = new PortLabels(d.label(), opened, closed, open);
            bytesFromClient[i] = bytes.labelValues(d.label(), "client");
            bytesFromTarget[i] = bytes.labelValues(d.label(), "target");
            duration[i] = durations.labelValues(d.label());
            connectLatency[i] = connects.labelValues(d.label());
            // Resolving every reason now also exports zeros, so alerts on rate() work from the start.
            for (Failure f : FAILURES) {
                errors[i][f.ordinal()] = failures.labelValues(d.label(), f.label());
            }
        }
        registerAllocatorGauge(registry);
    }

    /**
     * Registers the proxy's metrics on {@code registry}. The JVM's and the process's come from
     * {@link #registerJvm}, which the admin endpoint runs (it exports them).
     */
    public static ProxyMetrics register(PrometheusRegistry registry) {
        return new ProxyMetrics(registry);
    }

    /** Registers the standard JVM and process metrics ({@code jvm_*}, {@code process_*}) on {@code registry}. */
    public static void registerJvm(PrometheusRegistry registry) {
        // JvmMetrics' set, except native memory: those metrics exist only with native memory
        // tracking on, and looking for it starts the platform MBean server, which loads every
        // platform MXBean (Flight Recorder's among them) into an idle proxy for nothing.
        JvmThreadsMetrics.builder().register(registry);
        JvmBufferPoolMetrics.builder().register(registry);
        JvmClassLoadingMetrics.builder().register(registry);
        JvmCompilationMetrics.builder().register(registry);
        JvmGarbageCollectorMetrics.builder().register(registry);
        JvmMemoryPoolAllocationMetrics.builder().register(registry);
        JvmMemoryMetrics.builder().register(registry);
        if (nativeMemoryTracking()) {
            JvmNativeMemoryMetrics.builder().register(registry);
        }
        JvmRuntimeInfoMetric.builder().register(registry);
        ProcessMetrics.builder().register(registry);
    }

    /** Whether the JVM was started with {@code -XX:NativeMemoryTracking=summary} or {@code =detail}. */
    private static boolean nativeMemoryTracking() {
        return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .anyMatch(a -> a.startsWith("-XX:NativeMemoryTracking=") && !a.endsWith("=off"));
    }

    /**
     * Registers {@code sidecar_info{transport="...",version="..."} 1}: what this process runs on,
     * so dashboards can tell an io_uring pod from an epoll one.
     */
    public static void registerInfo(PrometheusRegistry registry, String transport, String version) {
        Info.builder()
                .name("sidecar_info")
                .help("The running sidecar: its transport (io_uring or epoll) and version; always 1.")
                .labelNames("transport", "version")
                .register(registry)
                .setLabelValues(transport, version);
    }

    @Override
    public void opened(Direction direction, int targetPort) {
        PortLabels.Series s = ports[direction.ordinal()].series(targetPort);
        s.opened.inc();
        s.open.inc();
    }

    @Override
    public void connected(Direction direction, long connectNanos) {
        connectLatency[direction.ordinal()].observe(seconds(connectNanos));
    }

    @Override
    public void failed(Direction direction, Failure reason) {
        errors[direction.ordinal()][reason.ordinal()].inc();
    }

    @Override
    public void relayed(Direction direction, boolean fromClient, int bytes) {
        // Counters reject negative increments with an exception; never let one escape onto an
        // event loop.
        (fromClient ? bytesFromClient : bytesFromTarget)[direction.ordinal()].inc(Math.max(0, bytes));
    }

    /** Bytes were counted as they went ({@link #relayed}); the totals here are for the log. */
    @Override
    public void closed(Direction direction, int targetPort, long bytesFromClient, long bytesFromTarget,
                       long durationNanos) {
        int i = direction.ordinal();
        PortLabels.Series s = ports[i].series(targetPort);
        s.closed.inc();
        s.open.dec();
        duration[i].observe(seconds(durationNanos));
    }

    private static double seconds(long nanos) {
        return Math.max(0L, nanos) / NANOS_PER_SECOND;
    }

    /**
     * Netty's own view of its buffer memory, which the JVM's buffer-pool metrics do not see: the
     * relay's pooled allocator ({@code RelaySettings}' default), which {@code Main} also makes
     * Netty's default, plus that default if {@code -Dio.netty.allocator.type} made it another.
     */
    private static void registerAllocatorGauge(PrometheusRegistry registry) {
        List<ByteBufAllocatorMetric> metrics = Stream.of(PooledByteBufAllocator.DEFAULT, ByteBufAllocator.DEFAULT)
                .distinct()
                .filter(ByteBufAllocatorMetricProvider.class::isInstance)
                .map(a -> ((ByteBufAllocatorMetricProvider) a).metric())
                .toList();
        GaugeWithCallback.builder()
                .name("sidecar_netty_allocator_used_bytes")
                .unit(Unit.BYTES)
                .help("Memory held by Netty's buffer allocators (the relay's pooled one and Netty's default), by kind (direct or heap).")
                .labelNames("kind")
                .callback(cb -> {
                    cb.call(metrics.stream().mapToLong(ByteBufAllocatorMetric::usedDirectMemory).sum(), "direct");
                    cb.call(metrics.stream().mapToLong(ByteBufAllocatorMetric::usedHeapMemory).sum(), "heap");
                })
                .register(registry);
    }
}
