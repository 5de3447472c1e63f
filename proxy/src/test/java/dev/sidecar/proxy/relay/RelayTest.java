package dev.sidecar.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sidecar.proxy.relay.RelayEvents.Direction;
import dev.sidecar.proxy.transport.Transport;
import dev.sidecar.testkit.LeakCheckExtension;
import dev.sidecar.testkit.Payload;
import dev.sidecar.testkit.RecordingRelayEvents;
import dev.sidecar.testkit.TestPeer;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The relay over real sockets on 127.0.0.1, once on each transport (epoll and io_uring), with the
 * original-destination lookup replaced by a fixed target (no iptables, no root).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Transport.class)
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
@ExtendWith(LeakCheckExtension.class)
class RelayTest {
    private static final long MIB = 1024 * 1024;

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

    @Test
    void sixtyFourMebibytesEachWayAtOnceArriveIntact() throws Exception {
        CompletableFuture<Payload.Received> atTarget = new CompletableFuture<>();
        peer = new TestPeer(s -> {
            Thread sender = sendInBackground(s, 2, 64 * MIB);
            atTarget.complete(Payload.receive(s.getInputStream()));
            sender.join();
        });
        InetSocketAddress proxy = proxyTo(peer.address(), Duration.ofSeconds(1));

        Payload.Received atClient;
        try (Socket client = new Socket(proxy.getAddress(), proxy.getPort())) {
            Thread sender = sendInBackground(client, 1, 64 * MIB);
            atClient = Payload.receive(client.getInputStream());
            sender.join();
        }

        assertThat(atClient).isEqualTo(new Payload.Received(Payload.expected(2, 64 * MIB), 64 * MIB));
        assertThat(atTarget.get(30, TimeUnit.SECONDS)).isEqualTo(new Payload.Received(Payload.expected(1, 64 * MIB), 64 * MIB));
        awaitClosed();
        assertThat(events.closedCounts().get(0)).containsExactly(64 * MIB, 64 * MIB);
        assertThat(peer.failures()).isEmpty();
    }

    @Test
    void bytesAreReportedWhileTheConnectionIsStillOpen() throws Exception {
        CompletableFuture<Void> hold = new CompletableFuture<>();
        peer = new TestPeer(s -> {
            s.getInputStream().readNBytes(3 * 1000);
            s.getOutputStream().write(new byte[500]);
            hold.get(30, TimeUnit.SECONDS); // the relay stays open until the test is done looking
        });
        InetSocketAddress proxy = proxyTo(peer.address(), Duration.ofSeconds(1));

        try (Socket client = new Socket(proxy.getAddress(), proxy.getPort())) {
            for (int i = 0; i < 3; i++) {
                client.getOutputStream().write(new byte[1000]);
            }
            assertThat(client.getInputStream().readNBytes(500)).hasSize(500);

            assertThat(events.relayedSoFar()).containsExactly(3000, 500);
            assertThat(events.events()).doesNotContain("closed outbound");
        } finally {
            hold.complete(null);
        }
        awaitClosed();
        assertThat(events.relayedSoFar()).as("nothing counted twice at close").containsExactly(3000, 500);
    }

