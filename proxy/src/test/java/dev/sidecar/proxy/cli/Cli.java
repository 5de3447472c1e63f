package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.RedirectInstaller;
import dev.sidecar.testkit.RecordingIpRoutes;
import dev.sidecar.testkit.RecordingIptablesBackend;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Runs the {@code sidecar} command line in-process with captured output and a recording backend.
 * {@link #environment} stands in for the process environment: an entry there reaches the option
 * whose declaration reads that variable ({@link Env#of}) as its default, as {@code ${env:...}} would.
 */
final class Cli {
    final RecordingIptablesBackend backend = new RecordingIptablesBackend();
    final RecordingIpRoutes routes = new RecordingIpRoutes();
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();
    final Map<String, String> environment = new HashMap<>();
    private final boolean stopRunBeforeStart;
    int installersMade;

    Cli() {
        this(false);
    }

    private Cli(boolean stopRunBeforeStart) {
        this.stopRunBeforeStart = stopRunBeforeStart;
    }

    /**
     * A Cli whose {@code run} stops where it asks for its installer, after every check of its
     * options and before anything binds, installs or drops privileges: it then fails with
     * {@link RunWouldStart}, exit 1. Needs {@code --no-iptables} false.
     */
    static Cli stoppingRunBeforeStart() {
        return new Cli(true);
    }

    /** Thrown where {@code run} would start the sidecar; see {@link #stoppingRunBeforeStart()}. */
    static final class RunWouldStart extends RuntimeException {
        RunWouldStart() {
            super("run would start here", null, false, false);
        }
    }

    int run(String... args) {
        CommandLine cl = SidecarCommand.commandLine(b -> {
            installersMade++;
            if (stopRunBeforeStart) {
                throw new RunWouldStart();
            }
            return new RedirectInstaller(backend, routes);
        }, args);
        cl.setDefaultValueProvider(option -> option instanceof OptionSpec o
                ? Env.of(o).map(environment::get).orElse(null) : null);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    String out() {
        return out.toString();
    }

    /** Every line written to stderr (log lines go to the real stderr, not here). */
    List<String> errLines() {
        return err.toString().lines().toList();
    }

    String firstErrLine() {
        return err.toString().lines().findFirst().orElse("");
    }
}
