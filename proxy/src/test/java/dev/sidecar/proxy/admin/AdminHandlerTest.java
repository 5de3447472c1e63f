package dev.sidecar.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateEvent;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The handler alone, through an {@link EmbeddedChannel} whose peer address the test chooses. */
class AdminHandlerTest {

    private final CountDownLatch hookRan = new CountDownLatch(1);
    private final AdminHandler handler = new AdminHandler(
            new Readiness(), new PrometheusRegistry(), new ShutdownTrigger(true, hookRan::countDown));

    /** An embedded channel that claims to be connected from {@code peer}. */
    private static final class PeerChannel extends EmbeddedChannel {
        private final SocketAddress peer;

        PeerChannel(SocketAddress peer, AdminHandler handler) {
            super(false, false);
            this.peer = peer;
            pipeline().addLast(handler);
            try {
                register(); // only now, so that remoteAddress0 sees the peer field set
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return peer;
        }
    }

    private static InetSocketAddress peer(String literal) throws UnknownHostException {
        return new InetSocketAddress(InetAddress.getByName(literal), 40000);
    }

    private FullHttpResponse exchange(String peer, HttpMethod method, String uri) throws UnknownHostException {
        PeerChannel channel = new PeerChannel(peer(peer), handler);
        try {
            channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri));
            FullHttpResponse response = channel.readOutbound();
            assertThat(response).isNotNull();
            return response;
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    private static String body(FullHttpResponse response) {
        try {
            return response.content().toString(StandardCharsets.UTF_8);
        } finally {
            response.release();
        }
    }

    @Test
    void shutdownFromANonLoopbackPeerIs403AndDoesNotShutDown() throws Exception {
        FullHttpResponse r = exchange("198.18.0.7", HttpMethod.POST, "/shutdown");

        assertThat(r.status().code()).isEqualTo(403);
        assertThat(body(r)).isEqualTo("shutdown is only allowed from loopback\n");
        assertThat(hookRan.await(200, TimeUnit.MILLISECONDS)).isFalse();
    }

    @Test
    void shutdownFromIpv6LoopbackIsAccepted() throws Exception {
        FullHttpResponse r = exchange("::1", HttpMethod.POST, "/shutdown");

        assertThat(r.status().code()).isEqualTo(202);
        body(r);
        assertThat(hookRan.await(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void shutdownFromIpv4MappedLoopbackIsAccepted() throws Exception {
        FullHttpResponse r = exchange("::ffff:127.0.0.1", HttpMethod.POST, "/shutdown");

        assertThat(r.status().code()).isEqualTo(202);
        body(r);
        assertThat(hookRan.await(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void requestThatFailedToDecodeIs400AndClosesTheConnection() throws Exception {
        PeerChannel channel = new PeerChannel(peer("127.0.0.1"), handler);
        FullHttpRequest bad = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/bad-request");
        bad.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("invalid version")));

        channel.writeInbound(bad);
        FullHttpResponse r = channel.readOutbound();

        assertThat(r.status().code()).isEqualTo(400);
        assertThat(body(r)).isEqualTo("bad request\n");
        assertThat(channel.isOpen()).isFalse();
        channel.finishAndReleaseAll();
    }

    @Test
    void failingScrapeIs500AndKeepsTheConnection() throws Exception {
        PrometheusRegistry broken = new PrometheusRegistry();
        Collector exploding = () -> {
            throw new IllegalStateException("collector exploded");
        };
        broken.register(exploding);
        AdminHandler brokenHandler = new AdminHandler(new Readiness(), broken, new ShutdownTrigger(false, () -> {}));
        PeerChannel channel = new PeerChannel(peer("127.0.0.1"), brokenHandler);

        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/metrics"));
        FullHttpResponse r = channel.readOutbound();

        assertThat(r.status().code()).isEqualTo(500);
        assertThat(body(r)).isEqualTo("metrics unavailable\n");
        assertThat(channel.isOpen()).isTrue();
        channel.finishAndReleaseAll();
    }

    @Test
    void idleEventClosesTheConnection() throws Exception {
        PeerChannel channel = new PeerChannel(peer("127.0.0.1"), handler);

        channel.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);

        assertThat(channel.isOpen()).isFalse();
        channel.finishAndReleaseAll();
    }

    @Test
    void liveKeepsAnHttp11ConnectionOpen() throws Exception {
        PeerChannel channel = new PeerChannel(peer("127.0.0.1"), handler);

        channel.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/live"));
        FullHttpResponse r = channel.readOutbound();

        assertThat(r.status().code()).isEqualTo(200);
        assertThat(body(r)).isEqualTo("live\n");
        assertThat(channel.isOpen()).isTrue();
        channel.finishAndReleaseAll();
    }
}
