package dev.sidecar.bench;

import dev.sidecar.proxy.admin.ProxyMetrics;
import dev.sidecar.proxy.relay.Listeners;
import dev.sidecar.proxy.relay.RelayEvents;
import dev.sidecar.proxy.relay.RelayEvents.Direction;
import dev.sidecar.proxy.relay.RelaySettings;
import dev.sidecar.proxy.relay.TargetResolver;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The proxy's relay, in process, listening on an ephemeral loopback port and relaying every
 * connection to one fixed target instead of the SO_ORIGINAL_DST one, so no iptables is needed. It
 * uses the sidecar's real listeners, handlers, default settings and metrics (which count every
 * buffer relayed); without them, it shows what counting costs.
 */
final class RelayUnderTest implements AutoCloseable {
    private final Listeners listeners;
    private final InetSocketAddress address;

    private RelayUnderTest(InetSocketAddress target, boolean counted) throws IOException {
        listeners = new Listeners(
                List.of(new Listeners.Endpoint(Direction.OUTBOUND, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))),
                RelaySettings.defaults(), TargetResolver.fixed(target),
                counted ? new ProxyMetrics(new PrometheusRegistry()) : RelayEvents.NONE);
        listeners.bind();
        listeners.startAccepting();
        address = listeners.address(Direction.OUTBOUND);
    }

    /** @param counted report to the sidecar's metrics, as in production; false: report nothing */
    static RelayUnderTest start(InetSocketAddress target, boolean counted) throws IOException {
        return new RelayUnderTest(target, counted);
    }

    InetSocketAddress address() {
        return address;
    }

    @Override
    public void close() {
        listeners.close();
    }
}
