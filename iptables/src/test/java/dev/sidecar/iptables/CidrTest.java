package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CidrTest {

    @ParameterizedTest
    @CsvSource({
        "10.0.0.0/8, 10.0.0.0/8, IPV4",
        "198.18.0.7, 198.18.0.7/32, IPV4",
        "10.1.2.3/8, 10.0.0.0/8, IPV4",
        "2001:db8::/32, 2001:db8::/32, IPV6",
        "2001:DB8:0:0:0:0:0:1, 2001:db8::1/128, IPV6",
        "2001:db8:0:1:0:0:0:0/64, 2001:db8:0:1::/64, IPV6",
        "2001:db8:1:0:1:0:0:1, 2001:db8:1:0:1::1/128, IPV6",
        "::1, ::1/128, IPV6",
        "fe80:0:0:0:0:0:0:0/10, fe80::/10, IPV6",
    })
    void parsesAndSpellsAsIptablesSavePrints(String input, String spelled, IpFamily family) {
        Cidr c = Cidr.parse(input);
        assertThat(c.toString()).isEqualTo(spelled);
        assertThat(c.family()).isEqualTo(family);
    }

    @Test
    void singleZeroGroupIsNotCompressed() {
        assertThat(Cidr.parse("2001:db8:0:1:1:1:1:1").toString()).isEqualTo("2001:db8:0:1:1:1:1:1/128");
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.0/33", "256.1.1.1", "10.0.0", "example.com", "2001:db8::/129", "2001:zz::1",
            "10.0.0.0/", "10.0.0.0/-1", "0.0.0.0/0", "::ffff:10.0.0.1", "",
            "\uff11\uff10.0.0.0/8", "10.0.0.0/\uff18", "\u00a010.0.0.0/8", "10.0.0.0/8\n", "fe80::1%lo"})
    void badSubnetsAreRejectedQuotingTheValue(String text) {
        assertThatThrownBy(() -> Cidr.parse(text))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("'" + text + "'");
    }

    @Test
    void mixedListKeepsBothFamilies() {
        assertThat(Cidr.parseList("10.0.0.0/8,2001:db8::/32")).extracting(Cidr::family)
                .containsExactly(IpFamily.IPV4, IpFamily.IPV6);
    }

    @Test
    void containsAddressesInsideItsPrefixOnly() throws Exception {
        Cidr subnet = Cidr.parse("198.18.0.0/15");

        assertThat(subnet.contains(InetAddress.getByName("198.19.255.255").getAddress())).isTrue();
        assertThat(subnet.contains(InetAddress.getByName("198.20.0.0").getAddress())).isFalse();
        assertThat(subnet.contains(InetAddress.getByName("2001:db8::1").getAddress())).isFalse();
        assertThat(Cidr.parse("2001:db8::/32").contains(InetAddress.getByName("2001:db8:ffff::1").getAddress())).isTrue();
    }
}
