package dev.sidecar.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
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
public class RelayThroughputBenchmark {
    static final int MIB = 1 << 20;

    /** {@code relay}: through the proxy's relay; {@code direct}: straight to the target. */
    @Param({"direct", "relay"})
    public String path;

    private TargetServer target;
    private ClientPath client;
    private InputStream in;
    private OutputStream out;
    private final byte[] block = new byte[MIB];

    @Setup
    public void setUp() throws IOException {
        target = TargetServer.start(TargetServer.Kind.BULK, MIB);
        client = ClientPath.open(path, target.address());
        in = client.in;
        out = client.out;
    }

    @TearDown
    public void tearDown() throws IOException {
        try {
            client.close();
        } finally {
            target.close();
        }
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
