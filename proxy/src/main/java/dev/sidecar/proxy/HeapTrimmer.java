package dev.sidecar.proxy;

import dev.sidecar.proxy.os.NativeHeap;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives memory back after a burst of connections: once per interval it looks at the heap (two
 * counters) and the number of open connections, and, when {@link HeapTrimPolicy} says a burst is over and
 * left the heap grown, empties the event loops' buffer caches, runs one full collection and trims
 * glibc's heap. With the launcher's flags ({@code -XX:-ShrinkHeapInSteps -XX:MaxHeapFreeRatio=40})
 * the collector uncommits what it freed at once; the caches and {@link NativeHeap#trim()} give back
 * the direct buffers' memory that the burst left on malloc's free lists (several MiB after 8,000
 * connections, more when a loaded machine let more bytes wait in the proxy). So the resident size
 * comes back to near where it was before the burst.
 *
 * <p>It runs on its own daemon thread, never on an event loop, and costs nothing per connection.
 * The collection stops the world for as long as a full collection of the live heap takes (a few
 * tens of milliseconds for a proxy with nothing open), at most once per interval and only after the
 * heap grew by {@link #GROWTH_BYTES}; under sustained load it does nothing.
 *
 * <p>{@code -Dsidecar.heapTrimSeconds=N} sets the interval (default 5); 0 turns it off.
 */
final class HeapTrimmer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HeapTrimmer.class);

    static final String INTERVAL_PROPERTY = "sidecar.heapTrimSeconds";
    private static final int DEFAULT_INTERVAL_SECONDS = 5;
    // Half of the 16 MiB the proxy may keep after a burst: smaller growth is not worth a pause.
    static final long GROWTH_BYTES = 8L << 20;
    // Idle traffic (probes, scrapes) promotes a few KiB per interval; a burst promotes megabytes.
    private static final long QUIET_BYTES = 1L << 20;
    private static final long MIB = 1L << 20;

    private final ScheduledExecutorService timer;

    private HeapTrimmer(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    /**
     * Starts trimming at the interval of {@value #INTERVAL_PROPERTY}, or does nothing (empty) when it
     * is 0 or the collector has no old generation to watch.
     */
    static Optional<HeapTrimmer> startFromProperties(IntSupplier openConnections, Runnable releaseBufferCaches) {
        String value = System.getProperty(INTERVAL_PROPERTY, Integer.toString(DEFAULT_INTERVAL_SECONDS)).trim();
        int seconds;
        try {
            seconds = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            seconds = -1;
        }
        if (seconds < 0 || seconds > 3600) {
            log.warn("-D{}={} is not a number of seconds from 0 to 3600; using {}", INTERVAL_PROPERTY, value,
                    DEFAULT_INTERVAL_SECONDS);
            seconds = DEFAULT_INTERVAL_SECONDS;
        }
        if (seconds == 0) {
            log.info("heap trimming off (-D{}=0)", INTERVAL_PROPERTY);
            return Optional.empty();
        }
        Optional<MemoryPoolMXBean> old = oldGeneration();
        if (old.isEmpty()) {
            log.info("heap trimming off: this collector has no old generation to watch");
            return Optional.empty();
        }
        return Optional.of(start(seconds, new Heap(ManagementFactory.getMemoryMXBean(), old.get(), openConnections),
                releaseBufferCaches));
    }

    /** Where the samples come from. */
    private record Heap(MemoryMXBean memory, MemoryPoolMXBean old, IntSupplier openConnections) {
        HeapTrimPolicy.Sample sample() {
            return new HeapTrimPolicy.Sample(memory.getHeapMemoryUsage().getCommitted(), old.getUsage().getUsed(),
                    openConnections.getAsInt());
        }
    }

    private static HeapTrimmer start(int seconds, Heap heap, Runnable releaseBufferCaches) {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "heap-trimmer");
            t.setDaemon(true);
            return t;
        });
        HeapTrimPolicy policy = new HeapTrimPolicy(heap.sample(), GROWTH_BYTES, QUIET_BYTES);
        timer.scheduleWithFixedDelay(() -> tick(policy, heap, releaseBufferCaches), seconds, seconds, TimeUnit.SECONDS);
        return new HeapTrimmer(timer);
    }

    private static void tick(HeapTrimPolicy policy, Heap heap, Runnable releaseBufferCaches) {
        try {
            HeapTrimPolicy.Sample before = heap.sample();
            if (!policy.shouldTrim(before)) {
                return;
            }
            long t0 = System.nanoTime();
            releaseBufferCaches.run(); // before the collection: what the caches held is then free
            System.gc(); // with the serial collector: one full, stop-the-world collection
            boolean nativeTrimmed = NativeHeap.trim();
            long millis = (System.nanoTime() - t0) / 1_000_000;
            HeapTrimPolicy.Sample after = heap.sample();
            policy.trimmed(after);
            log.info("heap trimmed after a burst: committed {} MiB -> {} MiB ({} MiB live, {} connections open), "
                    + "buffer caches emptied, native heap {}; took {} ms", before.committed() / MIB,
                    after.committed() / MIB, after.oldUsed() / MIB, after.openConnections(),
                    nativeTrimmed ? "trimmed" : "had nothing to give back", millis);
        } catch (RuntimeException e) {
            // A failed look must not end the schedule (an exception would cancel it silently).
            log.debug("heap trim skipped", e);
        }
    }

    /** The heap pool that holds long-lived objects: "Tenured Gen" (serial), "G1 Old Gen", "PS Old Gen". */
    private static Optional<MemoryPoolMXBean> oldGeneration() {
        return ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP)
                .filter(p -> p.getName().contains("Old") || p.getName().contains("Tenured"))
                .findFirst();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
