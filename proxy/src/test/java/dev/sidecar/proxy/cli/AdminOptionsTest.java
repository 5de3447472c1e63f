package dev.sidecar.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.proxy.admin.AdminSettings;
import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

class AdminOptionsTest {

    /** Stands in for {@code sidecar run}: only the admin and logging mixins, printing what they parsed. */
    @Command(name = "probe", mixinStandardHelpOptions = true)
    static final class Probe implements Runnable {
        @Mixin
        AdminOptions admin;

        @Mixin
        LoggingOptions logging;

        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().getOut().println(admin.adminPort() + " " + admin.shutdownEndpoint() + " " + logging.logLevel() + " "
                    + logging.logFormat());
        }

        /** Entry point for the environment test, which needs a JVM with its own environment. */
        public static void main(String[] args) {
            CommandLine cli = new CommandLine(new Probe());
            int code = cli.execute(args);
            cli.getOut().flush();
            System.exit(code);
        }
    }

    private final Probe probe = new Probe();
    private final StringWriter err = new StringWriter();

    private int execute(String... args) {
        CommandLine cli = new CommandLine(probe);
        cli.setErr(new PrintWriter(err));
        cli.setOut(new PrintWriter(new StringWriter()));
        return cli.execute(args);
    }

    private String firstErrLine() {
        return err.toString().lines().findFirst().orElse("");
    }

    @Test
    void defaultsAreAdminPort4191ShutdownOffInfoPlain() {
        // Holds as long as the build runs without SIDECAR_* variables, as CI does.
        assertThat(execute()).isZero();

        assertThat(probe.admin.adminPort()).isEqualTo(4191);
        assertThat(probe.admin.shutdownEndpoint()).isFalse();
        assertThat(probe.logging.logLevel()).isEqualTo(LogLevel.INFO);
        assertThat(probe.logging.logFormat()).isEqualTo(LogFormat.PLAIN);
    }

    @Test
    void flagsAreParsedCaseInsensitively() {
        assertThat(execute("--admin-port", "9990", "--shutdown-endpoint", "--log-level", "DEBUG", "--log-format=Json"))
                .isZero();

        assertThat(probe.admin.adminPort()).isEqualTo(9990);
        assertThat(probe.admin.shutdownEndpoint()).isTrue();
        assertThat(probe.logging.logLevel()).isEqualTo(LogLevel.DEBUG);
        assertThat(probe.logging.logFormat()).isEqualTo(LogFormat.JSON);
    }

    @Test
    void shutdownEndpointTakesAnExplicitFalse() {
        assertThat(execute("--shutdown-endpoint=false")).isZero();

        assertThat(probe.admin.shutdownEndpoint()).isFalse();
    }

    @Test
    void settingsBindAllInterfacesAndIpv6OnlyWhenAsked() {
        execute("--admin-port", "5000", "--shutdown-endpoint");

        AdminSettings v4 = probe.admin.settings(false);
        AdminSettings both = probe.admin.settings(true);

        assertThat(v4.bindAddresses()).extracting(InetSocketAddress::toString).containsExactly("/0.0.0.0:5000");
        assertThat(both.bindAddresses()).extracting(InetSocketAddress::toString)
                .containsExactly("/0.0.0.0:5000", "/[0:0:0:0:0:0:0:0]:5000");
        assertThat(both.shutdownEndpoint()).isTrue();
    }

    @Test
    void portOutOfRangeIsAUsageErrorNamingTheFlag() {
        assertThat(execute("--admin-port", "70000")).isEqualTo(2);

        assertThat(firstErrLine()).isEqualTo("Invalid value for option '--admin-port': '70000': port out of range (expected 1-65535)");
    }

    @Test
    void portZeroIsRefused() {
        assertThat(execute("--admin-port", "0")).isEqualTo(2);

        assertThat(firstErrLine()).isEqualTo("Invalid value for option '--admin-port': '0': port out of range (expected 1-65535)");
    }

    @Test
    void nonNumericPortIsAUsageErrorNamingTheFlag() {
        assertThat(execute("--admin-port", "http")).isEqualTo(2);

        assertThat(firstErrLine()).isEqualTo("Invalid value for option '--admin-port': 'http': not a port number (expected 1-65535)");
    }

    @Test
    void nonAsciiDigitsAreNotAPort() {
        // Integer.parseInt reads fullwidth digits as 80; every port option shares one ASCII parser.
        assertThat(execute("--admin-port", "\uff18\uff10")).isEqualTo(2);

        assertThat(firstErrLine()).isEqualTo("Invalid value for option '--admin-port': '\uff18\uff10': not a port number (expected 1-65535)");
    }

    @Test
    void anEmptyBooleanIsAUsageError() {
        assertThat(execute("--shutdown-endpoint=")).isEqualTo(2);

        assertThat(firstErrLine()).isEqualTo("Invalid value for option '--shutdown-endpoint': '' is not true or false");
    }

    @Test
    void unknownLogLevelIsAUsageErrorListingTheLevels() {
        assertThat(execute("--log-level", "verbose")).isEqualTo(2);

        assertThat(firstErrLine()).isEqualTo(
                "Invalid value for option '--log-level': 'verbose' is not a log level; use error, warn, info, debug or trace");
    }

    @Test
    void unknownLogFormatIsAUsageErrorListingTheFormats() {
        assertThat(execute("--log-format", "xml")).isEqualTo(2);

        assertThat(firstErrLine()).isEqualTo("Invalid value for option '--log-format': 'xml' is not a log format; use plain or json");
    }

    @Test
    void misspelledBooleanIsAUsageError() {
        assertThat(execute("--shutdown-endpoint=ture")).isEqualTo(2);

        assertThat(firstErrLine()).isEqualTo("Invalid value for option '--shutdown-endpoint': 'ture' is not true or false");
    }

    @Test
    void helpNamesEveryEnvironmentVariableAndDefault() {
        String help = new CommandLine(new Probe()).getUsageMessage(CommandLine.Help.Ansi.OFF);

        assertThat(help).contains("SIDECAR_ADMIN_PORT", "SIDECAR_SHUTDOWN_ENDPOINT", "SIDECAR_LOG_LEVEL", "SIDECAR_LOG_FORMAT");
        assertThat(help.replaceAll("\\s+", " ")).contains("Default: 4191", "Default: false", "Default: info", "Default: plain");
    }

    @Test
    @Timeout(60)
    void environmentSuppliesDefaultsAndTheCommandLineWins() throws Exception {
        Map<String, String> env = Map.of(
                "SIDECAR_ADMIN_PORT", "5191",
                "SIDECAR_SHUTDOWN_ENDPOINT", "true",
                "SIDECAR_LOG_LEVEL", "warn",
                "SIDECAR_LOG_FORMAT", "json");

        assertThat(runProbe(env)).isEqualTo("5191 true warn json");
        assertThat(runProbe(env, "--admin-port", "6000", "--log-format", "plain", "--shutdown-endpoint=false"))
                .isEqualTo("6000 false warn plain");
        assertThat(runProbe(Map.of("SIDECAR_ADMIN_PORT", "99999"))).startsWith(
                "exit 2: Invalid value for option '--admin-port': '99999': port out of range (expected 1-65535)");
    }

    private static String runProbe(Map<String, String> env, String... args) throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        List<String> command = new java.util.ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                Probe.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("SIDECAR_"));
        pb.environment().putAll(env);
        Process process = pb.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return process.exitValue() == 0 ? output : "exit " + process.exitValue() + ": " + output;
    }
}
