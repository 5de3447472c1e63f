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
public class RelayRoundTripBenchmark extends RelayPathState {
    static final int MESSAGE_BYTES = 64;

    private final byte[] message = new byte[MESSAGE_BYTES];

    @Override
    TargetServer start() throws IOException {
        return TargetServer.start(TargetServer.Kind.ECHO, MESSAGE_BYTES);
    }

    @Benchmark
    public byte roundTrip64() throws IOException {
        out.write(message);
        Streams.readFully(in, message, MESSAGE_BYTES);
        return message[0];
    }
}
