package dev.sidecar.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.testkit.Golden;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The help of the iptables subcommands, reviewed as golden files in {@code golden/cli/}. */
class IptablesHelpTest {

    @ParameterizedTest
    @ValueSource(strings = {"install", "remove", "show", "check"})
    void helpMatchesGolden(String subcommand) {
        Cli cli = new Cli();
        assertThat(cli.run("iptables", subcommand, "--help")).isEqualTo(0);
        Golden.assertMatches("cli/iptables-" + subcommand + "-help.txt", cli.out());
    }
}
