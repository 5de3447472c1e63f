package dev.sidecar.proxy.admin;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import java.util.Arrays;

/**
 * The per-port connection series of one direction, resolved once per destination port.
 *
 * <p>Lookups run on every event loop at once, so the table is copy-on-write: a lookup is one
 * volatile read and a binary search over at most {@link ProxyMetrics#MAX_PORT_LABELS} ints, with
 * no lock and no allocation; only the first event for a new port takes the lock and copies. Port 0
 * (destination unknown) is labelled {@code unknown}; ports beyond the cap share {@code other}.
 */
final class PortLabels {

    /** The three series one destination port owns. */
    static final class Series {
        final CounterDataPoint opened;
        final CounterDataPoint closed;
        final GaugeDataPoint open;

        private Series(CounterDataPoint opened, CounterDataPoint closed, GaugeDataPoint open) {
            this.opened = opened;
            this.closed = closed;
            this.open = open;
        }
    }

    /** Immutable, so one volatile read publishes keys and values together. */
    private record Table(int[] ports, Series[] series) {}

    private final String direction;
    private final Counter opened;
    private final Counter closed;
    private final Gauge open;
    private final int maxPorts;
    private final Series unknown;
    private final Series other;
    private volatile Table table = new Table(new int[0], new Series[0]);

    PortLabels(String direction, Counter opened, Counter closed, Gauge open) {
        this(direction, opened, closed, open, ProxyMetrics.MAX_PORT_LABELS);
    }

    PortLabels(String direction, Counter opened, Counter closed, Gauge open, int maxPorts) {
        this.direction = direction;
        this.opened = opened;
        this.closed = closed;
        this.open = open;
        this.maxPorts = maxPorts;
        this.unknown = resolve("unknown");
        this.other = resolve("other");
    }

    /** The series for {@code port}; never null. */
    Series series(int port) {
        if (port <= 0 || port > 65535) {
            return unknown;
        }
        Table t = table;
        int at = Arrays.binarySearch(t.ports, port);
        if (at >= 0) {
            return t.series[at];
        }
        if (t.ports.length >= maxPorts) {
            return other;
        }
        return add(port);
    }

    private synchronized Series add(int port) {
        Table t = table;
        int at = Arrays.binarySearch(t.ports, port);
        if (at >= 0) {
            return t.series[at]; // another event loop added it meanwhile
        }
        if (t.ports.length >= maxPorts) {
            return other;
        }
        int insert = -at - 1;
        int n = t.ports.length;
        int[] ports = new int[n + 1];
        Series[] series = new Series[n + 1];
        System.arraycopy(t.ports, 0, ports, 0, insert);
        System.arraycopy(t.series, 0, series, 0, insert);
        ports[insert] = port;
        series[insert] = resolve(Integer.toString(port));
        System.arraycopy(t.ports, insert, ports, insert + 1, n - insert);
        System.arraycopy(t.series, insert, series, insert + 1, n - insert);
        table = new Table(ports, series);
        return series[insert];
    }

    private Series resolve(String port) {
        return new Series(
                opened.labelValues(direction, port),
                closed.labelValues(direction, port),
                open.labelValues(direction, port));
    }
}
