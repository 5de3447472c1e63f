package dev.sidecar.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sidecar.testkit.Golden;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

/** {@code sidecar run}'s own options; starting it for real is SidecarRunIT's job. */
class RunCommandTest {

    @Test
    void helpMatchesGolden() {
        Cli cli = new Cli();
        assertThat(cli.run("run", "--help")).isZero();
        Golden.assertMatches("cli/run-help.txt", cli.out());
    }

    @Test
    void aBadTimeoutIsAUsageErrorNamingTheFlagAndInstallsNothing() {
        Cli cli = new Cli();

        assertThat(cli.run("run", "--connect-timeout", "soon")).isEqualTo(Failures.USAGE);
        assertThat(cli.firstErrLine()).isEqualTo(
                "sidecar: Invalid value for option '--connect-timeout': 'soon' is not a duration; use e.g. 500ms, 2s or 1m");
        assertThat(cli.installersMade).isZero();
    }

    @Test
    void anUnknownTransportIsAUsageErrorNamingTheFlagAndInstallsNothing() {
        Cli cli = new Cli();

        assertThat(cli.run("run", "--transport", "uring")).isEqualTo(Failures.USAGE);
        assertThat(cli.firstErrLine()).isEqualTo(
                "sidecar: Invalid value for option '--transport': 'uring' is not a transport; use auto, io_uring or epoll");
        assertThat(cli.installersMade).isZero();
    }

    @Test
    void aZeroGraceIsRejected() {
        Cli cli = new Cli();

        assertThat(cli.run("run", "--shutdown-grace", "0s")).isEqualTo(Failures.USAGE);
        assertThat(cli.firstErrLine()).isEqualTo("sidecar: Invalid value for option '--shutdown-grace': '0s' must be more than zero");
    }

    @Test
    void durationsTakeMillisecondsSecondsAndMinutes() {
        RunCommand.DurationConverter c = new RunCommand.DurationConverter();

        assertThat(c.convert("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(c.convert("2s")).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.convert("3")).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.convert("1m")).isEqualTo(Duration.ofMinutes(1));
        assertThatThrownBy(() -> c.convert("-1s")).isInstanceOf(TypeConversionException.class);
    }
}
