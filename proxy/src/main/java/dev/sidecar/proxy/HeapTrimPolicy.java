package dev.sidecar.proxy;

/**
 * Decides, from one look at the heap per interval, when a full collection would give memory back
 * after a burst of connections. Pure: {@link HeapTrimmer} feeds it samples and runs the collection.
 *
 * <p>The proxy's heap grows with the number of open connections (their channels and pipelines),
 * and with the serial collector, objects of connections that lived through a few young collections
 * end up in the old generation, which is only collected when it fills. An idle proxy allocates
 * almost nothing, so after a burst the dead connections would stay committed and resident for good.
 * A collection is worth it when all hold:
 * <ul>
 *   <li>the heap grew: committed is at least {@code growthBytes} above the smallest it has been
 *       (at start-up, or after the collector shrank it), so there is something to give back;
 *   <li>the burst is over: the old generation changed by less than {@code quietBytes} since the
 *       previous sample, so nothing is being promoted and a collection now will not have to be
 *       repeated a moment later;
 *   <li>it was not done for this already: after a trim, only once at most half of the connections
 *       open then are still open (a trim during a slow burst, or while the burst's connections
 *       were still closing, freed little; their objects become garbage only when they close, which
 *       the old generation's use does not show), then with anything above the floor to give back,
 *       or once the heap grew by {@code growthBytes} more.
 * </ul>
 * During sustained load the old generation keeps changing and nothing is done (the collector's
 * own full collections happen as before); once the load stops, the next two samples trim. A heap
 * that stays large because its connections stay open is collected once, not at every interval.
 */
final class HeapTrimPolicy {
    /** One look: bytes committed to the heap, bytes used in its old generation, open connections. */
    record Sample(long committed, long oldUsed, int openConnections) {
    }

    private final long growthBytes;
    private final long quietBytes;
    private long floor;
    private Sample previous;
    private Sample lastTrim; // null until the first trim

    /** @param start the heap right after start-up */
    HeapTrimPolicy(Sample start, long growthBytes, long quietBytes) {
        if (growthBytes <= 0 || quietBytes <= 0) {
            throw new IllegalArgumentException("growth and quiet bytes must be positive");
        }
        this.growthBytes = growthBytes;
        this.quietBytes = quietBytes;
        this.floor = start.committed();
        this.previous = start;
    }

    /** Whether to collect now, given this interval's sample. */
    boolean shouldTrim(Sample now) {
        floor = Math.min(floor, now.committed());
        long aboveFloor = now.committed() - floor;
        boolean quiet = Math.abs(now.oldUsed() - previous.oldUsed()) < quietBytes;
        previous = now;
        if (!quiet) {
            return false;
        }
        if (lastTrim == null) {
            return aboveFloor >= growthBytes;
        }
        // A trim while connections were still open (a slow burst, or one still closing) may leave
        // the heap less than growthBytes above its floor yet holding all their objects, garbage
        // only once they closed: collect once more when most of them are gone.
        boolean connectionsWentAway = now.openConnections() < lastTrim.openConnections()
                && now.openConnections() <= lastTrim.openConnections() / 2;
        boolean grewAgain = now.committed() - lastTrim.committed() >= growthBytes && aboveFloor >= growthBytes;
        return connectionsWentAway && aboveFloor >= quietBytes || grewAgain;
    }

    /** After a collection, with the heap as it left it. */
    void trimmed(Sample after) {
        lastTrim = after;
        previous = after;
    }
}
