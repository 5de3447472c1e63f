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
 * A small request and its answer through the relay in process over loopback: 64 bytes to an echo
 * target and the same 64 bytes back, one at a time on one persistent connection; against the same
 * exchange without the relay ({@code path=direct}). Sample mode, so JMH reports p50/p99 as well.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseSerialGC", "-Xmx128m", "-XX:MaxDirectMemorySize=128m"})
@State(Scope.Benchmark)
public class RelayRoundTripBenchmark {
    static final int MESSAGE_BYTES = 64;

    /** {@code relay}: through the proxy's relay; {@code direct}: straight to the target. */
    @Param({"direct", "relay"})
    public String path;

    private TargetServer target;
    private ClientPath client;
    private InputStream in;
    private OutputStream out;
    private final byte[] message = new byte[MESSAGE_BYTES];

    @Setup
    public void setUp() throws IOException {
        target = TargetServer.start(TargetServer.Kind.ECHO, MESSAGE_BYTES);
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

    @Benchmark
    public byte roundTrip64() throws IOException {
        out.write(message);
        Streams.readFully(in, message, MESSAGE_BYTES);
        return message[0];
    }
}
