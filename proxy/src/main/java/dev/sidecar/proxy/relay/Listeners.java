package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.relay.RelayEvents.Direction;
import dev.sidecar.proxy.selftest.ProbeCatcher;
import dev.sidecar.proxy.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The proxy's listening sockets, on the {@link Transport} in the settings. Two steps, so the sidecar can
 * bind as root before anything else and only serve once it is safe to:
 * {@link #bind()} binds every endpoint but accepts nothing (connections wait in the kernel's
 * backlog), and {@link #startAccepting()} starts taking them. {@link #drain} stops accepting and
 * lets open connections finish.
 *
 * <pre>{@code
 * try (Listeners listeners = new Listeners(Listeners.standard(4143, 4140, true),
 *         RelaySettings.defaults(), TargetResolver.ORIGINAL_DST, RelayEvents.NONE)) {
 *     listeners.bind();
 *     listeners.startAccepting();
 *     ...
 *     listeners.drain(Duration.ofSeconds(30));
 * }
 * }</pre>
 */
public final class Listeners implements AutoCloseable {

    /** Connections the kernel may hold for each listener before the proxy accepts them. */
    static final int BACKLOG = 1024;

    /** One address to listen on, and which way its connections go. */
    public record Endpoint(Direction direction, InetSocketAddress address) {}

    /** A bound listening socket and the direction of its connections. */
    private record Server(Direction direction, Channel channel) {}

    private final List<Endpoint> endpoints;
    private final RelaySettings settings;
    private final TargetResolver resolver;
    private final RelayEvents events;
    private final InboundPolicy inbound;
    private final ProbeCatcher probes;
    private final EventLoopGroup group;
    private final ChannelGroup open = new DefaultChannelGroup("relay", GlobalEventExecutor.INSTANCE);
    private final List<Server> servers = new ArrayList<>();
    private final Admission admission;
    private volatile LoopGuard guard = new LoopGuard(List.of());

    /** As the six-argument constructor, with no self-test probes expected and inbound relayed to any destination. */
    public Listeners(List<Endpoint> endpoints, RelaySettings settings, TargetResolver resolver, RelayEvents events) {
        this(endpoints, settings, resolver, events, new ProbeCatcher(), InboundDestinations.ANY);
    }

    /**
     * Creates the event loops; binds nothing yet.
     *
     * @param probes catches the redirect self-test's probe connections, which are never relayed
     * @param destinations which original destinations inbound connections may be relayed to (the pod's own addresses)
     * @throws IllegalStateException when the settings' native transport cannot load (with its cause)
     */
    public Listeners(List<Endpoint> endpoints, RelaySettings settings, TargetResolver resolver, RelayEvents events,
            ProbeCatcher probes, InboundDestinations destinations) {
        this(endpoints, settings, resolver, events, probes, InboundPolicy.only(destinations));
    }

    /**
     * As the six-argument constructor above, the inbound listener following {@code inbound}: its
     * destinations, PROXY protocol ports and, in tproxy mode, transparent sockets. Outbound keeps
     * {@code resolver}.
     */
    public Listeners(List<Endpoint> endpoints, RelaySettings settings, TargetResolver resolver, RelayEvents events,
            ProbeCatcher probes, InboundPolicy inbound) {
        this.inbound = inbound;
        Throwable missing = settings.transport().unavailabilityCause();
        if (missing != null) {
            throw new IllegalStateException("native " + settings.transport().label()
                    + " transport unavailable (the proxy needs Linux x86_64): " + missing, missing);
        }
        this.endpoints = List.copyOf(endpoints);
        this.settings = settings;
        this.resolver = resolver;
        this.events = events;
        this.probes = probes;
        this.group = settings.transport().newEventLoopGroup(settings.eventLoopThreads(), null);
        this.admission = new Admission(settings.maxConnections());
    }

    /**
     * The sidecar's endpoints: inbound on {@code 0.0.0.0:inboundPort} (and {@code [::]}), outbound
     * on {@code 127.0.0.1:outboundPort} (and {@code [::1]}) only, so the outbound listener cannot be
     * reached from outside the pod.
     */
    public static List<Endpoint> standard(int inboundPort, int outboundPort, boolean ipv6) {
        List<Endpoint> list = new ArrayList<>();
        list.add(new Endpoint(Direction.INBOUND, new InetSocketAddress(ip("0.0.0.0"), inboundPort)));
        list.add(new Endpoint(Direction.OUTBOUND, new InetSocketAddress(ip("127.0.0.1"), outboundPort)));
        if (ipv6) {
            list.add(new Endpoint(Direction.INBOUND, new InetSocketAddress(ip("::"), inboundPort)));
            list.add(new Endpoint(Direction.OUTBOUND, new InetSocketAddress(ip("::1"), outboundPort)));
        }
        return list;
    }

    /**
     * Binds every endpoint, paused. Ports given as 0 get an ephemeral port, which
     * {@link #address(Direction)} reports; the loop guard refuses targets on any bound port. On a
     * transport whose {@code 0.0.0.0} socket is dual-stack, {@code [::]} of the same port needs
     * and gets no socket of its own.
     *
     * @throws IOException naming the address that could not be bound
     */
    public List<InetSocketAddress> bind() throws IOException {
        List<InetSocketAddress> bound = new ArrayList<>();
        List<Integer> ports = new ArrayList<>();
        List<InetSocketAddress> requested = endpoints.stream().map(Endpoint::address).toList();
        for (Endpoint e : endpoints) {
            if (settings.transport().alreadyServed(e.address(), requested)) {
                continue;
            }
            Channel server = bindOne(e);
            InetSocketAddress local = (InetSocketAddress) server.localAddress();
            bound.add(local);
            ports.add(local.getPort());
            servers.add(new Server(e.direction(), server));
        }
        // Ephemeral ports are known only now; nothing has been accepted yet, so no connection saw
        // the empty guard.
        guard = new LoopGuard(ports);
        return bound;
    }

    private Channel bindOne(Endpoint e) throws IOException {
        boolean v6 = e.address().getAddress() instanceof Inet6Address;
        ServerBootstrap b = new ServerBootstrap()
                .group(group, group)
                .channelFactory(() -> settings.transport().newServerChannel(v6))
                .option(ChannelOption.SO_BACKLOG, BACKLOG)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.AUTO_READ, false) // paused: accept nothing until startAccepting()
                .handler(new AcceptGate(e.direction(), admission, events, e.address().getPort() != 0)) // bound; EMFILE answered
                .childHandler(initializer(e.direction()));
        if (v6) {
            b.option(Transport.IPV6_V6ONLY, 1); // [::] must not also claim 0.0.0.0
        }
        if (inbound.transparent() && e.direction() == Direction.INBOUND) {
            b.option(Transport.transparent(v6), 1); // accepts what TPROXY hands it, for any address
        }
        // Set once on the listening socket: every accepted socket inherits them, at no cost per connection.
        settings.deadPeer().withKeepaliveOn().forEach(b::option);
        try {
            return b.bind(e.address()).sync().channel();
        } catch (Exception ex) {
            throw new IOException("cannot listen on " + e.address() + " (" + e.direction().label() + "): " + ex.getMessage(), ex);
        }
    }

    private RelayInitializer initializer(Direction direction) {
        RelaySocketOptions options = new RelaySocketOptions(settings);
        boolean transparent = inbound.transparent() && direction == Direction.INBOUND;
        UpstreamConnector upstream = new UpstreamConnector(settings.transport(), options,
                settings.connectTimeoutMillis(direction), settings.deadPeer().withKeepaliveOn(),
                direction == Direction.INBOUND ? inbound.proxyProtocol() : ProxyProtocolHeader.NONE, transparent);
        TargetResolver targets = transparent ? TargetResolver.LOCAL_ADDRESS : resolver;
        return new RelayInitializer(new ListenerContext(direction, targets, this::guard, probes, inbound.destinations(), events, upstream),
                options, open);
    }

    /**
     * Runs {@code task} once on every event loop thread and waits for all of them, starting any
     * loop that has not started yet (so no loop thread appears later with other privileges).
     */
    public void runOnEveryLoop(Runnable task) {
        List<io.netty.util.concurrent.Future<?>> done = new ArrayList<>();
        for (io.netty.util.concurrent.EventExecutor loop : group) {
            done.add(loop.submit(task));
        }
        done.forEach(f -> f.syncUninterruptibly());
    }

    /**
     * Has every event loop hand the pooled buffers it keeps for reuse back to the allocator, so
     * the chunks a burst filled can be freed. Netty frees a cache entry only if the cache served
     * no allocation since its previous trim, hence two trims.
     */
    public void trimBufferCaches() {
        if (settings.allocator() instanceof PooledByteBufAllocator pooled) {
            runOnEveryLoop(() -> {
                pooled.trimCurrentThreadCache();
                pooled.trimCurrentThreadCache();
            });
        }
    }

    /** Starts accepting on every bound endpoint. */
    public void startAccepting() {
        for (Server server : servers) {
            server.channel().config().setAutoRead(true);
        }
    }

    /** The first bound address for {@code direction}, e.g. to find an ephemeral port. */
    public InetSocketAddress address(Direction direction) {
        for (Server server : servers) {
            if (server.direction() == direction) {
                return (InetSocketAddress) server.channel().localAddress();
            }
        }
        throw new IllegalStateException("no " + direction.label() + " listener bound");
    }

    /** The guard in force: it refuses targets on any bound port. */
    public LoopGuard guard() {
        return guard;
    }

    /** Accepted connections still open. */
    public int openConnections() {
        return open.size();
    }

    /**
     * Stops accepting, waits up to {@code grace} for open connections to finish by themselves, then
     * resets the rest (a reset, so nobody mistakes a cut stream for a complete one).
     *
     * @return how many connections had to be reset
     */
    public int drain(Duration grace) throws InterruptedException {
        for (Server server : servers) {
            server.channel().close().awaitUninterruptibly();
        }
        long deadline = System.nanoTime() + grace.toNanos();
        while (!open.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(Math.min(50, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
        }
        int cut = open.size();
        for (Channel ch : open) {
            ch.eventLoop().execute(() -> Relay.reset(ch));
        }
        return cut;
    }

    /** Closes every channel and stops the event loops. */
    @Override
    public void close() {
        for (Server server : servers) {
            server.channel().close();
        }
        open.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        admission.close();
    }

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal); // a literal: no lookup
        } catch (IOException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

}