    @Test
    void clientHalfCloseReachesTargetAndReplyStillFlows() throws Exception {
        peer = new TestPeer(s -> {
            String request = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII); // to FIN
            s.getOutputStream().write(("got " + request).getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
        });
        InetSocketAddress proxy = proxyTo(peer.address(), Duration.ofSeconds(1));

        try (Socket client = new Socket(proxy.getAddress(), proxy.getPort())) {
            client.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            assertThat(new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("got ping");
        }
        awaitClosed();
        assertThat(events.events()).doesNotContain("failed outbound reset");
        assertThat(peer.failures()).isEmpty();
    }

    @Test
    void targetHalfCloseReachesClientAndRequestStillFlows() throws Exception {
        CompletableFuture<String> afterFin = new CompletableFuture<>();
        peer = new TestPeer(s -> {
            s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            afterFin.complete(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
        });
        InetSocketAddress proxy = proxyTo(peer.address(), Duration.ofSeconds(1));

        try (Socket client = new Socket(proxy.getAddress(), proxy.getPort())) {
            assertThat(new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("hello");
            client.getOutputStream().write("still talking".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
        }
        assertThat(afterFin.get(10, TimeUnit.SECONDS)).isEqualTo("still talking");
        awaitClosed();
    }

    @Test
    void bulkAfterTargetHalfCloseStillFlowsWhenTheTargetReadsSlowly() throws Exception {
        CompletableFuture<Payload.Received> afterFin = new CompletableFuture<>();
        peer = new TestPeer(s -> {
            s.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            Thread.sleep(300); // the relay must wait for socket space on a half-closed channel (EPOLLOUT on epoll)
            afterFin.complete(Payload.receive(s.getInputStream()));
        });
        InetSocketAddress proxy = proxyTo(peer.address(), Duration.ofSeconds(1));

        String sent;
        try (Socket client = new Socket(proxy.getAddress(), proxy.getPort())) {
            client.setSoTimeout(30_000);
            assertThat(new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("bye");
            sent = Payload.send(client.getOutputStream(), 5, 32 * MIB);
            client.shutdownOutput();
        }
        assertThat(afterFin.get(30, TimeUnit.SECONDS)).isEqualTo(new Payload.Received(sent, 32 * MIB));
        awaitClosed();
        assertThat(events.events()).doesNotContain("failed outbound reset");
    }

    @Test
    void clientResetResetsTarget() throws Exception {
        CompletableFuture<String> targetSaw = new CompletableFuture<>();
        peer = new TestPeer(s -> targetSaw.complete(readToEnd(s.getInputStream())));
        InetSocketAddress proxy = proxyTo(peer.address(), Duration.ofSeconds(1));

        try (Socket client = new Socket(proxy.getAddress(), proxy.getPort())) {
            client.getOutputStream().write(new byte[1000]);
            Thread.sleep(100); // let the bytes through, so the target is connected and reading
            client.setSoLinger(true, 0);
        }

        assertThat(targetSaw.get(10, TimeUnit.SECONDS)).isEqualTo("reset after 1000 bytes");
        awaitClosed();
        assertThat(events.events()).contains("failed outbound reset");
    }

    @Test
    void targetResetResetsClient() throws Exception {
        peer = new TestPeer(s -> {
            s.getInputStream().readNBytes(5);
            s.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
            s.setSoLinger(true, 0);
        });
        InetSocketAddress proxy = proxyTo(peer.address(), Duration.ofSeconds(1));

        try (Socket client = new Socket(proxy.getAddress(), proxy.getPort())) {
            client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            assertThat(readToEnd(client.getInputStream())).startsWith("reset after");
        }
        awaitClosed();
        assertThat(events.events()).contains("failed outbound reset");
    }

    @Test
    void refusedDestinationResetsClientAtOnce() throws Exception {
        InetSocketAddress closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = (InetSocketAddress) s.getLocalSocketAddress();
        }
        InetSocketAddress proxy = proxyTo(closedPort, Duration.ofSeconds(1));

        try (Socket client = new Socket(proxy.getAddress(), proxy.getPort())) {
            String ending;
            try {
                client.getOutputStream().write("early bytes".getBytes(StandardCharsets.US_ASCII));
                ending = readToEnd(client.getInputStream());
            } catch (SocketException e) {
                // The refusal on loopback can beat the client's write: the write then meets the RST.
                assertThat(e.getMessage()).containsIgnoringCase("reset");
                ending = "reset after 0 bytes";
            }
            assertThat(ending).isEqualTo("reset after 0 bytes");
        }
        awaitClosed();
        assertThat(events.events()).containsExactly("opened outbound", "failed outbound refused", "closed outbound");
    }

    @Test
    void unansweredDestinationResetsClientWithinTheConnectTimeout() throws Exception {
        try (ServerSocket silent = TestPeer.silent(1); BacklogFiller filler = new BacklogFiller(silent)) {
            InetSocketAddress proxy = proxyTo((InetSocketAddress) silent.getLocalSocketAddress(), Duration.ofMillis(500));

            long start = System.nanoTime();
            try (Socket client = new Socket(proxy.getAddress(), proxy.getPort())) {
                assertThat(readToEnd(client.getInputStream())).isEqualTo("reset after 0 bytes");
            }
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(elapsedMillis).isBetween(400L, 1500L);
            assertThat(events.events()).contains("failed outbound timeout");
        }
    }

    @Test
    void earlyBytesAndFinWaitForTheConnectInsteadOfFailingIt() throws Exception {
        try (ServerSocket silent = TestPeer.silent(1); BacklogFiller filler = new BacklogFiller(silent)) {
            InetSocketAddress proxy = proxyTo((InetSocketAddress) silent.getLocalSocketAddress(), Duration.ofMillis(500));

            try (Socket client = new Socket(proxy.getAddress(), proxy.getPort())) {
                client.getOutputStream().write("early bytes".getBytes(StandardCharsets.US_ASCII));
                client.shutdownOutput();
                assertThat(readToEnd(client.getInputStream())).isEqualTo("reset after 0 bytes");
            }
            awaitClosed();
            // The connect timed out; nothing was written to the connecting socket meanwhile.
            assertThat(events.events()).containsExactly("opened outbound", "failed outbound timeout", "closed outbound");
        }
    }

    @Test
    void connectionToTheProxyItselfIsRefusedAsALoop() throws Exception {
        listeners = new Listeners(List.of(new Listeners.Endpoint(Direction.OUTBOUND, loopback(0))),
                settings(), accepted -> (InetSocketAddress) accepted.localAddress(), events);
        listeners.bind();
        listeners.startAccepting();
        InetSocketAddress proxy = listeners.address(Direction.OUTBOUND);

        try (Socket client = new Socket(proxy.getAddress(), proxy.getPort())) {
            assertThat(readToEnd(client.getInputStream())).isEqualTo("reset after 0 bytes");
        }
        assertThat(events.events()).containsExactly("failed outbound loop");
        assertThat(listeners.openConnections()).isLessThanOrEqualTo(1); // no second connection ever existed
    }

    @Test
    void slowReaderKeepsProxyMemoryBoundedAndLosesNothing() throws Exception {
        long size = 512 * MIB;
        long[] peakPinned = {0};
        CompletableFuture<Payload.Received> atTarget = new CompletableFuture<>();
        peer = new TestPeer(s -> {
            InputStream in = s.getInputStream();
            long stallUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (System.nanoTime() < stallUntil) { // a stalled reader: the sender fills every buffer
                peakPinned[0] = Math.max(peakPinned[0], PooledByteBufAllocator.DEFAULT.pinnedDirectMemory());
                Thread.sleep(20);
            }
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 * 1024];
            long total = 0;
            for (int reads = 0, n; (n = in.read(buf, 0, reads < 300 ? 4096 : buf.length)) >= 0; reads++) {
                sha.update(buf, 0, n);
                total += n;
                if (reads < 300) { // then a trickle, before reading at full speed
                    peakPinned[0] = Math.max(peakPinned[0], PooledByteBufAllocator.DEFAULT.pinnedDirectMemory());
                    Thread.sleep(2);
                }
            }
            atTarget.complete(new Payload.Received(HexFormat.of().formatHex(sha.digest()), total));
        });
        InetSocketAddress proxy = proxyTo(peer.address(), Duration.ofSeconds(1));

        String sent;
        try (Socket client = new Socket(proxy.getAddress(), proxy.getPort())) {
            sent = Payload.send(client.getOutputStream(), 7, size);
            client.shutdownOutput();
            assertThat(client.getInputStream().read()).isEqualTo(-1);
        }

        Payload.Received received = atTarget.get(60, TimeUnit.SECONDS);
        assertThat(received.bytes()).isEqualTo(size);
        assertThat(received.sha256()).isEqualTo(sent);
        // One connection may hold one read (128 KiB) plus the high water mark (64 KiB) per direction.
        assertThat(peakPinned[0]).isLessThan(1 * MIB);
        assertThat(PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory()).isLessThan(64 * MIB);
        assertThat(peer.failures()).isEmpty();
    }

    @Test
    void manyStalledTargetsHoldOnlyTheirOwnBoundsAndLoseNothing() throws Exception {
        int connections = 16;
        // More than the kernel can buffer for one connection between client and target (the
        // proxy's two sockets at their autotuning maximums; the client's and the target's are set
        // small), so every client is still blocked when the stall ends: the proxy's bound
        // is what held them, not the kernel's buffers.
        long size = tcpMaxBuffer("tcp_rmem") + tcpMaxBuffer("tcp_wmem") + 4 * MIB;
        CountDownLatch release = new CountDownLatch(1);
        List<Payload.Received> atTarget = new CopyOnWriteArrayList<>();
        peer = new TestPeer(s -> {
            release.await(60, TimeUnit.SECONDS);
            atTarget.add(Payload.receive(s.getInputStream()));
        }, connections, 64 * 1024);
        InetSocketAddress proxy = proxyTo(peer.address(), Duration.ofSeconds(1));

        List<Socket> clients = new ArrayList<>();
        List<Thread> senders = new ArrayList<>();
        List<String> sent = new CopyOnWriteArrayList<>();
        long peakPinned = 0;
        try {
            for (int i = 0; i < connections; i++) {
                Socket c = new Socket();
                c.setSendBufferSize(64 * 1024);
                c.connect(proxy, 5_000);
                clients.add(c);
                long seed = 100 + i;
                Thread sender = new Thread(() -> {
                    try {
                        sent.add(Payload.send(c.getOutputStream(), seed, size));
                        c.shutdownOutput();
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }, "sender-" + seed);
                sender.start();
                senders.add(sender);
            }
            long stallUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (System.nanoTime() < stallUntil) {
                peakPinned = Math.max(peakPinned, PooledByteBufAllocator.DEFAULT.pinnedDirectMemory());
                Thread.sleep(20);
            }
            assertThat(peer.accepted()).isEqualTo(connections);
            // Each connection may hold one read (128 KiB) plus the high water mark (64 KiB) toward
            // its stalled target: the bound grows with the connections, not with what they send.
            assertThat(peakPinned).isLessThan(connections * 256 * 1024L);
            assertThat(senders).allMatch(Thread::isAlive, "still blocked by the stalled target");
            release.countDown();
            for (Thread sender : senders) {
                sender.join(TimeUnit.SECONDS.toMillis(60));
            }
            for (Socket c : clients) {
                c.setSoTimeout(30_000);
                assertThat(c.getInputStream().read()).isEqualTo(-1);
            }
        } finally {
            release.countDown();
            for (Socket c : clients) {
                c.close();
            }
        }

        assertThat(sent).hasSize(connections);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (atTarget.size() < connections && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(atTarget).extracting(Payload.Received::bytes).containsOnly(size).hasSize(connections);
        assertThat(atTarget).extracting(Payload.Received::sha256).containsExactlyInAnyOrderElementsOf(sent);
        assertThat(peer.failures()).isEmpty();
    }

    /**
     * The largest buffer TCP autotuning gives one socket: the sysctl's third field (read as lines:
     * JDK 17's Files.readString returns only the first byte of a /proc file).
     */
    private static long tcpMaxBuffer(String sysctl) throws IOException {
        String[] fields = Files.readAllLines(Path.of("/proc/sys/net/ipv4", sysctl)).get(0).trim().split("\\s+");
        return Long.parseLong(fields[2]);
    }

    @Test
    void fiveHundredConcurrentConnectionsEachCarryTheirOwnData() throws Exception {
        peer = new TestPeer(s -> s.getInputStream().transferTo(s.getOutputStream()), 1024);
        InetSocketAddress proxy = proxyTo(peer.address(), Duration.ofSeconds(1));

        List<Socket> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 500; i++) {
                Socket c = new Socket(proxy.getAddress(), proxy.getPort());
                c.setSoTimeout(20_000);
                clients.add(c);
            }
            for (int i = 0; i < 500; i++) {
                clients.get(i).getOutputStream().write(message(i));
            }
            for (int i = 0; i < 500; i++) {
                assertThat(clients.get(i).getInputStream().readNBytes(message(i).length)).isEqualTo(message(i));
            }
            assertThat(peer.peakOpen()).isEqualTo(500);
        } finally {
            for (Socket c : clients) {
                c.close();
            }
        }
        assertThat(peer.failures()).isEmpty();
    }

    @Test
    void aConnectionOverMaxConnectionsIsResetAtOnceCountedAsOverloadAndTheRoomComesBack() throws Exception {
        peer = new TestPeer(s -> s.getInputStream().transferTo(s.getOutputStream()));
        listeners = new Listeners(List.of(new Listeners.Endpoint(Direction.OUTBOUND, loopback(0))),
                RelaySettings.defaults().withMaxConnections(2), TargetResolver.fixed(peer.address()), events);
        listeners.bind();
        listeners.startAccepting();
        InetSocketAddress proxy = listeners.address(Direction.OUTBOUND);

        try (Socket first = echoing(proxy); Socket second = echoing(proxy)) {
            long start = System.nanoTime();
            try (Socket third = new Socket(proxy.getAddress(), proxy.getPort())) {
                third.setSoTimeout(5_000);
                assertThat(readToEnd(third.getInputStream())).isEqualTo("reset after 0 bytes");
            }
            assertThat((System.nanoTime() - start) / 1_000_000).as("answered at once, in ms").isLessThan(1000);
            assertThat(events.events()).containsOnlyOnce("failed outbound overload");
            assertThat(peer.accepted()).as("the reset one never went upstream").isEqualTo(2);
        }
        awaitClosed();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (listeners.openConnections() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        try (Socket again = echoing(proxy); Socket andAgain = echoing(proxy)) {
            assertThat(events.events()).containsOnlyOnce("failed outbound overload");
        }
    }

    @Test
    void connectFailuresAreNamedForTheirErrno() {
        assertThat(Relay.connectFailure(new java.net.ConnectException("finishConnect(..) failed: Connection refused")))
                .isEqualTo(RelayEvents.Failure.REFUSED);
        assertThat(Relay.connectFailure(new java.net.ConnectException(
                "connect(..) failed with error(-99): Cannot assign requested address: /198.18.5.2:8080")))
                .as("local ports used up is not the destination's refusal").isEqualTo(RelayEvents.Failure.NO_LOCAL_PORT);
        assertThat(Relay.connectFailure(new java.net.ConnectException("finishConnect(..) failed: Connection timed out")))
                .isEqualTo(RelayEvents.Failure.TIMEOUT);
        assertThat(Relay.connectFailure(new java.net.ConnectException("finishConnect(..) failed: No route to host")))
                .isEqualTo(RelayEvents.Failure.UNREACHABLE);
        assertThat(Relay.connectFailure(new java.net.ConnectException("connect(..) failed: Operation not permitted")))
                .as("a local firewall drop").isEqualTo(RelayEvents.Failure.UNREACHABLE);
        assertThat(Relay.connectFailure(new io.netty.channel.ChannelException(
                new IOException("newSocketStream(..) failed: Too many open files"))))
                .isEqualTo(RelayEvents.Failure.OVERLOAD);
        assertThat(Relay.connectFailure(new io.netty.channel.ConnectTimeoutException("connection timed out after 1000 ms")))
                .isEqualTo(RelayEvents.Failure.TIMEOUT);
    }

    @Test
    void aTakenPortIsReportedWithItsAddress() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Listeners second = new Listeners(
                        List.of(new Listeners.Endpoint(Direction.INBOUND, (InetSocketAddress) taken.getLocalSocketAddress())),
                        settings(), TargetResolver.fixed(loopback(1)), events)) {
            assertThatThrownBy(second::bind)
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("cannot listen on " + taken.getLocalSocketAddress() + " (inbound): ")
                    .hasMessageContaining("Address already in use");
        }
    }

    // --- helpers ---

    private InetSocketAddress proxyTo(InetSocketAddress target, Duration connectTimeout) throws IOException {
        listeners = new Listeners(List.of(new Listeners.Endpoint(Direction.OUTBOUND, loopback(0))),
                settings().withConnectTimeouts(connectTimeout, connectTimeout),
                TargetResolver.fixed(target), events);
        listeners.bind();
        listeners.startAccepting();
        return listeners.address(Direction.OUTBOUND);
    }

    private RelaySettings settings() {
        return RelaySettings.defaults().withTransport(transport);
    }

    private void awaitClosed() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!events.events().contains("closed outbound") && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(events.events()).contains("closed outbound");
    }

    /** A client through {@code proxy} whose echo came back, so it is relayed. */
    private static Socket echoing(InetSocketAddress proxy) throws IOException {
        Socket s = new Socket(proxy.getAddress(), proxy.getPort());
        s.setSoTimeout(5_000);
        s.getOutputStream().write(42);
        assertThat(s.getInputStream().read()).isEqualTo(42);
        return s;
    }

    private static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    private static byte[] message(int i) {
        byte[] m = new byte[8 * 1024];
        for (int j = 0; j < m.length; j++) {
            m[j] = (byte) (i * 31 + j);
        }
        return m;
    }

    /** "eof after N bytes" or "reset after N bytes": how the stream ended. */
    private static String readToEnd(InputStream in) throws IOException {
        long n = 0;
        byte[] buf = new byte[8192];
        try {
            for (int r; (r = in.read(buf)) >= 0; ) {
                n += r;
            }
            return "eof after " + n + " bytes";
        } catch (SocketException e) {
            if (String.valueOf(e.getMessage()).contains("reset")) {
                return "reset after " + n + " bytes";
            }
            throw e;
        }
    }

    private static Thread sendInBackground(Socket s, long seed, long size) {
        Thread t = new Thread(() -> {
            try {
                Payload.send(s.getOutputStream(), seed, size);
                s.shutdownOutput();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }, "sender-" + seed);
        t.start();
        return t;
    }

    /** Fills a silent listener's accept queue so the kernel drops further SYNs. */
    private static final class BacklogFiller implements AutoCloseable {
        private final List<Socket> sockets = new ArrayList<>();

        BacklogFiller(ServerSocket silent) throws IOException {
            for (int i = 0; i < 16; i++) {
                Socket s = new Socket();
                try {
                    s.connect(silent.getLocalSocketAddress(), 200);
                    sockets.add(s);
                } catch (SocketTimeoutException full) {
                    s.close();
                    return;
                }
            }
            throw new IllegalStateException("backlog never filled");
        }

        @Override
        public void close() throws IOException {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
