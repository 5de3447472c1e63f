package dev.sidecar.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sidecar.proxy.relay.RelayEvents.Direction;
import dev.sidecar.proxy.transport.Transport;
import dev.sidecar.testkit.RecordingRelayEvents;
import dev.sidecar.testkit.TestPeer;
import io.netty.channel.Channel;
import io.netty.channel.socket.DuplexChannel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Repeats, on each transport, the two transfers that stalled once in a while on io_uring in
 * SidecarRunIT (both directions at once then both FINs; the target's FIN first, then a slow reader
 * under backpressure), asserting that every byte and the FIN reach the target. On a stall the
 * failure carries each pair's channel state (writability, shutdowns, and the transport's internal
 * read/poll flags, read by reflection) and the pair's flags. A few rounds by default; for a stress
 * run: {@code -Drelay.stress.iterations=50 -Drelay.stress.transport=io_uring
 * -Drelay.stress.both.mib=64 -Drelay.stress.slow.mib=128 -Drelay.stress.pause.ms=1000
 * -Drelay.stress.churn=100}, beside a
 * bounded busy loop or two.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Transport.class)
class RelayStallStressTest {
    private static final int ITERATIONS = Integer.getInteger("relay.stress.iterations", 3);
    private static final int MIB = 1024 * 1024;
    private static final long BOTH = Long.getLong("relay.stress.both.mib", 16) * MIB;
    private static final long SLOW = Long.getLong("relay.stress.slow.mib", 32) * MIB;
    private static final long PAUSE = Long.getLong("relay.stress.pause.ms", 300);
    private static final int CHURN = Integer.getInteger("relay.stress.churn", 20);
    private static final String ONLY = System.getProperty("relay.stress.transport", "");

    @Parameter
    Transport transport;

    private final RecordingRelayEvents events = new RecordingRelayEvents();
    private Listeners listeners;
    private TestPeer peer;

    @AfterEach
    void tearDown() throws IOException {
        if (listeners != null) {
            listeners.close();
        }
        if (peer != null) {
            peer.close();
        }
    }

    @BeforeEach
    void only() {
        assumeTrue(ONLY.isEmpty() || ONLY.equals(transport.label()));
    }

    @Test
    void bothWaysAtOnceThenBothFinsRepeatedly() throws Exception {
        repeatedly(BOTH, BOTH, target -> {
            Thread sender = send(target, BOTH);
            try {
                return drain(target.getInputStream());
            } finally {
                sender.join();
            }
        });
    }

    @Test
    void finFirstThenSlowReaderRepeatedly() throws Exception {
        repeatedly(SLOW, 0, target -> {
            target.shutdownOutput();
            Thread.sleep(PAUSE);
            return drain(target.getInputStream());
        });
    }

    /** What the target does with one test connection; returns the bytes it read from the client. */
    private interface TargetSide {
        long serve(Socket target) throws Exception;
    }

    /**
     * ITERATIONS rounds, each after a churn of reset connections: the client sends {@code sent}
     * bytes and its FIN and must read {@code back} bytes to the end; the target must have read all
     * of the client's.
     */
    private void repeatedly(long sent, long back, TargetSide targetSide) throws Exception {
        List<CompletableFuture<Long>> atTarget = new ArrayList<>();
        for (int i = 0; i < ITERATIONS; i++) {
            atTarget.add(new CompletableFuture<>());
        }
        AtomicInteger next = new AtomicInteger();
        peer = new TestPeer(s -> {
            if (s.getInputStream().read() == 'c') {
                drainQuietly(s.getInputStream());
                return;
            }
            CompletableFuture<Long> mine = atTarget.get(next.getAndIncrement());
            mine.complete(targetSide.serve(s));
        });
        InetSocketAddress proxy = proxyTo(peer.address());
        for (int i = 0; i < ITERATIONS; i++) {
            churn(proxy);
            try (Socket client = new Socket(proxy.getAddress(), proxy.getPort())) {
                client.getOutputStream().write('t');
                Thread sender = send(client, sent);
                assertThat(drain(client.getInputStream())).isEqualTo(back);
                sender.join();
                awaitTarget(atTarget.get(i), sent, "iteration " + i);
            }
        }
    }

    private void awaitTarget(CompletableFuture<Long> received, long expected, String what) throws Exception {
        try {
            assertThat(received.get(20, TimeUnit.SECONDS)).as(what).isEqualTo(expected);
        } catch (TimeoutException stalled) {
            throw new AssertionError(what + " stalled: " + dump(), stalled);
        }
    }

