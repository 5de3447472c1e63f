package dev.sidecar.proxy.admin;

import java.util.EnumSet;
import java.util.Set;

/**
 * The start-up steps that must all have succeeded before {@code /ready} answers 200. The startup
 * sequence marks each step; the admin server only reads. Thread-safe.
 */
public final class Readiness {

    /** One start-up step, in the order the sidecar performs them. */
    public enum Step {
        RULES_INSTALLED("iptables rules not installed yet"),
        LISTENERS_BOUND("listeners not accepting yet"),
        PRIVILEGES_DROPPED("privileges not dropped yet"),
        SELF_TEST_PASSED("redirect self-test has not passed yet");

        private final String pending;

        Step(String pending) {
            this.pending = pending;
        }

        /** What {@code /ready} says while this step is missing. */
        public String pending() {
            return pending;
        }
    }

    private final Set<Step> done = EnumSet.noneOf(Step.class);
    private volatile String failure;

    /** Records that a step succeeded (idempotent). */
    public synchronized void mark(Step step) {
        done.add(step);
    }

    /** Records a failure that keeps the sidecar unready, e.g. a failed self-test. */
    public void fail(String reason) {
        this.failure = reason;
    }

    /** Null when ready; otherwise the reason {@code /ready} gives with its 503. */
    public synchronized String notReadyReason() {
        if (failure != null) {
            return failure;
        }
        for (Step step : Step.values()) {
            if (!done.contains(step)) {
                return step.pending();
            }
        }
        return null;
    }
}
