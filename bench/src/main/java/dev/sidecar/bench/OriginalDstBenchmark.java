package dev.sidecar.bench;

import dev.sidecar.proxy.net.OriginalDst;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one {@code getsockopt(SO_ORIGINAL_DST)} through jnr-ffi on an accepted epoll channel,
 * as the proxy does it once per connection, next to a plain {@code getsockopt(SO_RCVBUF)} through
 * Netty's own JNI on the same socket (what jnr-ffi adds over a direct native call).
 *
 * <p>By default the connection goes straight to the benchmark's listener, so the kernel finds no
 * NAT entry and the lookup returns null (errno path). {@code bench/jmh-redirected.sh} runs it in a
 * throwaway namespace where an iptables REDIRECT sends {@code connectTo} to {@code listenPort}, so
 * the lookup finds and decodes a real original destination; the set-up refuses to measure if it
 * does not.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class OriginalDstBenchmark {

    /** Empty: connect to the listener itself. {@code host:port}: connect there and expect a REDIRECT. */
    @Param({""})
    public String connectTo;

    /** The listener's port on 127.0.0.1; 0 for an ephemeral one. */
    @Param({"0"})
    public int listenPort;

    private EventLoopGroup group;
    private Channel server;
    private Channel client;
    private Channel accepted;

    @Setup
    public void setUp() throws Exception {
        OriginalDst.load();
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        CompletableFuture<Channel> firstAccepted = new CompletableFuture<>();
        server = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .childHandler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        firstAccepted.complete(ctx.channel());
                    }
                })
                .bind(InetAddress.getLoopbackAddress(), listenPort).sync().channel();
        InetSocketAddress to = connectTo.isEmpty() ? (InetSocketAddress) server.localAddress() : parse(connectTo);
        client = new Bootstrap().group(group).channel(EpollSocketChannel.class)
                .handler(new ChannelInboundHandlerAdapter()).connect(to).sync().channel();
        accepted = firstAccepted.get(5, TimeUnit.SECONDS);
        InetSocketAddress found = OriginalDst.of(accepted);
        if (!connectTo.isEmpty() && !to.equals(found)) {
            throw new IllegalStateException("connection to " + to + " was not redirected (SO_ORIGINAL_DST: " + found
                    + "); run this case through bench/jmh-redirected.sh");
        }
        System.out.println("# SO_ORIGINAL_DST of the measured connection: " + (found == null ? "none (not redirected)" : found));
    }

    @TearDown
    public void tearDown() {
        client.close().syncUninterruptibly();
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** What the proxy does for each accepted connection. */
    @Benchmark
    public InetSocketAddress originalDstLookup() throws IOException {
        return OriginalDst.of(accepted);
    }

    /** Baseline: one getsockopt through Netty's JNI instead of jnr-ffi. */
    @Benchmark
    public int nettyJniGetsockopt() {
        return ((EpollSocketChannel) accepted).config().getReceiveBufferSize();
    }

    private static InetSocketAddress parse(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("connectTo must be host:port, got '" + hostPort + "'");
        }
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
