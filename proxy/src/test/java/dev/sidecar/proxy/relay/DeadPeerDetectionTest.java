package dev.sidecar.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The arithmetic of {@link DeadPeerDetection}; DeadPeerIT proves the kernel does it. */
class DeadPeerDetectionTest {

    private static final Duration PROMISE = Duration.ofSeconds(30);

    @Test
    void defaultsFindAVanishedPeerWithinThirtySecondsIdleOrBusy() {
        DeadPeerDetection d = DeadPeerDetection.defaults();

        assertThat(d.keepaliveIdle()).isEqualTo(Duration.ofSeconds(10));
        assertThat(d.idleDetection()).isEqualTo(Duration.ofSeconds(20)).isLessThanOrEqualTo(PROMISE);
        assertThat(d.busyDetection()).isEqualTo(Duration.ofSeconds(20)).isLessThanOrEqualTo(PROMISE);
    }

    @Test
    void defaultsWithTheUserTimeoutOffStillFindAnIdlePeerWithinThirtySeconds() {
        DeadPeerDetection d = new DeadPeerDetection(Duration.ofSeconds(10), Duration.ZERO);

        // 10 s of silence, then three probes 5 s apart go unanswered.
        assertThat(d.idleDetection()).isEqualTo(Duration.ofSeconds(25)).isLessThanOrEqualTo(PROMISE);
        assertThat(d.busyDetection()).as("only the kernel's retransmission limit").isNull();
    }

    @Test
    void defaultsSetThreeOptionsPerSocket() {
        assertThat(DeadPeerDetection.defaults().socketOptions()).containsExactly(
                org.assertj.core.api.Assertions.entry(DeadPeerDetection.TCP_KEEPIDLE, 10),
                org.assertj.core.api.Assertions.entry(DeadPeerDetection.TCP_KEEPINTVL, 5),
                org.assertj.core.api.Assertions.entry(DeadPeerDetection.TCP_USER_TIMEOUT, 20_000));
    }

    @Test
    void probeCountIsSetOnlyWithoutAUserTimeoutWhichOverridesIt() {
        assertThat(new DeadPeerDetection(Duration.ofSeconds(10), Duration.ZERO).socketOptions())
                .containsEntry(DeadPeerDetection.TCP_KEEPCNT, 3)
                .doesNotContainKey(DeadPeerDetection.TCP_USER_TIMEOUT)
                .hasSize(3);
    }

    @Test
    void idleDetectionEndsAtTheFirstProbeAfterTheUserTimeout() {
        // Probes at 1 s, 2 s, 3 s; the kernel gives up at the first one at or after 3 s.
        assertThat(new DeadPeerDetection(Duration.ofSeconds(1), Duration.ofSeconds(3)).idleDetection())
                .isEqualTo(Duration.ofSeconds(3));
        // A user timeout shorter than the idle time still waits for one probe.
        assertThat(new DeadPeerDetection(Duration.ofSeconds(10), Duration.ofSeconds(5)).idleDetection())
                .isEqualTo(Duration.ofSeconds(15));
    }

    @Test
    void probeIntervalIsHalfTheIdleTimeAndAtLeastOneSecond() {
        assertThat(new DeadPeerDetection(Duration.ofSeconds(60), Duration.ZERO).keepaliveIntervalSeconds()).isEqualTo(30);
        assertThat(new DeadPeerDetection(Duration.ofSeconds(1), Duration.ZERO).keepaliveIntervalSeconds()).isEqualTo(1);
    }

    @Test
    void keepaliveMustBeWholeSecondsWithinTheKernelLimit() {
        assertThatThrownBy(() -> new DeadPeerDetection(Duration.ofMillis(1500), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DeadPeerDetection(Duration.ofSeconds(32768), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DeadPeerDetection(Duration.ZERO, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
