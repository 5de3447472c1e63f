package dev.sidecar.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.proxy.net.LocalAddresses;
import dev.sidecar.proxy.relay.RelayEvents.Direction;
import dev.sidecar.proxy.selftest.ProbeCatcher;
import dev.sidecar.proxy.transport.Transport;
import dev.sidecar.testkit.LeakCheckExtension;
import dev.sidecar.testkit.RecordingRelayEvents;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The refusal paths, which decide before any upstream socket exists, on an {@code EmbeddedChannel}. */
@ExtendWith(LeakCheckExtension.class)
class FrontendHandlerTest {
    private static final InetSocketAddress LISTENER = new InetSocketAddress("127.0.0.1", 4140);
    private final RecordingRelayEvents events = new RecordingRelayEvents();
    private int readsRequested;

    @Test
    void aConnectionToTheListenerItselfIsClosedAndCountedAsALoop() {
        EmbeddedChannel ch = accept(accepted -> LISTENER);

        assertThat(ch.isOpen()).isFalse();
        assertThat(events.events()).containsExactly("failed outbound loop");
    }

    @Test
    void aConnectionWithoutOriginalDestinationIsClosedAndCounted() {
        EmbeddedChannel ch = accept(accepted -> null);

        assertThat(ch.isOpen()).isFalse();
        assertThat(events.events()).containsExactly("failed outbound no_original_dst");
    }

    @Test
    void aFailedLookupIsTreatedAsNotRedirected() {
        EmbeddedChannel ch = accept(accepted -> {
            throw new IOException("getsockopt failed");
        });

        assertThat(ch.isOpen()).isFalse();
        assertThat(events.events()).containsExactly("failed outbound no_original_dst");
    }

    @Test
    void anInboundConnectionToAnAddressThatIsNotThePodsIsClosedAndCountedAsNotLocal() {
        LocalAddresses pod = LocalAddresses.pinned(List.of(new InetSocketAddress("198.18.1.1", 0).getAddress()));
        EmbeddedChannel ch = accept(Direction.INBOUND, InboundDestinations.only(pod), accepted -> new InetSocketAddress("198.18.2.2", 8080));

        assertThat(ch.isOpen()).isFalse();
        assertThat(events.events()).containsExactly("failed inbound not_local");
    }

    @Test
    void theLoopCheckComesBeforeTheLocalAddressCheck() {
        LocalAddresses pod = LocalAddresses.pinned(List.of(new InetSocketAddress("198.18.1.1", 0).getAddress()));
        EmbeddedChannel ch = accept(Direction.INBOUND, InboundDestinations.only(pod), accepted -> new InetSocketAddress("198.18.2.2", 4143));

        assertThat(ch.isOpen()).isFalse();
        assertThat(events.events()).containsExactly("failed inbound loop");
    }

    @Test
    void refusedConnectionsNeverAskTheClientForBytes() {
        EmbeddedChannel ch = accept(accepted -> LISTENER);
        EmbeddedChannel unredirected = accept(accepted -> null);

        // A read request would pull the client's bytes into the proxy for nothing.
        assertThat(readsRequested).isZero();
        assertThat(ch.finish()).isFalse();
        assertThat(unredirected.finish()).isFalse();
    }

    private EmbeddedChannel accept(TargetResolver resolver) {
        return accept(Direction.OUTBOUND, InboundDestinations.ANY, resolver);
    }

    private EmbeddedChannel accept(Direction direction, InboundDestinations destinations, TargetResolver resolver) {
        RelaySocketOptions options = new RelaySocketOptions(RelaySettings.defaults());
        ListenerContext listener = new ListenerContext(direction, resolver,
                () -> new LoopGuard(List.of(4140, 4143)), new ProbeCatcher(), destinations, events,
                new UpstreamConnector(Transport.EPOLL, options, 1000, Map.of()));
        EmbeddedChannel ch = new EmbeddedChannel() {
            @Override
            protected SocketAddress localAddress0() {
                return LISTENER;
            }

            @Override
            protected SocketAddress remoteAddress0() {
                return new InetSocketAddress("127.0.0.1", 50000);
            }
        };
        ch.config().setAutoRead(false);
        ch.pipeline().addLast(new ChannelOutboundHandlerAdapter() {
            @Override
            public void read(ChannelHandlerContext ctx) {
                readsRequested++;
                ctx.read();
            }
        });
        ch.pipeline().addLast(new FrontendHandler(listener));
        ch.pipeline().fireChannelActive();
        ch.runPendingTasks();
        return ch;
    }
}
