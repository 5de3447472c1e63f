package dev.sidecar.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.sidecar.iptables.IpFamily;
import dev.sidecar.iptables.IptablesCommandException;
import dev.sidecar.iptables.IptablesEnvironmentException;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IptablesCommandTest {
    private final Cli cli = new Cli();

    @Test
    void showForDefaultsPrintsLinkerdsProxyInitRulesInTheirOrder() {
        assertThat(cli.run("iptables", "show", "--no-ipv6")).isEqualTo(0);
        assertThat(cli.out()).isEqualTo("""
                # IPv4: iptables-restore --noflush
                *nat
                :PROXY_INIT_REDIRECT - [0:0]
                :PROXY_INIT_OUTPUT - [0:0]
                -A PREROUTING -m comment --comment "proxy-init/install-proxy-init-prerouting" -j PROXY_INIT_REDIRECT
                -A PROXY_INIT_REDIRECT -p tcp -m comment --comment "proxy-init/proxy-init-redirect-all" -j REDIRECT --to-ports 4143
                -A OUTPUT -m comment --comment "proxy-init/install-proxy-init-output" -j PROXY_INIT_OUTPUT
                -A PROXY_INIT_OUTPUT -m owner --uid-owner 2102 -m comment --comment "proxy-init/ignore-proxy-uid" -j RETURN
                -A PROXY_INIT_OUTPUT -o lo -m comment --comment "proxy-init/ignore-loopback" -j RETURN
                -A PROXY_INIT_OUTPUT -p tcp -m comment --comment "proxy-init/redirect-all-outgoing" -j REDIRECT --to-ports 4140
                COMMIT
                """);
        assertThat(cli.installersMade).as("show needs no backend").isZero();
    }

    @Test
    void showWithIpv6PrintsBothFamilies() {
        assertThat(cli.run("iptables", "show", "--ipv6", "--skip-outbound-subnets", "10.0.0.0/8,2001:db8::/32")).isEqualTo(0);
        assertThat(cli.out()).contains("# IPv4: iptables-restore --noflush", "# IPv6: ip6tables-restore --noflush",
                "-A PROXY_INIT_OUTPUT -d 10.0.0.0/8 ", "-A PROXY_INIT_OUTPUT -d 2001:db8::/32 ");
    }

    @Test
    void showJsonPrintsThePlan() {
        assertThat(cli.run("iptables", "show", "--no-ipv6", "--output", "json", "--proxy-gid", "3000")).isEqualTo(0);
        assertThat(cli.out()).startsWith("{\n  \"table\": \"nat\",").contains("\"proxyGid\": 3000", "\"family\": \"v4\"")
                .doesNotContain("\"family\": \"v6\"");
    }

    @Test
    void everyOptionReachesTheConfig() {
        assertThat(cli.run("iptables", "show", "--output", "json", "--inbound-port", "15006", "--outbound-port", "15001",
                "--proxy-uid", "1337", "--proxy-gid", "1338", "--skip-inbound-ports", "22,9000-9010",
                "--skip-outbound-ports", "25", "--skip-outbound-ports", "443", "--redirect-inbound-ports", "8080",
                "--skip-inbound-subnets", "198.18.0.0/15", "--skip-outbound-subnets", "2001:db8::/32",
                "--ipv6", "--backend", "legacy")).isEqualTo(0);
        assertThat(cli.out()).contains("\"inboundPort\": 15006", "\"outboundPort\": 15001", "\"proxyUid\": 1337",
                "\"proxyGid\": 1338", "\"skipInboundPorts\": [\"22\", \"9000-9010\"]", "\"skipOutboundPorts\": [\"25\", \"443\"]",
                "\"redirectInboundPorts\": [\"8080\"]", "\"skipInboundSubnets\": [\"198.18.0.0/15\"]",
                "\"skipOutboundSubnets\": [\"2001:db8::/32\"]", "\"ipv6\": true", "\"backend\": \"legacy\"");
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
        "--inbound-port|0|sidecar: Invalid value for option '--inbound-port': '0': port out of range (expected 1-65535)",
        "--outbound-port|65536|sidecar: Invalid value for option '--outbound-port': '65536': port out of range (expected 1-65535)",
        "--inbound-port|abc|sidecar: Invalid value for option '--inbound-port': 'abc': not a port number (expected 1-65535)",
        "--skip-inbound-ports|10-5|sidecar: Invalid value for option '--skip-inbound-ports' (PORT[,PORT...]): '10-5': range runs backwards (10 > 5)",
        "--skip-outbound-ports|25,,443|sidecar: Invalid value for option '--skip-outbound-ports' (PORT[,PORT...]): '25,,443': empty entry in the list",
        "--skip-outbound-ports|25,|sidecar: Invalid value for option '--skip-outbound-ports' (PORT[,PORT...]): '25,': empty entry in the list",
        "--skip-inbound-ports|,|sidecar: Invalid value for option '--skip-inbound-ports' (PORT[,PORT...]): ',': empty entry in the list",
        "--proxy-uid|0|sidecar: Invalid value for option '--proxy-uid': '0': is root, whose traffic would bypass the proxy (expected 1-2147483647)",
        "--proxy-gid|0|sidecar: Invalid value for option '--proxy-gid': '0': is root, whose traffic would bypass the proxy (expected 1-2147483647)",
        "--inbound-port|\uff18\uff10|sidecar: Invalid value for option '--inbound-port': '\uff18\uff10': not a port number (expected 1-65535)",
        "--redirect-inbound-ports|http|sidecar: Invalid value for option '--redirect-inbound-ports' (PORT[,PORT...]): 'http': not a port number (expected 1-65535)",
        "--skip-inbound-subnets|10.0.0.0/33|sidecar: Invalid value for option '--skip-inbound-subnets' (CIDR[,CIDR...]): '10.0.0.0/33': bad prefix length (expected 0-32)",
        "--skip-outbound-subnets|example.com|sidecar: Invalid value for option '--skip-outbound-subnets' (CIDR[,CIDR...]): 'example.com': not an IPv4 or IPv6 address or CIDR",
        "--proxy-uid|-1|sidecar: Invalid value for option '--proxy-uid': '-1': not a numeric id (expected 1-2147483647)",
        "--proxy-gid|root|sidecar: Invalid value for option '--proxy-gid': 'root': not a numeric id (expected 1-2147483647)",
        "--backend|iptables|sidecar: Invalid value for option '--backend': 'iptables': unknown backend (expected auto, nft or legacy)",
    })
    void badValueIsOneLineNamingFlagAndValueWithExitTwoAndNothingInstalled(String flag, String value, String message) {
        assertThat(cli.run("iptables", "install", flag, value)).isEqualTo(2);
        assertThat(cli.errLines()).containsExactly(message);
        assertThat(cli.installersMade).isZero();
        assertThat(cli.backend.calls()).isEmpty();
    }

    @Test
    void ipv6SubnetWithIpv6OffIsAUsageErrorNamingTheFlag() {
        assertThat(cli.run("iptables", "install", "--no-ipv6", "--skip-outbound-subnets", "10.0.0.0/8,2001:db8::/32")).isEqualTo(2);
        assertThat(cli.firstErrLine()).isEqualTo(
                "sidecar: Invalid value for option '--skip-outbound-subnets': '2001:db8::/32': an IPv6 subnet, but IPv6 rules are off");
        assertThat(cli.backend.calls()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '#', value = {
        "--ipv6=#sidecar: Invalid value for option '--ipv6': '' is not true or false",
        "--ipv6=yes#sidecar: Invalid value for option '--ipv6': 'yes' is not true or false",
        "--no-ipv6=true#sidecar: Invalid value for option '--no-ipv6': 'true': the negated form takes no value; use --ipv6=true|false",
        "--skip-inbound-ports=#sidecar: Invalid value for option '--skip-inbound-ports' (PORT[,PORT...]): '': empty list; leave the option out for none",
        "--output=#sidecar: Invalid value for option '--output': '' is not text or json",
    })
    void emptyOrMisspelledValuesAreRejectedNotReadAsFalseOrNone(String arg, String message) {
        assertThat(cli.run("iptables", "show", arg)).isEqualTo(2);
        assertThat(cli.errLines()).containsExactly(message);
        assertThat(cli.out()).isEmpty();
    }

    @Test
    void booleansAndWordsTakeAnyCaseAndSurroundingBlanks() {
        assertThat(cli.run("iptables", "show", "--ipv6=FALSE", "--output", " JSON\t", "--skip-inbound-ports", "22, 443")).isEqualTo(0);
        assertThat(cli.out()).contains("\"ipv6\": false", "\"skipInboundPorts\": [\"22\", \"443\"]");
    }

    @Test
    void everyIptablesCommandTakesTheLoggingOptionsBeforeOrAfterItsName() {
        Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        try {
            assertThat(cli.run("iptables", "show", "--no-ipv6", "--log-level", "error")).isEqualTo(0);
            assertThat(root.getLevel()).isEqualTo(Level.ERROR);
            assertThat(cli.run("--log-level", "warn", "iptables", "remove", "--no-ipv6")).isEqualTo(0);
            assertThat(root.getLevel()).isEqualTo(Level.WARN);
        } finally {
            LogSetup.apply(LogLevel.INFO, LogFormat.PLAIN);
        }
    }

    @Test
    void sameInboundAndOutboundPortIsAUsageError() {
        assertThat(cli.run("iptables", "install", "--inbound-port", "4140")).isEqualTo(2);
        assertThat(cli.firstErrLine()).startsWith("sidecar: Invalid value for option '--outbound-port': '4140': must differ");
    }

    @Test
    void unknownOptionIsAUsageError() {
        assertThat(cli.run("iptables", "install", "--inbound-prot", "1")).isEqualTo(2);
        assertThat(cli.firstErrLine()).startsWith("sidecar: Unknown option");
    }

    @Test
    void missingSubcommandIsAUsageError() {
        assertThat(cli.run("iptables")).isEqualTo(2);
        assertThat(cli.firstErrLine()).isEqualTo("sidecar: Missing required subcommand");
    }

    @Test
    void installRunsOneRestorePerFamily() {
        assertThat(cli.run("iptables", "install", "--ipv6")).isEqualTo(0);
        assertThat(cli.backend.calls()).containsExactly("save v4", "save v6", "restore v4", "restore v6");
        assertThat(cli.out()).isEqualTo("installed redirect for IPv4 and IPv6 with iptables-nft\n");
    }

    @Test
    void removeWithNothingInstalledSucceeds() {
        assertThat(cli.run("iptables", "remove", "--no-ipv6")).isEqualTo(0);
        assertThat(cli.out()).isEqualTo("nothing to remove for IPv4\n");
    }

    @Test
    void checkWithNothingInstalledExitsOneWithADiff() {
        assertThat(cli.run("iptables", "check", "--no-ipv6")).isEqualTo(1);
        assertThat(cli.out()).startsWith("IPv4: nat table differs from the plan\n")
                .contains("  ! chain PROXY_INIT_OUTPUT does not exist", "  - -A PROXY_INIT_OUTPUT -o lo ");
    }

    @Test
    void environmentProblemExitsThreeWithItsMessage() {
        cli.backend.failing(IpFamily.IPV4, () -> new IptablesEnvironmentException(
                "iptables-nft-save: permission denied; iptables needs root or CAP_NET_ADMIN in this network namespace (run as root, or grant CAP_NET_ADMIN)"));
        assertThat(cli.run("iptables", "install")).isEqualTo(3);
        assertThat(cli.firstErrLine()).isEqualTo(
                "sidecar: iptables-nft-save: permission denied; iptables needs root or CAP_NET_ADMIN in this network namespace (run as root, or grant CAP_NET_ADMIN)");
    }

    @Test
    void rejectedChangeExitsFour() {
        cli.backend.rejectingRestore(IpFamily.IPV4, () -> new IptablesCommandException("iptables-nft-restore -w --noflush", 2, "Port `0' not valid\nmore"));
        assertThat(cli.run("iptables", "install")).isEqualTo(4);
        assertThat(cli.firstErrLine()).isEqualTo("sidecar: iptables-nft-restore -w --noflush exited 2: Port `0' not valid");
    }

    @Test
    void unexpectedFailureExitsOneWithoutAStackTrace() {
        cli.backend.failing(IpFamily.IPV4, () -> new IllegalStateException("boom"));
        assertThat(cli.run("iptables", "check")).isEqualTo(1);
        assertThat(cli.firstErrLine()).startsWith("sidecar: unexpected failure: java.lang.IllegalStateException: boom");
        assertThat(cli.err.toString()).doesNotContain("\tat ");
    }

    @Test
    void helpListsEveryOptionWithItsEnvironmentVariableAndTheExitCodes() {
        assertThat(cli.run("iptables", "install", "--help")).isEqualTo(0);
        assertThat(cli.out()).contains("SIDECAR_INBOUND_PORT", "SIDECAR_OUTBOUND_PORT", "SIDECAR_PROXY_UID", "SIDECAR_PROXY_GID",
                "SIDECAR_SKIP_INBOUND_PORTS", "SIDECAR_SKIP_OUTBOUND_PORTS", "SIDECAR_REDIRECT_INBOUND_PORTS",
                "SIDECAR_SKIP_INBOUND_SUBNETS", "SIDECAR_SKIP_OUTBOUND_SUBNETS", "SIDECAR_IPV6", "SIDECAR_BACKEND",
                "Default: 4143", "Default: 4140", "Default: 2102", "Default: auto",
                "Exit codes:", "3   Environment");
    }

    @Test
    void topLevelHelpListsSubcommandsAndExitCodes() {
        assertThat(cli.run("--help")).isEqualTo(0);
        assertThat(cli.out()).contains("iptables", "Exit codes:", "2   Invalid option or value");
    }

    @Test
    void versionComesFromTheManifestOrSaysDev() {
        assertThat(cli.run("--version")).isEqualTo(0);
        assertThat(cli.out()).startsWith("sidecar ");
    }
}
