package dev.sidecar.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sidecar.proxy.transport.TransportChoice.Request;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The transport decision on this machine's real kernel (io_uring may or may not be allowed here). */
@Timeout(30)
class TransportChoiceTest {
    // Loaded before any test touches Netty's io_uring classes, as in the sidecar.
    private static final Transport[] TRANSPORTS = Transport.values();

    @Test
    void ioUringWaitsForDataWithOneShotPollsWhichAnswerWhileDataIsThere() {
        assertThat(TRANSPORTS).contains(Transport.IO_URING);
        assertThat(IoUring.isPollAddMultishotEnabled()).isFalse();
    }

    @Test
    void epollWorksOnEveryLinuxKernelAndIsTakenWhenAskedFor() {
        TransportChoice choice = TransportChoice.choose(Request.EPOLL);

        assertThat(choice.transport()).isEqualTo(Transport.EPOLL);
        assertThat(choice.reason()).isEqualTo("requested (--transport epoll)");
    }

    @Test
    void autoTakesIoUringExactlyWhenARealRingCarriesAConnection() {
        String problem = TransportChoice.problem(Transport.IO_URING);
        TransportChoice choice = TransportChoice.choose(Request.AUTO);

        if (problem == null) {
            assertThat(choice).isEqualTo(new TransportChoice(Transport.IO_URING, "auto: io_uring works here"));
        } else {
            assertThat(choice).isEqualTo(new TransportChoice(Transport.EPOLL, "auto: io_uring unusable (" + problem + ")"));
        }
    }

    @Test
    void theIoUringProbePassesWhereNettyCanCreateARing() {
        assumeTrue(IoUring.isAvailable(), "io_uring blocked here: " + IoUring.unavailabilityCause());

        assertThat(TransportChoice.problem(Transport.IO_URING)).isNull();
        assertThat(TransportChoice.choose(Request.IO_URING).transport()).isEqualTo(Transport.IO_URING);
    }

    @Test
    void anExplicitIoUringThatCannotWorkIsRefusedWithTheReason() {
        assumeTrue(!IoUring.isAvailable(), "io_uring works here; TransportIT proves the refusal under a seccomp filter");

        assertThatThrownBy(() -> TransportChoice.choose(Request.IO_URING))
                .isInstanceOf(TransportUnavailableException.class)
                .hasMessageStartingWith("the io_uring transport is unavailable here (--transport io_uring): ");
    }

    @Test
    void requestsAreSpelledAsOnTheCommandLine() {
        assertThat(Request.parse("auto")).isEqualTo(Request.AUTO);
        assertThat(Request.parse("io_uring")).isEqualTo(Request.IO_URING);
        assertThat(Request.parse("epoll")).isEqualTo(Request.EPOLL);
        assertThatThrownBy(() -> Request.parse("uring"))
                .hasMessage("'uring' is not a transport; use auto, io_uring or epoll");
    }
}
