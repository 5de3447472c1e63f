package dev.sidecar.proxy.admin;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.TimeUnit;

/**
 * Assembles an admin connection's pipeline. The limits are small on purpose: every admin request is
 * a bodiless probe or scrape, so anything larger is a mistake or an attack and gets a 400 or 413,
 * and the connection is closed. The connection limit comes first, so a connection over it costs
 * no pipeline at all.
 */
final class AdminInitializer extends ChannelInitializer<SocketChannel> {

    static final int MAX_INITIAL_LINE = 1024;
    static final int MAX_HEADER_SIZE = 8192;
    static final int MAX_BODY = 1024;

    private final AdminHandler handler;
    private final long idleNanos;
    private final long deadlineNanos;
    private final AdminMetrics metrics;
    private final ConnectionLimit limit;

    AdminInitializer(Readiness readiness, PrometheusRegistry registry, ShutdownTrigger shutdown, AdminSettings settings,
                     AdminMetrics metrics) {
        this.handler = new AdminHandler(readiness, registry, shutdown);
        this.idleNanos = settings.idleTimeout().toNanos();
        this.deadlineNanos = settings.requestDeadline().toNanos();
        this.metrics = metrics;
        this.limit = new ConnectionLimit(settings.maxConnections(), metrics);
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        if (!limit.admit(ch)) {
            return;
        }
        RequestDeadline deadline = new RequestDeadline(deadlineNanos, metrics);
        ChannelPipeline p = ch.pipeline();
        p.addLast(deadline);
        p.addLast(new IdleStateHandler(0, 0, idleNanos, TimeUnit.NANOSECONDS));
        p.addLast(new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(MAX_INITIAL_LINE)
                .setMaxHeaderSize(MAX_HEADER_SIZE)));
        p.addLast(new ClosingAggregator(MAX_BODY));
        p.addLast(deadline.completion());
        p.addLast(handler);
    }

    /** Admin connections open now (for tests and diagnostics). */
    int openConnections() {
        return limit.open();
    }
}
