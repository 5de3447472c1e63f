package dev.sidecar.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.iptables.Backend;
import dev.sidecar.iptables.RedirectInstaller;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** A start builds only the subcommand it runs, and nobody can tell from what it prints. */
class SidecarCommandTest {
    private static final Function<Backend, RedirectInstaller> NO_INSTALLER = b -> {
        throw new AssertionError("nothing here gets as far as installing");
    };

    @Test
    void argumentsThatStartWithASubcommandsNameBuildOnlyThatSubcommand() {
        assertThat(SidecarCommand.commandLine("run", "--no-iptables").getSubcommands()).containsOnlyKeys("run");
        assertThat(SidecarCommand.commandLine("iptables", "show").getSubcommands()).containsOnlyKeys("iptables");
        assertThat(SidecarCommand.commandLine("iptables", "show").getSubcommands().get("iptables").getSubcommands())
                .containsOnlyKeys("install", "remove", "show", "check");
    }

    @Test
    void anythingElseBuildsTheWholeTreeInHelpOrder() {
        for (String[] args : List.of(new String[0], new String[] {"--log-level", "debug", "run"}, new String[] {"rnu"},
                new String[] {"--help"}, new String[] {"Run"})) {
            assertThat(SidecarCommand.commandLine(args).getSubcommands().keySet()).as(String.join(" ", args))
                    .containsExactly("run", "iptables");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"run --help", "run --bogus", "run --inbound-port 99999", "run --no-ipv6=true",
            "iptables --help", "iptables show --help", "iptables install --bogus", "iptables rnu", "rnu", "--help", "",
            "--log-level debug run --help", "run --log-level loud"})
    void helpErrorsAndExitCodesAreTheWholeTreesOnes(String line) {
        String[] args = line.isEmpty() ? new String[0] : line.split(" ");
        Outcome alone = execute(SidecarCommand.commandLine(NO_INSTALLER, args), args);
        Outcome whole = execute(SidecarCommand.commandLine(NO_INSTALLER), args);
        assertThat(alone).isEqualTo(whole);
        assertThat(alone.out() + alone.err()).as("the command printed something").isNotBlank();
    }

    private record Outcome(int exit, String out, String err) {}

    private static Outcome execute(CommandLine cl, String[] args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Outcome(exit, out.toString(), err.toString());
    }
}
