package dev.sidecar.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sidecar.iptables.Backend;
import dev.sidecar.iptables.Cidr;
import dev.sidecar.iptables.PortRange;
import dev.sidecar.iptables.RedirectConfig;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** White-box: flags land in the right {@link RedirectConfig} fields. */
class RedirectOptionsTest {

    @Command(name = "probe")
    static final class Probe {
        @Mixin RedirectOptions options;
    }

    private static RedirectConfig parse(String... args) {
        Probe probe = new Probe();
        new CommandLine(probe).parseArgs(args);
        return probe.options.toConfig();
    }

    @Test
    void noFlagsGiveTheDefaults() {
        // Assumes none of the SIDECAR_* variables is set in the test environment.
        RedirectConfig c = parse();
        assertThat(c.inboundPort()).isEqualTo(4143);
        assertThat(c.outboundPort()).isEqualTo(4140);
        assertThat(c.proxyUid()).isEqualTo(2102);
        assertThat(c.proxyGid()).isEqualTo(OptionalInt.empty());
        assertThat(c.skipInboundPorts()).isEmpty();
        assertThat(c.redirectInboundPorts()).isEmpty();
        assertThat(c.ipv6()).isEqualTo(RedirectConfig.namespaceHasIpv6());
        assertThat(c.backend()).isEqualTo(Backend.AUTO);
    }

    @Test
    void listsAcceptCommasAndRepetition() {
        RedirectConfig c = parse("--skip-inbound-ports", "22,6000-6010", "--skip-inbound-ports", "8080",
                "--skip-inbound-subnets", "10.0.0.0/8,2001:db8::/32");
        assertThat(c.skipInboundPorts()).containsExactly(PortRange.of(22), new PortRange(6000, 6010), PortRange.of(8080));
        assertThat(c.skipInboundSubnets()).containsExactly(Cidr.parse("10.0.0.0/8"), Cidr.parse("2001:db8::/32"));
    }

    @Test
    void ipv6IsNegatable() {
        assertThat(parse("--no-ipv6").ipv6()).isFalse();
        assertThat(parse("--ipv6").ipv6()).isTrue();
    }

    @Test
    void gidAndBackendAndPorts() {
        RedirectConfig c = parse("--proxy-gid", "1", "--backend", "NFT", "--inbound-port", "1", "--outbound-port", "65535");
        assertThat(c.proxyGid()).isEqualTo(OptionalInt.of(1));
        assertThat(c.backend()).isEqualTo(Backend.NFT);
        assertThat(List.of(c.inboundPort(), c.outboundPort())).containsExactly(1, 65535);
    }
}
