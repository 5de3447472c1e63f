package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class RedirectConfigTest {

    @Test
    void defaultsAreLinkerds() {
        RedirectConfig c = RedirectConfig.defaults();
        assertThat(c.inboundPort()).isEqualTo(4143);
        assertThat(c.outboundPort()).isEqualTo(4140);
        assertThat(c.proxyUid()).isEqualTo(2102);
        assertThat(c.proxyGid()).isEqualTo(OptionalInt.empty());
        assertThat(c.redirectInboundPorts()).isEmpty();
        assertThat(c.backend()).isEqualTo(Backend.AUTO);
        assertThat(c.ipv6()).as("a value type does not look at the machine; the CLI decides IPv6").isFalse();
    }

    @Test
    void toBuilderRoundTripsEveryField() {
        RedirectConfig c = RedirectConfig.builder().inboundPort(1).outboundPort(2).proxyUid(3).proxyGid(4)
                .skipInboundPorts(PortRange.parseList("5")).skipOutboundPorts(PortRange.parseList("6"))
                .redirectInboundPorts(PortRange.parseList("7-8")).skipInboundSubnets(Cidr.parseList("10.0.0.0/8"))
                .skipOutboundSubnets(Cidr.parseList("2001:db8::/32")).ipv6(true).backend(Backend.LEGACY).build();
        assertThat(c.toBuilder().build()).isEqualTo(c);
    }

    @Test
    void familiesFollowIpv6Switch() {
        assertThat(RedirectConfig.builder().ipv6(false).build().families()).containsExactly(IpFamily.IPV4);
        assertThat(RedirectConfig.builder().ipv6(true).build().families()).containsExactly(IpFamily.IPV4, IpFamily.IPV6);
    }

    @Test
    void portOutOfRangeNamesTheSetting() {
        assertThatThrownBy(() -> RedirectConfig.builder().inboundPort(0).build())
                .isInstanceOf(InvalidConfigException.class)
                .extracting(e -> ((InvalidConfigException) e).setting()).isEqualTo("inbound-port");
        assertThatThrownBy(() -> RedirectConfig.builder().outboundPort(65536).build())
                .hasMessageStartingWith("outbound-port '65536'");
    }

    @Test
    void sameInboundAndOutboundPortIsRejected() {
        assertThatThrownBy(() -> RedirectConfig.builder().inboundPort(4140).build())
                .hasMessageContaining("must differ");
    }

    @Test
    void rootIdsAreRejectedBecauseRootsTrafficWouldBypassTheProxy() {
        assertThatThrownBy(() -> RedirectConfig.builder().proxyUid(0).build()).hasMessageStartingWith("proxy-uid '0': is root");
        assertThatThrownBy(() -> RedirectConfig.builder().proxyGid(0).build()).hasMessageStartingWith("proxy-gid '0': is root");
    }

    @Test
    void negativeIdsAreRejected() {
        assertThatThrownBy(() -> RedirectConfig.builder().proxyUid(-1).build()).hasMessageStartingWith("proxy-uid '-1'");
        assertThatThrownBy(() -> RedirectConfig.builder().proxyGid(-5).build()).hasMessageStartingWith("proxy-gid '-5'");
    }

    @Test
    void ipv6SubnetWithIpv6OffIsAnErrorNamingTheSetting() {
        assertThatThrownBy(() -> RedirectConfig.builder().ipv6(false)
                .skipOutboundSubnets(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("2001:db8::/32"))).build())
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("skip-outbound-subnets '2001:db8::/32': an IPv6 subnet, but IPv6 rules are off");
    }

    @Test
    void ipv4SubnetsAreFineWithIpv6Off() {
        assertThat(RedirectConfig.builder().ipv6(false).skipInboundSubnets(Cidr.parseList("10.0.0.0/8")).build()
                .skipInboundSubnets()).hasSize(1);
    }

    @Test
    void listsAreImmutable() {
        RedirectConfig c = RedirectConfig.builder().skipInboundPorts(PortRange.parseList("1,2")).build();
        assertThatThrownBy(() -> c.skipInboundPorts().add(PortRange.of(3))).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void backendParsesKnownNamesOnly() {
        assertThat(Backend.parse("NFT")).isEqualTo(Backend.NFT);
        assertThat(Backend.parse("legacy")).isEqualTo(Backend.LEGACY);
        assertThatThrownBy(() -> Backend.parse("iptables")).hasMessage("value 'iptables': unknown backend (expected auto, nft or legacy)");
    }
}
