package dev.sidecar.proxy.admin;

import java.util.EnumSet;
import java.util.Set;

/**
 * The start-up steps that must all have succeeded before {@code /ready} answers 200. The startup
 * sequence marks each step; the admin server only reads. Thread-safe.
 */
public final class Readiness {

    /**
     * One start-up step that readiness waits for, in the order the sidecar performs them (binding
     * the listeners comes first, but a failure there ends the process instead).
     */
    public enum Step {
        /** The redirect rules are in place (or were installed by someone else: {@code --no-iptables}). */
        RULES_INSTALLED("iptables rules not installed yet"),
        /** The process runs as the proxy's uid and gid with no capabilities, on every thread. */
        PRIVILEGES_DROPPED("privileges not dropped yet"),
        /** The listeners take connections from their backlog. */
        ACCEPTING("listeners not accepting yet"),
        /** The self-test's probe was redirected to the outbound listener with the right original destination. */
        REDIRECT_PROVEN("redirect self-test has not passed yet");

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
    private volatile String rulesDrift;

    /** Records that a step succeeded (idempotent). */
    public synchronized void mark(Step step) {
        done.add(step);
    }

    /** Records a failure that keeps the sidecar unready, e.g. a failed self-test. */
    public void fail(String reason) {
        this.failure = reason;
    }

    /**
     * Records that the rules differ from the plan now (the rules watch saw it); keeps {@code /ready}
     * at 503 with {@code reason} until {@link #rulesInPlace}.
     */
    public void rulesDrifted(String reason) {
        this.rulesDrift = reason;
    }

    /** Records that the rules match the plan again. */
    public void rulesInPlace() {
        this.rulesDrift = null;
    }

    /** Null when ready; otherwise the reason {@code /ready} gives with its 503. */
    public synchronized String notReadyReason() {
        if (failure != null) {
            return failure;
        }
        String drift = rulesDrift;
        if (drift != null) {
            return drift;
        }
        for (Step step : Step.values()) {
            if (!done.contains(step)) {
                return step.pending();
            }
        }
        return null;
    }
}
