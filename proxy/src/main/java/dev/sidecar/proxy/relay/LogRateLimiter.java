package dev.sidecar.proxy.relay;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.LongSupplier;

/**
 * Decides which of a stream of alike log lines are written: at most one per key (for the relay,
 * a failure reason and a direction) per interval. The lines in between are only counted, and that
 * count travels <em>with the next allowed line</em> for the same key ("... (41 more like this
 * since the last one, not logged)"). A burst that stops leaves its count untold in the log until the
 * next failure of that kind; metrics count every one, so nothing is lost to an operator.
 *
 * <p>Pure logic with an injectable clock. Event loops call it concurrently: one small lock per
 * key, taken once per failure, never per byte.
 *
 * <pre>{@code
 * long suppressed = limiter.permit(key);
 * if (suppressed >= 0) {
 *     log.warn("... {}", LogRateLimiter.suffix(suppressed, limiter.interval()));
 * }
 * }</pre>
 */
final class LogRateLimiter {
    /** Returned by {@link #permit} for a line that must not be written. */
    static final long SUPPRESS = -1;

    private final long intervalNanos;
    private final Duration interval;
    private final LongSupplier nanoClock;
    private final ConcurrentMap<Object, Window> windows = new ConcurrentHashMap<>();

    /** A limiter on {@link System#nanoTime}. */
    LogRateLimiter(Duration interval) {
        this(interval, System::nanoTime);
    }

    /** @param nanoClock monotonic nanoseconds, as {@link System#nanoTime} */
    LogRateLimiter(Duration interval, LongSupplier nanoClock) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive: " + interval);
        }
        this.interval = interval;
        this.intervalNanos = interval.toNanos();
        this.nanoClock = nanoClock;
    }

    Duration interval() {
        return interval;
    }

    /**
     * One more line for {@code key}: {@link #SUPPRESS} if it must not be written, else how many
     * lines for that key were suppressed since the last one written (0 for the first, or after a
     * quiet interval).
     */
    long permit(Object key) {
        Window w = windows.computeIfAbsent(key, k -> new Window());
        long now = nanoClock.getAsLong();
        synchronized (w) {
            if (w.written && now - w.lastWritten < intervalNanos) {
                w.suppressed++;
                return SUPPRESS;
            }
            long told = w.suppressed;
            w.written = true;
            w.lastWritten = now;
            w.suppressed = 0;
            return told;
        }
    }

    /** Text to append to an allowed line that carries a count of suppressed ones; empty for 0. */
    static String suffix(long suppressed, Duration interval) {
        return suppressed <= 0 ? "" : " (" + suppressed + " more like this since the last one, not logged;"
                + " at most one line per " + interval.toSeconds() + "s)";
    }

    /** The state of one key. Guarded by its own monitor. */
    private static final class Window {
        boolean written;
        long lastWritten;
        long suppressed;
    }
}
