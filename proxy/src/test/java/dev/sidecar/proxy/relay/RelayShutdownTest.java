package dev.sidecar.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.proxy.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link Relay#shutdownOutputAfterFlush} shuts the socket down itself rather than through Netty's
 * {@code shutdownOutput()}: the peer still gets every byte and then its FIN, Netty's view of the
 * channel follows, the other direction stays open, and a reset socket reports that the FIN did not
 * go out. A Netty client channel of each transport against a plain socket on 127.0.0.1.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Transport.class)
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RelayShutdownTest {
    @Parameter
    Transport transport;

    private EventLoopGroup group;
    private ServerSocket server;
    private final CompletableFuture<String> readByChannel = new CompletableFuture<>();

    @BeforeEach
    void setUp() throws Exception {
        group = transport.newEventLoopGroup(1, new DefaultThreadFactory("relay-shutdown", true));
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void tearDown() throws Exception {
        server.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    @Test
    void theFinFollowsTheBytesAndTheOtherDirectionStaysOpen() throws Exception {
        Channel ch = connect(true);
        try (Socket peer = server.accept()) {
            ch.writeAndFlush(Unpooled.copiedBuffer("request", StandardCharsets.US_ASCII));
            CompletableFuture<Boolean> passed = new CompletableFuture<>();
            ch.eventLoop().execute(() -> Relay.shutdownOutputAfterFlush(ch, passed::complete));

            assertThat(passed.get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(new String(peer.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("request");
            assertThat(((DuplexChannel) ch).isOutputShutdown()).isTrue();
            assertThat(((DuplexChannel) ch).isInputShutdown()).isFalse();
            peer.getOutputStream().write("reply".getBytes(StandardCharsets.US_ASCII));
            assertThat(readByChannel.get(10, TimeUnit.SECONDS)).isEqualTo("reply");
        } finally {
            ch.close().sync();
        }
    }

    @Test
    void aResetSocketSaysTheFinDidNotGoOut() throws Exception {
        Channel ch = connect(false); // not reading: Netty does not see the reset, the shutdown does
        try (Socket peer = server.accept()) {
            peer.setSoLinger(true, 0);
            peer.close(); // RST
            Thread.sleep(200); // loopback delivers it in microseconds
            CompletableFuture<Boolean> passed = new CompletableFuture<>();
            ch.eventLoop().execute(() -> passed.complete(Relay.shutdownOutput(ch)));

            assertThat(passed.get(10, TimeUnit.SECONDS)).isFalse();
        } finally {
            ch.close().sync();
        }
    }

    private Channel connect(boolean read) throws InterruptedException {
        return new Bootstrap().group(group)
                .channelFactory(() -> transport.newSocketChannel(false))
                .option(ChannelOption.AUTO_READ, read)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .handler(new SimpleChannelInboundHandler<ByteBuf>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
                        readByChannel.complete(msg.toString(StandardCharsets.US_ASCII));
                    }
                })
                .connect(server.getLocalSocketAddress()).sync().channel();
    }
}
