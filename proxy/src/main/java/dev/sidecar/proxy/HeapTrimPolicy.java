package dev.sidecar.proxy;

/**
 * Decides, from one look at the heap per interval, when a full collection would give memory back
 * after a burst of connections. Pure: {@link HeapTrimmer} feeds it samples and runs the collection.
 *
 * <p>The proxy's heap grows with the number of open connections (their channels and pipelines),
 * and with the serial collector, objects of connections that lived through a few young collections
 * end up in the old generation, which is only collected when it fills. An idle proxy allocates
 * almost nothing, so after a burst the dead connections would stay committed and resident for good.
 * A collection is worth it when both hold:
 * <ul>
 *   <li>the heap grew: committed is at least {@code growthBytes} above where it was after the last
 *       trim (or at start-up, or after the collector shrank it by itself), so there is something to
 *       give back;
 *   <li>the burst is over: the old generation changed by less than {@code quietBytes} since the
 *       previous sample, so nothing is being promoted and a collection now will not have to be
 *       repeated a moment later.
 * </ul>
 * During sustained load the old generation keeps changing and nothing is done (the collector's
 * own full collections happen as before); once the load stops, the next two samples trim.
 */
final class HeapTrimPolicy {
    /** One look at the heap: bytes committed, and bytes used in the old generation. */
    record Sample(long committed, long oldUsed) {
    }

    private final long growthBytes;
    private final long quietBytes;
    private long baseline;
    private Sample previous;

    /** @param start the heap right after start-up, the first baseline */
    HeapTrimPolicy(Sample start, long growthBytes, long quietBytes) {
        if (growthBytes <= 0 || quietBytes <= 0) {
            throw new IllegalArgumentException("growth and quiet bytes must be positive");
        }
        this.growthBytes = growthBytes;
        this.quietBytes = quietBytes;
        this.baseline = start.committed();
        this.previous = start;
    }

    /** Whether to collect now, given this interval's sample. */
    boolean shouldTrim(Sample now) {
        // A heap the collector shrank by itself is the new floor to measure growth from.
        baseline = Math.min(baseline, now.committed());
        boolean grown = now.committed() - baseline >= growthBytes;
        boolean quiet = Math.abs(now.oldUsed() - previous.oldUsed()) < quietBytes;
        previous = now;
        return grown && quiet;
    }

    /**
     * After a collection: what is committed now is the new baseline, so a heap that stays large
     * (because its connections are still open) is not collected again until it grows further.
     */
    void trimmed(Sample after) {
        baseline = after.committed();
        previous = after;
    }
}