    @SuppressWarnings("unchecked")
    private String dump() throws Exception {
        StringBuilder out = new StringBuilder();
        Field open = Listeners.class.getDeclaredField("open");
        open.setAccessible(true);
        for (Channel client : (Collection<Channel>) open.get(listeners)) {
            if (client.parent() == null) {
                continue;
            }
            CompletableFuture<String> state = new CompletableFuture<>();
            client.eventLoop().execute(() -> {
                try {
                    FrontendHandler frontend = client.pipeline().get(FrontendHandler.class);
                    RelayPair pair = (RelayPair) field(frontend, "pair");
                    state.complete("\n client " + channelState(client) + "\n upstream " + channelState(pair.upstream())
                            + "\n pair " + fields(pair, "clientEof", "targetEof", "clientFinPassed", "targetFinPassed",
                                    "fromClient", "fromTarget", "ending"));
                } catch (Exception e) {
                    state.complete(e.toString());
                }
            });
            out.append(state.get(5, TimeUnit.SECONDS));
        }
        return out.toString();
    }

    private static String channelState(Channel ch) throws Exception {
        String s = ch + " active=" + ch.isActive() + " writable=" + ch.isWritable()
                + " inShut=" + ((DuplexChannel) ch).isInputShutdown() + " outShut=" + ((DuplexChannel) ch).isOutputShutdown()
                + " autoRead=" + ch.config().isAutoRead()
                + " outbound=" + (ch.unsafe().outboundBuffer() == null ? "null" : ch.unsafe().outboundBuffer().totalPendingWriteBytes());
        Class<?> c = ch.getClass();
        while (c != null && !c.getSimpleName().startsWith("AbstractIoUringChannel") && !c.getSimpleName().equals("AbstractEpollChannel")) {
            c = c.getSuperclass();
        }
        if (c == null) {
            return s;
        }
        StringBuilder b = new StringBuilder(s);
        for (Field f : c.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            Class<?> t = f.getType();
            if (t.isPrimitive()) {
                f.setAccessible(true);
                b.append(' ').append(f.getName()).append('=').append(f.get(ch));
            } else if (f.getName().equals("delayedClose")) {
                f.setAccessible(true);
                b.append(" delayedClose=").append(f.get(ch));
            }
        }
        return b.toString();
    }

    private static Object field(Object o, String name) throws Exception {
        Field f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }

    private static String fields(Object o, String... names) throws Exception {
        StringBuilder b = new StringBuilder();
        for (String n : names) {
            b.append(n).append('=').append(field(o, n)).append(' ');
        }
        return b.toString();
    }

    private static Thread send(Socket s, long size) {
        Thread t = new Thread(() -> {
            try {
                OutputStream out = s.getOutputStream();
                byte[] chunk = new byte[64 * 1024];
                for (long sent = 0; sent < size; sent += chunk.length) {
                    out.write(chunk);
                }
                s.shutdownOutput();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }, "stress-sender");
        t.start();
        return t;
    }

    /** Connections that the client resets mid-stream, as SidecarRunIT's earlier cases do to the same event loops. */
    private static void churn(InetSocketAddress proxy) throws IOException, InterruptedException {
        List<Socket> all = new ArrayList<>();
        for (int i = 0; i < CHURN; i++) {
            Socket s = new Socket(proxy.getAddress(), proxy.getPort());
            s.getOutputStream().write('c');
            s.getOutputStream().write(new byte[64 * 1024]);
            all.add(s);
        }
        Thread.sleep(50);
        for (Socket s : all) {
            s.setSoLinger(true, 0);
            s.close();
        }
    }

    private static void drainQuietly(InputStream in) {
        try {
            drain(in);
        } catch (IOException reset) {
            // the churn's client reset it: expected
        }
    }

    private static long drain(InputStream in) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long n = 0;
        for (int r; (r = in.read(buf)) >= 0; ) {
            n += r;
        }
        return n;
    }

    private InetSocketAddress proxyTo(InetSocketAddress target) throws IOException {
        listeners = new Listeners(List.of(new Listeners.Endpoint(Direction.OUTBOUND, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))),
                RelaySettings.defaults().withTransport(transport).withConnectTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(1)),
                TargetResolver.fixed(target), events);
        listeners.bind();
        listeners.startAccepting();
        return listeners.address(Direction.OUTBOUND);
    }
}
