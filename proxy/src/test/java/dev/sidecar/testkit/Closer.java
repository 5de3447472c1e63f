package dev.sidecar.testkit;

/** Test teardown in one line: what a test set up, closed in order, each whatever the others did. */
public final class Closer {
    private Closer() {}

    /**
     * Closes every non-null resource in the order given (the sidecar before its peers, the lab
     * with its namespaces last); the first failure is rethrown once all were tried, later ones
     * are attached to it.
     */
    public static void closeAll(AutoCloseable... resources) throws Exception {
        Exception first = null;
        for (AutoCloseable r : resources) {
            if (r == null) {
                continue;
            }
            try {
                r.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
