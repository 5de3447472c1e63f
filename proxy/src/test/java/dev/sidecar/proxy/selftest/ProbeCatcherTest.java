package dev.sidecar.proxy.selftest;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProbeCatcherTest {
    private static final InetSocketAddress TARGET = new InetSocketAddress("198.18.2.2", 9);
    private final ProbeCatcher probes = new ProbeCatcher();
    private final List<InetSocketAddress> arrived = new ArrayList<>();

    @Test
    void nothingIsCaughtWhileNoProbeIsUnderWay() {
        assertThat(probes.catches(new InetSocketAddress("127.0.0.1", 40000), TARGET)).isFalse();
    }

    @Test
    void theExpectedProbeIsCaughtAndItsOriginalDestinationHandedOver() {
        probes.expect(40000, arrived::add);

        assertThat(probes.catches(new InetSocketAddress("127.0.0.1", 40000), TARGET)).isTrue();
        assertThat(arrived).containsExactly(TARGET);
    }

    @Test
    void anotherSourcePortIsRelayedAsUsual() {
        probes.expect(40000, arrived::add);

        assertThat(probes.catches(new InetSocketAddress("127.0.0.1", 40001), TARGET)).isFalse();
        assertThat(arrived).isEmpty();
    }

    @Test
    void aRemotePeerUsingTheProbesPortIsNotMistakenForIt() {
        probes.expect(40000, arrived::add);

        assertThat(probes.catches(new InetSocketAddress("198.18.1.2", 40000), TARGET)).isFalse();
        assertThat(arrived).isEmpty();
    }

    @Test
    void aClearedExpectationCatchesNothing() {
        probes.expect(40000, arrived::add);
        probes.clear();

        assertThat(probes.catches(new InetSocketAddress("127.0.0.1", 40000), TARGET)).isFalse();
    }
}
