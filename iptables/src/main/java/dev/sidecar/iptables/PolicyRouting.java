package dev.sidecar.iptables;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds, removes and checks the {@link RouteStep}s of a plan through {@link IpRoutes}. Idempotent:
 * each step is added only when {@code ip ... show} does not list it yet, and removed as often as it
 * is listed. {@link #add} returns what it added, so a failed install can take exactly that back.
 */
final class PolicyRouting {
    private static final Logger log = LoggerFactory.getLogger(PolicyRouting.class);
    /** More copies than this of one rule are not ours to chase: someone keeps adding them. */
    private static final int MAX_COPIES = 16;

    private final IpRoutes ip;

    PolicyRouting(IpRoutes ip) {
        this.ip = ip;
    }

    /**
     * Adds each missing step, in order; the steps added so far are deleted again when one fails.
     *
     * @return the steps that were added (those already present are not)
     */
    List<RouteStep> add(List<RouteStep> steps) {
        List<RouteStep> added = new ArrayList<>();
        try {
            for (RouteStep step : steps) {
                if (count(step) == 0) {
                    log.info("{}: adding {}", step.family().label(), step.addLine());
                    ip.ip(step.add());
                    added.add(step);
                }
            }
        } catch (RuntimeException failure) {
            undo(added, failure);
            throw failure;
        }
        return added;
    }

    /** Deletes {@code added} in reverse order; a delete that fails is attached to {@code failure}. */
    void undo(List<RouteStep> added, RuntimeException failure) {
        for (int i = added.size() - 1; i >= 0; i--) {
            try {
                ip.ip(added.get(i).delete());
            } catch (RuntimeException undoFailure) {
                failure.addSuppressed(undoFailure);
            }
        }
    }

    /** Deletes every copy of every step, rule before route. Returns whether anything was deleted. */
    boolean remove(List<RouteStep> steps) {
        boolean removed = false;
        for (int i = steps.size() - 1; i >= 0; i--) {
            RouteStep step = steps.get(i);
            for (int n = Math.min(count(step), MAX_COPIES); n > 0; n--) {
                log.info("{}: deleting ip {}", step.family().label(), String.join(" ", step.delete()));
                ip.ip(step.delete());
                removed = true;
            }
        }
        return removed;
    }

    /** One line per step that is missing or duplicated; empty when the routing is exactly as planned. */
    List<String> problems(List<RouteStep> steps) {
        List<String> out = new ArrayList<>();
        for (RouteStep step : steps) {
            int n = count(step);
            if (n != 1) {
                out.add(step.family().label() + ": " + (n == 0 ? "missing: " : n + " copies of: ") + step.addLine());
            }
        }
        return out;
    }

    private int count(RouteStep step) {
        String shown;
        try {
            shown = ip.ip(step.show());
        } catch (IptablesCommandException e) {
            if (e.output().contains("does not exist")) {
                return 0; // "FIB table does not exist": nothing was ever added to it
            }
            throw e;
        }
        return step.countIn(shown);
    }
}
