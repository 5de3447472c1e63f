package dev.sidecar.proxy.admin;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs the graceful-shutdown hook for {@code POST /shutdown}: at most once, and on a thread of its
 * own, because the hook typically closes the admin server, whose event loop must not wait on
 * itself.
 */
final class ShutdownTrigger {

    private final boolean enabled;
    private final Runnable hook;
    private final AtomicBoolean fired = new AtomicBoolean();

    ShutdownTrigger(boolean enabled, Runnable hook) {
        this.enabled = enabled;
        this.hook = hook;
    }

    /** Whether {@code --shutdown-endpoint} turned the endpoint on. */
    boolean enabled() {
        return enabled;
    }

    /** Starts the hook; false if it was already started, in which case nothing happens. */
    boolean fire() {
        if (!enabled || !fired.compareAndSet(false, true)) {
            return false;
        }
        Thread thread = new Thread(hook, "sidecar-admin-shutdown");
        thread.start();
        return true;
    }
}
