package dev.sidecar.proxy.admin;

import dev.sidecar.proxy.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP endpoint: {@code GET /live}, {@code GET /ready}, {@code GET /metrics} and, when
 * enabled, {@code POST /shutdown} from loopback peers. The README documents them.
 *
 * <p>It runs on its own single event loop, on the proxy's transport, so a slow scrape or a misbehaving client never
 * shares a thread with relayed traffic, and closing it touches nothing else. It cannot take the
 * relay's descriptors either: at most {@link AdminSettings#maxConnections()} admin connections are
 * open at once, and each must deliver its request within {@link AdminSettings#requestDeadline()}.
 *
 * <pre>{@code
 * try (AdminServer admin = AdminServer.start(AdminSettings.allInterfaces(4191, false, false),
 *         Transport.EPOLL, readiness, registry, sidecar::beginShutdown)) {
 *     ...
 * }
 * }</pre>
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    private final EventLoopGroup group;
    private final List<Channel> listeners;

    private AdminServer(EventLoopGroup group, List<Channel> listeners) {
        this.group = group;
        this.listeners = listeners;
    }

    /**
     * Binds every address in {@code settings} and starts serving. Registers the endpoint's own
     * metric ({@code sidecar_admin_connections_dropped_total}) and the JVM's and the process's
     * ({@link ProxyMetrics#registerJvm}) on {@code registry}, so call it once
     * per registry.
     *
     * @param shutdownHook starts the graceful shutdown; run at most once, on its own thread, and
     *                     only if {@code settings.shutdownEndpoint()} is set
     * @throws AdminBindException if an address cannot be bound; nothing is left listening then
     */
    public static AdminServer start(AdminSettings settings, Transport transport, Readiness readiness,
                                    PrometheusRegistry registry, Runnable shutdownHook) {
        EventLoopGroup group = transport.newEventLoopGroup(1, new DefaultThreadFactory("sidecar-admin", true));
        // The JVM's metrics (the platform MXBeans, ~20 ms of a cold start) are registered by the
        // endpoint's own loop when its first listener becomes active, before that listener's first
        // accept: the start goes on meanwhile (it waits for the bind, not for them), and every
        // scrape, served on this loop, comes after them.
        JvmMetricsOnce jvmMetrics = new JvmMetricsOnce(registry);
        ShutdownTrigger shutdown = new ShutdownTrigger(settings.shutdownEndpoint(), shutdownHook);
        AdminInitializer initializer = new AdminInitializer(readiness, registry, shutdown, settings,
                new AdminMetrics(registry));
        List<Channel> listeners = new ArrayList<>();
        AdminServer server = new AdminServer(group, listeners);
        try {
            for (InetSocketAddress address : settings.bindAddresses()) {
                if (transport.alreadyServed(address, settings.bindAddresses())) {
                    continue; // the dual-stack 0.0.0.0 socket of this transport serves [::] too
                }
                ChannelFuture bound = bootstrap(group, transport, address, initializer, jvmMetrics).bind(address)
                        .awaitUninterruptibly();
                if (!bound.isSuccess()) {
                    throw new AdminBindException(address, bound.cause());
                }
                listeners.add(bound.channel());
                log.info("admin endpoint listening on {}", hostPort((InetSocketAddress) bound.channel().localAddress()));
            }
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /**
     * Registers the JVM's metrics once, as the first listening socket becomes active: Netty fires
     * that on the loop after the bind, and asks for the first accept only once it has passed.
     */
    @Sharable
    private static final class JvmMetricsOnce extends ChannelInboundHandlerAdapter {
        private final PrometheusRegistry registry;
        private boolean registered; // only ever touched on the admin loop

        JvmMetricsOnce(PrometheusRegistry registry) {
            this.registry = registry;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (!registered) {
                registered = true;
                ProxyMetrics.registerJvm(registry);
            }
            ctx.fireChannelActive();
        }
    }

    private static ServerBootstrap bootstrap(EventLoopGroup group, Transport transport, InetSocketAddress address,
                                             AdminInitializer initializer, ChannelHandler listening) {
        boolean v6 = address.getAddress() instanceof Inet6Address;
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channelFactory(() -> transport.newServerChannel(v6))
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 64)
                .handler(listening)
                .childHandler(initializer);
        if (v6) {
            b.option(Transport.IPV6_V6ONLY, 1); // [::] must not also claim 0.0.0.0
        }
        return b;
    }

    /** The addresses actually bound, in settings order; useful when a port was 0. */
    public List<InetSocketAddress> localAddresses() {
        return listeners.stream().map(c -> (InetSocketAddress) c.localAddress()).toList();
    }

    /** Stops listening, closes admin connections and the event loop; waits up to a few seconds. */
    @Override
    public void close() {
        for (Channel listener : listeners) {
            listener.close().awaitUninterruptibly();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** {@code 0.0.0.0:4191} or {@code [::]:4191}, as people write them. */
    static String hostPort(InetSocketAddress address) {
        String host = NetUtil.toAddressString(address.getAddress());
        return (address.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /** An admin address could not be bound, typically because the port is in use. */
    public static final class AdminBindException extends RuntimeException {
        AdminBindException(InetSocketAddress address, Throwable cause) {
            super("cannot bind the admin endpoint to " + hostPort(address) + " (--admin-port): " + cause.getMessage(),
                    cause);
        }
    }
}
