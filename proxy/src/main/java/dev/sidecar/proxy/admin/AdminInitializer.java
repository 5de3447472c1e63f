package dev.sidecar.proxy.admin;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Assembles an admin connection's pipeline. The limits are small on purpose: every admin request is
 * a bodiless probe or scrape, so anything larger is a mistake or an attack and gets a 400 or 413.
 */
final class AdminInitializer extends ChannelInitializer<SocketChannel> {

    static final int MAX_INITIAL_LINE = 1024;
    static final int MAX_HEADER_SIZE = 8192;
    static final int MAX_BODY = 1024;

    private final AdminHandler handler;
    private final long idleNanos;

    AdminInitializer(Readiness readiness, PrometheusRegistry registry, ShutdownTrigger shutdown, Duration idle) {
        this.handler = new AdminHandler(readiness, registry, shutdown);
        this.idleNanos = idle.toNanos();
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ChannelPipeline p = ch.pipeline();
        p.addLast(new IdleStateHandler(0, 0, idleNanos, TimeUnit.NANOSECONDS));
        p.addLast(new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(MAX_INITIAL_LINE)
                .setMaxHeaderSize(MAX_HEADER_SIZE)));
        p.addLast(new HttpObjectAggregator(MAX_BODY));
        p.addLast(handler);
    }
}
