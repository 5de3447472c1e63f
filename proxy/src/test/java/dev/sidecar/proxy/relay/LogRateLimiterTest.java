package dev.sidecar.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LogRateLimiterTest {
    private static final long SECOND = 1_000_000_000L;

    private final AtomicLong now = new AtomicLong(123 * SECOND);
    private final LogRateLimiter limiter = new LogRateLimiter(Duration.ofSeconds(10), now::get);

    @Test
    void theFirstLineOfAKeyIsWrittenWithNothingSuppressed() {
        assertThat(limiter.permit("refused")).isZero();
    }

    @Test
    void furtherLinesWithinTheIntervalAreSuppressed() {
        limiter.permit("refused");
        now.addAndGet(9 * SECOND);

        assertThat(limiter.permit("refused")).isEqualTo(LogRateLimiter.SUPPRESS);
        assertThat(limiter.permit("refused")).isEqualTo(LogRateLimiter.SUPPRESS);
    }

    @Test
    void theNextLineAfterTheIntervalCarriesTheSuppressedCount() {
        limiter.permit("refused");
        for (int i = 0; i < 299; i++) {
            limiter.permit("refused");
        }
        now.addAndGet(10 * SECOND);

        assertThat(limiter.permit("refused")).isEqualTo(299);
        assertThat(limiter.permit("refused")).as("a new interval starts with it").isEqualTo(LogRateLimiter.SUPPRESS);
        now.addAndGet(60 * SECOND);
        assertThat(limiter.permit("refused")).isEqualTo(1);
        now.addAndGet(60 * SECOND);
        assertThat(limiter.permit("refused")).as("a quiet interval owes nothing").isZero();
    }

    @Test
    void eachKeyHasItsOwnInterval() {
        limiter.permit("refused");

        assertThat(limiter.permit("timeout")).isZero();
        assertThat(limiter.permit("refused")).isEqualTo(LogRateLimiter.SUPPRESS);
        assertThat(limiter.permit("timeout")).isEqualTo(LogRateLimiter.SUPPRESS);
    }

    @Test
    void aClockThatWrapsAroundStillLimits() {
        now.set(Long.MAX_VALUE - SECOND);
        limiter.permit("refused");
        now.addAndGet(2 * SECOND); // overflows, as System.nanoTime may

        assertThat(limiter.permit("refused")).isEqualTo(LogRateLimiter.SUPPRESS);
        now.addAndGet(10 * SECOND);
        assertThat(limiter.permit("refused")).isEqualTo(1);
    }

    @Test
    void theSuffixSaysHowManyAndNothingForNone() {
        assertThat(LogRateLimiter.suffix(0, Duration.ofSeconds(10))).isEmpty();
        assertThat(LogRateLimiter.suffix(299, Duration.ofSeconds(10)))
                .isEqualTo(" (299 more like this since the last one, not logged; at most one line per 10s)");
    }

    @Test
    void aZeroIntervalIsRefused() {
        assertThatThrownBy(() -> new LogRateLimiter(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }
}
