package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.RedirectInstaller;
import dev.sidecar.testkit.RecordingIptablesBackend;
import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs the {@code sidecar} command line in-process with captured output and a recording backend. */
final class Cli {
    final RecordingIptablesBackend backend = new RecordingIptablesBackend();
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();
    int installersMade;

    int run(String... args) {
        CommandLine cl = SidecarCommand.commandLine(b -> {
            installersMade++;
            return new RedirectInstaller(backend);
        });
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    String out() {
        return out.toString();
    }

    String firstErrLine() {
        return err.toString().lines().findFirst().orElse("");
    }
}
