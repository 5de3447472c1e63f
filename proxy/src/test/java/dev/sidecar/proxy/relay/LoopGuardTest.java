package dev.sidecar.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.proxy.relay.RelayEvents.Failure;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoopGuardTest {
    private final LoopGuard guard = new LoopGuard(List.of(4143, 4140));
    private final InetSocketAddress local = new InetSocketAddress("127.0.0.1", 4140);

    @Test
    void aRedirectedConnectionMayBeRelayed() {
        assertThat(guard.check(new InetSocketAddress("198.18.2.2", 8080), local)).isNull();
    }

    @Test
    void noOriginalDestinationIsRefused() {
        assertThat(guard.check(null, local)).isEqualTo(Failure.NO_ORIGINAL_DST);
    }

    @Test
    void aDirectConnectionToAListenerIsALoop() {
        assertThat(guard.check(new InetSocketAddress("127.0.0.1", 4140), local)).isEqualTo(Failure.LOOP);
        assertThat(guard.check(new InetSocketAddress("198.18.1.1", 4143), new InetSocketAddress("198.18.1.1", 4143)))
                .isEqualTo(Failure.LOOP);
    }

    @Test
    void anyTargetOnAListenerPortIsALoop() {
        assertThat(guard.check(new InetSocketAddress("198.18.2.2", 4143), local)).isEqualTo(Failure.LOOP);
    }

    @Test
    void aTargetEqualToTheAcceptedAddressWasNotRedirected() {
        InetSocketAddress self = new InetSocketAddress("198.18.1.1", 9000);
        assertThat(new LoopGuard(List.of(1)).check(self, self)).isEqualTo(Failure.NO_ORIGINAL_DST);
    }

    @Test
    void inTproxyModeWithoutALocalAddressToCompareTheListenerPortsStillLoop() {
        assertThat(guard.check(new InetSocketAddress("198.18.1.1", 8080), null)).isNull();
        assertThat(guard.check(new InetSocketAddress("198.18.1.1", 4143), null)).isEqualTo(Failure.LOOP);
        assertThat(guard.check(null, null)).isEqualTo(Failure.NO_ORIGINAL_DST);
    }
}
