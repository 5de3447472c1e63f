package dev.sidecar.bench;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Bulk throughput through the relay in process over loopback, against the same transfer without
 * it ({@code path=direct}). One operation moves one MiB, so the score in ops/s reads as MiB/s.
 * {@code upload} sends a MiB to the target and waits for its one-byte receipt (client to target,
 * the direction of an outbound request body); {@code download} asks for a MiB and reads it.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseSerialGC", "-Xmx128m", "-XX:MaxDirectMemorySize=128m"})
@State(Scope.Benchmark)
public class RelayThroughputBenchmark extends RelayPathState {
    static final int MIB = 1 << 20;

    private final byte[] block = new byte[MIB];

    @Override
    TargetServer start() throws IOException {
        return TargetServer.start(TargetServer.Kind.BULK, MIB);
    }

    /** One MiB from the client to the target. */
    @Benchmark
    public int upload() throws IOException {
        out.write(TargetServer.UPLOAD);
        out.write(block);
        return in.read();
    }

    /** One MiB from the target to the client. */
    @Benchmark
    public byte download() throws IOException {
        out.write(TargetServer.DOWNLOAD);
        Streams.readFully(in, block, MIB);
        return block[MIB - 1];
    }
}
