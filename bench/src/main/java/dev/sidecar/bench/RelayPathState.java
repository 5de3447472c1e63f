package dev.sidecar.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What the relay benchmarks share: a target server of one kind and one persistent client
 * connection to it, either through the relay in process or straight to the target.
 */
@State(Scope.Benchmark)
public abstract class RelayPathState {
    /**
     * {@code relay}: through the proxy's relay; {@code direct}: straight to the target;
     * {@code relay-uncounted} (ask for it with {@code -p path=...}): the relay without metrics.
     */
    @Param({"direct", "relay"})
    public String path;

    private TargetServer target;
    private ClientPath client;
    InputStream in;
    OutputStream out;

    /** Starts the target this benchmark talks to. */
    abstract TargetServer start() throws IOException;

    @Setup
    public void setUp() throws IOException {
        target = start();
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
}
