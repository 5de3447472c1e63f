package dev.sidecar.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sidecar.iptables.PortRange;
import dev.sidecar.testkit.Golden;
import java.net.InetAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;
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

        assertThat(cli.run("run", "--connect-timeout", "soon")).isEqualTo(ExitCode.USAGE.code());
        assertThat(cli.firstErrLine()).isEqualTo(
                "sidecar: Invalid value for option '--connect-timeout': 'soon' is not a duration; use e.g. 500ms, 2s or 1m");
        assertThat(cli.installersMade).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--proxy-uid=0|sidecar: Invalid value for option '--proxy-uid': '0': is root, whose traffic would bypass the proxy (expected 1-2147483647)",
        "--proxy-gid=0|sidecar: Invalid value for option '--proxy-gid': '0': is root, whose traffic would bypass the proxy (expected 1-2147483647)",
        "--no-iptables=|sidecar: Invalid value for option '--no-iptables': '' is not true or false",
        "--admin-port=\uff18\uff10|sidecar: Invalid value for option '--admin-port': '\uff18\uff10': not a port number (expected 1-65535)",
    })
    void whatThePrivilegeDropOrTheRulesWouldGetWrongIsRefusedBeforeAnythingStarts(String arg, String message) {
        Cli cli = new Cli();

        assertThat(cli.run("run", arg)).isEqualTo(ExitCode.USAGE.code());
        assertThat(cli.errLines()).containsExactly(message);
        assertThat(cli.installersMade).isZero();
        assertThat(cli.backend.calls()).isEmpty();
    }

    @Test
    void anUnknownTransportIsAUsageErrorNamingTheFlagAndInstallsNothing() {
        Cli cli = new Cli();

        assertThat(cli.run("run", "--transport", "uring")).isEqualTo(ExitCode.USAGE.code());
        assertThat(cli.firstErrLine()).isEqualTo(
                "sidecar: Invalid value for option '--transport': 'uring' is not a transport; use auto, io_uring or epoll");
        assertThat(cli.installersMade).isZero();
    }

    @Test
    void repairingSomeoneElsesRulesIsAUsageErrorAndStartsNothing() {
        Cli cli = new Cli();

        assertThat(cli.run("run", "--no-iptables", "--rules-repair")).isEqualTo(ExitCode.USAGE.code());
        assertThat(cli.errLines()).containsExactly("sidecar: Invalid value for option '--rules-repair': 'true': cannot repair"
                + " rules someone else installed (--no-iptables); drop one of the two");
        assertThat(cli.installersMade).isZero();
    }

    @Test
    void theRulesCheckIntervalTakesOffAndZeroAndRefusesZeroWithAUnit() {
        assertThat(new RunConverters.IntervalConverter().convert("off")).isZero();
        assertThat(new RunConverters.IntervalConverter().convert(" 0 ")).isZero();
        assertThat(new RunConverters.IntervalConverter().convert("1s")).hasSeconds(1);
        Cli cli = Cli.stoppingRunBeforeStart();
        assertThat(cli.run("run", "--rules-check-interval", "0s")).isEqualTo(ExitCode.USAGE.code());
        assertThat(cli.firstErrLine())
                .isEqualTo("sidecar: Invalid value for option '--rules-check-interval': '0s' must be more than zero");
    }

    @Test
    void aZeroGraceIsRejected() {
        Cli cli = new Cli();

        assertThat(cli.run("run", "--shutdown-grace", "0s")).isEqualTo(ExitCode.USAGE.code());
        assertThat(cli.firstErrLine()).isEqualTo("sidecar: Invalid value for option '--shutdown-grace': '0s' must be more than zero");
    }

    @Test
    void aBadInboundIpIsAUsageErrorNamingTheFlagAndTheValueAndInstallsNothing() {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("198.18.1.300", "'198.18.1.300': IPv4 octet 300 is larger than 255");
        cases.put("pod.example", "'pod.example': not an IPv4 or IPv6 address");
        cases.put("198.18.1.0/24", "'198.18.1.0/24': a single address, not a subnet");
        cases.put("", "'': empty list; leave the option out to use the namespace's own addresses");
        cases.put(",", "',': empty entry in the list");
        cases.put("198.18.1.1,", "'198.18.1.1,': empty entry in the list");
        cases.put("127.0.0.1", "'127.0.0.1': a loopback address is never an inbound connection's destination");
        cases.put("::1", "'::1': a loopback address is never an inbound connection's destination");
        cases.put("0.0.0.0", "'0.0.0.0': the unspecified address is never an inbound connection's destination");
        cases.put("ff02::1", "'ff02::1': a multicast address is never an inbound connection's destination");
        cases.put("2001:db8::1::2", "'2001:db8::1::2': not a valid IPv6 address");
        cases.forEach((value, reason) -> {
            Cli cli = new Cli();

            assertThat(cli.run("run", "--inbound-ips", value)).as(value).isEqualTo(ExitCode.USAGE.code());
            assertThat(cli.firstErrLine()).isEqualTo("sidecar: Invalid value for option '--inbound-ips': " + reason);
            assertThat(cli.installersMade).isZero();
            assertThat(cli.backend.restores()).isEmpty();
        });
    }

    @Test
    void inboundIpsTakeBothFamiliesTrimmed() throws Exception {
        Converters.AddressList list = new Converters.Addresses().convert(" 198.18.1.1 , 2001:db8:1::1");

        assertThat(list.addresses()).containsExactly(InetAddress.getByName("198.18.1.1"), InetAddress.getByName("2001:db8:1::1"));
    }

    @Test
    void durationsTakeMillisecondsSecondsAndMinutes() {
        RunConverters.DurationConverter c = new RunConverters.DurationConverter();

        assertThat(c.convert("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(c.convert("2s")).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.convert("3")).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.convert("1m")).isEqualTo(Duration.ofMinutes(1));
        assertThatThrownBy(() -> c.convert("-1s")).isInstanceOf(TypeConversionException.class);
    }

    @Test
    void aZeroOrNonNumericMaxConnectionsIsAUsageErrorNamingTheFlagAndInstallsNothing() {
        for (String bad : new String[] {"0", "-5", "lots", "", "1e3", "\uff18\uff10", "1234567890"}) {
            Cli cli = new Cli();

            assertThat(cli.run("run", "--max-connections", bad)).as(bad).isEqualTo(ExitCode.USAGE.code());
            assertThat(cli.firstErrLine()).isEqualTo("sidecar: Invalid value for option '--max-connections': '" + bad
                    + "' is not a positive whole number (1-999999999)");
            assertThat(cli.installersMade).isZero();
        }
    }

    @Test
    void maxConnectionsTakesAsciiDigitsOnly() {
        RunConverters.CountConverter c = new RunConverters.CountConverter();

        assertThat(c.convert("1")).isEqualTo(1);
        assertThat(c.convert(" 4096 ")).isEqualTo(4096);
        assertThat(c.convert("999999999")).isEqualTo(999_999_999);
        assertThatThrownBy(() -> c.convert("\u0664\u0662")).isInstanceOf(TypeConversionException.class); // Arabic-Indic 42
    }

    @Test
    void aKeepaliveInMillisecondsIsAUsageErrorNamingTheFlag() {
        Cli cli = new Cli();

        assertThat(cli.run("run", "--keepalive", "500ms")).isEqualTo(ExitCode.USAGE.code());
        assertThat(cli.firstErrLine()).isEqualTo(
                "sidecar: Invalid value for option '--keepalive': '500ms' must be whole seconds, 1s to 32767s");
        assertThat(cli.installersMade).isZero();
    }

    @Test
    void aZeroKeepaliveIsRejected() {
        Cli cli = new Cli();

        assertThat(cli.run("run", "--keepalive", "0")).isEqualTo(ExitCode.USAGE.code());
        assertThat(cli.firstErrLine()).isEqualTo("sidecar: Invalid value for option '--keepalive': '0' must be more than zero");
    }

    @Test
    void userTimeoutTakesOffOrZeroForTheKernelDefault() {
        RunConverters.UserTimeoutConverter c = new RunConverters.UserTimeoutConverter();

        assertThat(c.convert("off")).isZero();
        assertThat(c.convert("0")).isZero();
        assertThat(c.convert("OFF")).isZero();
        assertThat(c.convert("20s")).isEqualTo(Duration.ofSeconds(20));
        assertThatThrownBy(() -> c.convert("never")).isInstanceOf(TypeConversionException.class);
        assertThatThrownBy(() -> c.convert("999999999m")).isInstanceOf(TypeConversionException.class);
    }

    @Test
    void aBadUserTimeoutIsAUsageErrorNamingTheFlag() {
        Cli cli = new Cli();

        assertThat(cli.run("run", "--user-timeout", "soon")).isEqualTo(ExitCode.USAGE.code());
        assertThat(cli.firstErrLine()).isEqualTo(
                "sidecar: Invalid value for option '--user-timeout': 'soon' is not a duration; use e.g. 500ms, 2s or 1m");
        assertThat(cli.installersMade).isZero();
    }

    @Test
    void aValueThatIsOnlyTheEndOfOptionsMarkerIsOneLine() {
        // Found by OptionGrammarTest: picocli reports a missing parameter without an ArgSpec.
        Cli cli = new Cli();

        assertThat(cli.run("run", "--inbound-port=--")).isEqualTo(ExitCode.USAGE.code());
        assertThat(cli.errLines()).containsExactly("sidecar: Expected parameter for option '--inbound-port' but found '--'");
        assertThat(cli.installersMade).isZero();
    }

    @Test
    void endOfOptionsMarkerFromTheEnvironmentNamesTheVariable() {
        Cli cli = new Cli();
        cli.environment.put("SIDECAR_INBOUND_PORT", "--");

        assertThat(cli.run("run")).isEqualTo(ExitCode.USAGE.code());
        assertThat(cli.errLines()).containsExactly(
                "sidecar: Expected parameter for option '--inbound-port' but found '--' (from environment variable SIDECAR_INBOUND_PORT)");
    }

    @Test
    void aProxyProtocolVersionOtherThanOneOrTwoIsAUsageErrorNamingTheFlagAndInstallsNothing() {
        for (String bad : new String[] {"3", "0", "v2", "", "\uff12"}) {
            Cli cli = new Cli();

            assertThat(cli.run("run", "--inbound-proxy-protocol-ports", "8080", "--proxy-protocol-version", bad)).as(bad)
                    .isEqualTo(ExitCode.USAGE.code());
            assertThat(cli.errLines()).containsExactly("sidecar: Invalid value for option '--proxy-protocol-version': '" + bad
                    + "' is not a PROXY protocol version; use 1 or 2");
            assertThat(cli.installersMade).isZero();
        }
    }

    @Test
    void aBadProxyProtocolVersionFromTheEnvironmentNamesTheVariable() {
        Cli cli = new Cli();
        cli.environment.put("SIDECAR_PROXY_PROTOCOL_VERSION", "3");

        assertThat(cli.run("run")).isEqualTo(ExitCode.USAGE.code());
        assertThat(cli.errLines()).containsExactly("sidecar: Invalid value for option '--proxy-protocol-version': '3' is not a"
                + " PROXY protocol version; use 1 or 2 (from environment variable SIDECAR_PROXY_PROTOCOL_VERSION)");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "0|'0': port out of range (expected 1-65535)",
        "8080,|'8080,': empty entry in the list",
        "9010-9000|'9010-9000': range runs backwards (9010 > 9000)",
    })
    void aBadProxyProtocolPortListIsAUsageErrorLikeEveryPortList(String value, String reason) {
        Cli cli = new Cli();
        Cli skip = new Cli();

        assertThat(cli.run("run", "--inbound-proxy-protocol-ports", value)).isEqualTo(ExitCode.USAGE.code());
        assertThat(skip.run("run", "--skip-inbound-ports", value)).isEqualTo(ExitCode.USAGE.code());
        assertThat(cli.errLines()).containsExactly(
                "sidecar: Invalid value for option '--inbound-proxy-protocol-ports' (PORT[,PORT...]): " + reason);
        assertThat(skip.firstErrLine()).isEqualTo(cli.firstErrLine().replace("--inbound-proxy-protocol-ports", "--skip-inbound-ports"));
        assertThat(cli.installersMade).isZero();
    }

    @Test
    void proxyProtocolIsOffByDefaultAndVersionTwoWhenPortsAreListed() {
        RunCommand none = parsed();
        RunCommand listed = parsed("--inbound-proxy-protocol-ports", "8080, 9000-9010", "--inbound-proxy-protocol-ports=5672");
        RunCommand v1 = parsed("--inbound-proxy-protocol-ports", "8080", "--proxy-protocol-version", " 1 ");

        assertThat(none.proxyProtocolPorts).isEmpty();
        assertThat(none.proxyProtocolVersion).isEqualTo(2);
        assertThat(listed.proxyProtocolPorts).containsExactly(PortRange.of(8080), new PortRange(9000, 9010), PortRange.of(5672));
        assertThat(listed.proxyProtocolVersion).isEqualTo(2);
        assertThat(v1.proxyProtocolVersion).isEqualTo(1);
    }

    @Test
    void validProxyProtocolOptionsGetAsFarAsStartingTheSidecar() {
        Cli cli = Cli.stoppingRunBeforeStart();

        assertThat(cli.run("run", "--inbound-proxy-protocol-ports", "8080", "--proxy-protocol-version", "1"))
                .isEqualTo(ExitCode.SOFTWARE.code());
        assertThat(cli.firstErrLine()).contains(Cli.RunWouldStart.class.getName());
    }

    private static RunCommand parsed(String... args) {
        CommandLine cl = SidecarCommand.commandLine();
        String[] all = new String[args.length + 1];
        all[0] = "run";
        System.arraycopy(args, 0, all, 1, args.length);
        cl.parseArgs(all);
        return cl.getSubcommands().get("run").getCommand();
    }
}
