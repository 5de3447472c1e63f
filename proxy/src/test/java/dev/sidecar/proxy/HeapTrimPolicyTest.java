package dev.sidecar.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HeapTrimPolicyTest {
    private static final long MIB = 1L << 20;
    private static final long GROWTH = 8 * MIB, QUIET = MIB;

    private static HeapTrimPolicy.Sample heap(long committedMib, long oldUsedMib) {
        return heap(committedMib, oldUsedMib, 0);
    }

    private static HeapTrimPolicy.Sample heap(long committedMib, long oldUsedMib, int open) {
        return new HeapTrimPolicy.Sample(committedMib * MIB, oldUsedMib * MIB, open);
    }

    private static HeapTrimPolicy startingAt(long committedMib, long oldUsedMib) {
        return new HeapTrimPolicy(heap(committedMib, oldUsedMib), GROWTH, QUIET);
    }

    @Test
    void aGrownHeapIsTrimmedOnceTheOldGenerationStopsChanging() {
        HeapTrimPolicy policy = startingAt(12, 6);

        assertThat(policy.shouldTrim(heap(30, 20))).as("mid-burst: the old generation still grows").isFalse();
        assertThat(policy.shouldTrim(heap(50, 34))).as("still growing").isFalse();
        assertThat(policy.shouldTrim(heap(50, 34))).as("the burst is over").isTrue();
    }

    @Test
    void anIdleHeapThatDidNotGrowIsLeftAlone() {
        HeapTrimPolicy policy = startingAt(12, 6);

        for (int i = 0; i < 10; i++) {
            assertThat(policy.shouldTrim(heap(12 + i % 2, 6))).isFalse();
        }
        assertThat(policy.shouldTrim(heap(19, 6))).as("7 MiB of growth is under the threshold").isFalse();
    }

    @Test
    void sustainedLoadThatKeepsPromotingIsLeftToTheCollector() {
        HeapTrimPolicy policy = startingAt(12, 6);

        for (long used = 8; used < 60; used += 2) {
            assertThat(policy.shouldTrim(heap(used + 10, used))).as("old generation at %d MiB", used).isFalse();
        }
    }

    @Test
    void smallChangesOfTheOldGenerationStillCountAsQuiet() {
        HeapTrimPolicy policy = startingAt(12, 6);
        policy.shouldTrim(heap(40, 30));

        // Probes and scrapes promote a little while idle: less than QUIET per interval.
        assertThat(policy.shouldTrim(new HeapTrimPolicy.Sample(40 * MIB, 31 * MIB - 1, 0))).isTrue();
    }

    @Test
    void aHeapStillLargeAfterATrimIsNotCollectedAgainUntilItGrowsFurther() {
        HeapTrimPolicy policy = startingAt(12, 6);
        policy.shouldTrim(heap(50, 34));
        assertThat(policy.shouldTrim(heap(50, 34))).isTrue();
        // Its connections are still open: the collection freed little.
        policy.trimmed(heap(48, 32));

        assertThat(policy.shouldTrim(heap(48, 32))).isFalse();
        assertThat(policy.shouldTrim(heap(55, 32))).as("7 MiB above the new baseline").isFalse();
        assertThat(policy.shouldTrim(heap(56, 32))).as("8 MiB above it, and quiet").isTrue();
    }

    @Test
    void aTrimDuringASlowBurstIsFollowedByAnotherOnceItsConnectionsClosed() {
        HeapTrimPolicy policy = startingAt(12, 6);
        policy.shouldTrim(heap(32, 20, 5000));
        assertThat(policy.shouldTrim(heap(32, 20, 5000))).as("a pause in a burst looks quiet").isTrue();
        policy.trimmed(heap(37, 20, 5000)); // everything was live: the heap even grew

        assertThat(policy.shouldTrim(heap(37, 25, 8000))).as("the burst goes on").isFalse();
        assertThat(policy.shouldTrim(heap(37, 25, 0))).as("its connections closed; the old generation cannot show it")
                .isTrue();
    }

    @Test
    void aTrimWhileTheBurstWasStillClosingIsFollowedByAnotherEvenBelowTheGrowthThreshold() {
        HeapTrimPolicy policy = startingAt(18, 8);
        policy.shouldTrim(heap(43, 30, 1679));
        assertThat(policy.shouldTrim(heap(43, 30, 1679))).isTrue();
        // Most of the burst had closed already: the heap came down to 6 MiB above its floor.
        policy.trimmed(heap(24, 14, 1679));

        assertThat(policy.shouldTrim(heap(24, 14, 0))).as("the last connections closed; their objects are garbage now")
                .isTrue();
        policy.trimmed(heap(19, 9, 0));
        assertThat(policy.shouldTrim(heap(19, 9, 0))).as("and not again").isFalse();
    }

    @Test
    void connectionsThatStayOpenAreNotCollectedAgainAndAgain() {
        HeapTrimPolicy policy = startingAt(12, 6);
        policy.shouldTrim(heap(50, 34, 9000));
        assertThat(policy.shouldTrim(heap(50, 34, 9000))).isTrue();
        policy.trimmed(heap(45, 30, 9000));

        for (int i = 0; i < 10; i++) {
            assertThat(policy.shouldTrim(heap(45, 30, 6000))).as("a third of them closed").isFalse();
        }
    }

    @Test
    void anIdleHeapThatStaysLargeAfterATrimIsCollectedOnlyOnce() {
        HeapTrimPolicy policy = startingAt(12, 6);
        policy.shouldTrim(heap(40, 30, 0));
        assertThat(policy.shouldTrim(heap(40, 30, 0))).isTrue();
        policy.trimmed(heap(30, 20, 0));

        for (int i = 0; i < 10; i++) {
            assertThat(policy.shouldTrim(heap(30, 20, 0))).isFalse();
        }
    }

    @Test
    void aHeapTheCollectorShrankItselfBecomesTheBaseline() {
        HeapTrimPolicy policy = startingAt(20, 10);
        policy.shouldTrim(heap(10, 5)); // a full collection of the JVM's own shrank it below the start

        assertThat(policy.shouldTrim(heap(18, 5))).as("8 MiB above the lower floor").isTrue();
    }

    @Test
    void thresholdsMustBePositive() {
        assertThatThrownBy(() -> new HeapTrimPolicy(heap(12, 6), 0, QUIET)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HeapTrimPolicy(heap(12, 6), GROWTH, -1)).isInstanceOf(IllegalArgumentException.class);
    }
}
