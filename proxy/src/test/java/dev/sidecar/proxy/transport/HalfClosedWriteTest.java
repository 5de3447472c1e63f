package dev.sidecar.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.testkit.Payload;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A socket whose peer has said FIN keeps writing when the peer reads more slowly than it is sent to:
 * the half-close a relay passes on in both directions. A bare Netty channel of each transport, on
 * 127.0.0.1, writes more than the kernel buffers hold, so it has to wait for room after the FIN
 * (io_uring needs {@code PollOutRepair} for that).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Transport.class)
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HalfClosedWriteTest {
    private static final long SIZE = 32L << 20; // far more than loopback's socket buffers hold

    @Parameter
    Transport transport;

    private EventLoopGroup group;
    private ServerSocket server;

    @BeforeEach
    void setUp() throws IOException {
        group = transport.newEventLoopGroup(1, new DefaultThreadFactory("half-closed-write", true));
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void tearDown() throws Exception {
        server.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    @Test
    void aHalfClosedSocketDrainsItsBufferWhenItsReaderCatchesUp() throws Exception {
        assertDrainsOnceItsReaderReads(7);
    }

    @Test
    void aHalfClosedSocketWaitingForRoomClosesAndItsLoopServesTheNextOne() throws Exception {
        Peer stuck = new Peer(server);
        Channel first = connectAndSeeFin();
        writePayload(first, 1);
        awaitStalled(first);

        assertThat(first.close().await(5, TimeUnit.SECONDS)).as("close of a socket waiting for room").isTrue();
        stuck.close();

        // The next socket (likely given the same descriptor number) still waits and wakes right.
        assertDrainsOnceItsReaderReads(2);
    }

    /**
     * A channel whose peer said FIN at once queues more than the kernel holds, waits for room,
     * and once the peer reads, sends it all, in order, and its FIN.
     */
    private void assertDrainsOnceItsReaderReads(long seed) throws Exception {
        Peer peer = new Peer(server);
        Channel ch = connectAndSeeFin();
        ChannelFuture written = writePayload(ch, seed);
        awaitStalled(ch);

        peer.startReading();

        assertThat(written.await(20, TimeUnit.SECONDS)).as("the last write is done once the reader reads").isTrue();
        assertThat(written.cause()).isNull();
        ((DuplexChannel) ch).shutdownOutput().sync();
        assertThat(peer.received.get(30, TimeUnit.SECONDS)).isEqualTo(new Payload.Received(Payload.expected(seed, SIZE), SIZE));
        ch.close().sync();
    }

    /** A connected channel, prepared as the relay's are, that has read the peer's FIN (AUTO_READ off, as in the relay). */
    private Channel connectAndSeeFin() throws Exception {
        CompletableFuture<Void> fin = new CompletableFuture<>();
        Channel ch = new Bootstrap().group(group).channelFactory(() -> {
                    Channel c = transport.newSocketChannel(false);
                    transport.prepareRelayChannel(c); // epoll needs its work-around for exactly this case
                    return c;
                })
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        if (evt instanceof ChannelInputShutdownEvent) {
                            fin.complete(null);
                        }
                    }
                })
                .connect(server.getLocalSocketAddress()).sync().channel();
        ch.read();
        fin.get(10, TimeUnit.SECONDS);
        return ch;
    }

    /** Queues the whole payload of {@code seed} on {@code ch} and flushes it; the future of its last write. */
    private static ChannelFuture writePayload(Channel ch, long seed) throws IOException {
        ChannelFuture[] last = new ChannelFuture[1];
        Payload.send(new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                last[0] = ch.write(Unpooled.copiedBuffer(b, off, len));
            }

            @Override
            public void flush() {
                ch.flush();
            }
        }, seed, SIZE);
        return last[0];
    }

    /** Waits until the kernel takes no more: the peer's buffers are full and the channel must wait for room. */
    private static void awaitStalled(Channel ch) throws InterruptedException {
        long before = -1;
        for (int still = 0; still < 5; Thread.sleep(20)) {
            long pending = ch.bytesBeforeWritable();
            assertThat(pending).as("bytes still queued in the channel").isPositive();
            still = pending == before ? still + 1 : 0;
            before = pending;
        }
    }

    /** The accepted end: says FIN at once, reads only when told to, to end of stream. */
    private static final class Peer implements AutoCloseable {
        final CompletableFuture<Payload.Received> received = new CompletableFuture<>();
        private final CountDownLatch go = new CountDownLatch(1);
        private final Thread thread;
        private volatile Socket socket;

        Peer(ServerSocket server) {
            thread = new Thread(() -> {
                try (Socket s = server.accept()) {
                    socket = s;
                    s.shutdownOutput();
                    go.await();
                    received.complete(Payload.receive(s.getInputStream()));
                } catch (Exception e) {
                    received.completeExceptionally(e);
                }
            }, "peer");
            thread.setDaemon(true);
            thread.start();
        }

        void startReading() {
            go.countDown();
        }

        @Override
        public void close() throws Exception {
            Socket s = socket;
            if (s != null) {
                s.close();
            }
            go.countDown();
            thread.join(5_000);
        }
    }
}
