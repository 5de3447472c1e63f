package dev.sidecar.proxy.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Which transport the proxy runs on, and why: {@code auto} takes io_uring where the kernel and the
 * container's seccomp profile allow it, else epoll; an explicit request is checked the same way
 * and refused when it cannot work.
 *
 * <p>Whether io_uring works is found by using it, not from the kernel version: Docker's and
 * Kubernetes' RuntimeDefault seccomp profiles block the io_uring system calls on many versions, and
 * {@code kernel.io_uring_disabled} can switch it off. Netty's own check creates a ring; the probe
 * here then accepts one loopback connection through a ring, so submissions and completions are
 * proven too. It costs a few milliseconds once, at start-up.
 *
 * @param transport the transport to use
 * @param reason why it was chosen, for the start-up log
 */
public record TransportChoice(Transport transport, String reason) {
    private static final long PROBE_TIMEOUT_MILLIS = 2000;

    /** What the operator asked for: {@code auto}, or one transport by name. */
    public enum Request {
        AUTO("auto"),
        IO_URING("io_uring"),
        EPOLL("epoll");

        private final String label;

        Request(String label) {
            this.label = label;
        }

        /** The spelling on the command line. */
        public String label() {
            return label;
        }

        /** The request spelled {@code label}; throws IllegalArgumentException listing the valid ones. */
        public static Request parse(String label) {
            for (Request r : values()) {
                if (r.label.equals(label)) {
                    return r;
                }
            }
            throw new IllegalArgumentException("'" + label + "' is not a transport; use auto, io_uring or epoll");
        }
    }

    /**
     * Decides the transport for {@code request}.
     *
     * @throws TransportUnavailableException when the requested transport (or, for auto, even epoll)
     *         cannot work here; its message says why
     */
    public static TransportChoice choose(Request request) {
        return switch (request) {
            case EPOLL -> new TransportChoice(usable(Transport.EPOLL), "requested (--transport epoll)");
            case IO_URING -> new TransportChoice(usable(Transport.IO_URING), "requested (--transport io_uring)");
            case AUTO -> {
                String problem = problem(Transport.IO_URING);
                yield problem == null
                        ? new TransportChoice(Transport.IO_URING, "auto: io_uring works here")
                        : new TransportChoice(usable(Transport.EPOLL), "auto: io_uring unusable (" + problem + ")");
            }
        };
    }

    private static Transport usable(Transport transport) {
        String problem = problem(transport);
        if (problem != null) {
            throw new TransportUnavailableException(transport, problem);
        }
        return transport;
    }

    /** Why {@code transport} cannot work here, or null when it does. */
    static String problem(Transport transport) {
        Throwable missing = transport.unavailabilityCause();
        if (missing != null) {
            return String.valueOf(rootCause(missing).getMessage());
        }
        return transport == Transport.IO_URING ? probe(transport) : null;
    }

    /** Accepts one loopback connection through {@code transport}'s event loop; null when that worked. */
    private static String probe(Transport transport) {
        EventLoopGroup group;
        try {
            group = transport.newEventLoopGroup(1, new DefaultThreadFactory("sidecar-transport-probe", true));
        } catch (RuntimeException | Error e) {
            return "cannot start an event loop: " + rootCause(e).getMessage();
        }
        Channel server = null;
        Channel client = null;
        try {
            InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
            ChannelFuture bound = new ServerBootstrap().group(group)
                    .channelFactory(() -> transport.newServerChannel(false))
                    .childHandler(new ChannelInboundHandlerAdapter())
                    .bind(loopback);
            if (!bound.awaitUninterruptibly(PROBE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS) || !bound.isSuccess()) {
                return "a listener on it failed: " + describe(bound);
            }
            server = bound.channel();
            ChannelFuture connected = new Bootstrap().group(group)
                    .channelFactory(() -> transport.newSocketChannel(false))
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect(server.localAddress());
            if (!connected.awaitUninterruptibly(PROBE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS) || !connected.isSuccess()) {
                return "a loopback connection through it failed: " + describe(connected);
            }
            client = connected.channel();
            return null;
        } finally {
            if (client != null) {
                client.close().awaitUninterruptibly(PROBE_TIMEOUT_MILLIS);
            }
            if (server != null) {
                server.close().awaitUninterruptibly(PROBE_TIMEOUT_MILLIS);
            }
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS); // no need to wait: a daemon thread
        }
    }

    private static String describe(ChannelFuture f) {
        return f.isDone() ? String.valueOf(rootCause(f.cause()).getMessage()) : "no answer within " + PROBE_TIMEOUT_MILLIS + " ms";
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }
}
