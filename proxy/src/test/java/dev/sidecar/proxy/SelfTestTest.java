package dev.sidecar.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet4Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class SelfTestTest {

    @Test
    void neighbourIsTheNearestOtherHostInTheSubnet() throws Exception {
        assertThat(SelfTest.neighbour(v4("198.18.1.2"), 24)).isEqualTo(InetAddress.getByName("198.18.1.3"));
        assertThat(SelfTest.neighbour(v4("198.18.1.3"), 24)).isEqualTo(InetAddress.getByName("198.18.1.2"));
    }

    @Test
    void neighbourAvoidsTheNetworkAndBroadcastAddresses() throws Exception {
        assertThat(SelfTest.neighbour(v4("198.18.3.1"), 24)).isEqualTo(InetAddress.getByName("198.18.3.3"));
        assertThat(SelfTest.neighbour(v4("198.18.3.254"), 24)).isEqualTo(InetAddress.getByName("198.18.3.252"));
    }

    @Test
    void neighbourStaysInsideASmallSubnet() throws Exception {
        // 198.18.0.4/30 holds .5 and .6 as hosts.
        assertThat(SelfTest.neighbour(v4("198.18.0.5"), 30)).isEqualTo(InetAddress.getByName("198.18.0.6"));
        assertThat(SelfTest.neighbour(v4("198.18.0.6"), 30)).isEqualTo(InetAddress.getByName("198.18.0.5"));
    }

    @Test
    void ipv6NeighbourSkipsTheSubnetRouterAnycastAddress() throws Exception {
        assertThat(SelfTest.neighbour(InetAddress.getByName("2001:db8:1::1"), 64)).isEqualTo(InetAddress.getByName("2001:db8:1::3"));
        assertThat(SelfTest.neighbour(InetAddress.getByName("2001:db8:1::2"), 64)).isEqualTo(InetAddress.getByName("2001:db8:1::3"));
        assertThat(SelfTest.neighbour(InetAddress.getByName("2001:db8:1::a:ffff:ffff"), 64))
                .as("only the last 32 bits change").isEqualTo(InetAddress.getByName("2001:db8:1::a:ffff:fffe"));
    }

    @Test
    void ipv6NeighbourStaysInsideASmallSubnet() throws Exception {
        // 2001:db8::4/126 holds ::5 and ::6 as hosts (::4 is the anycast address, ::7 the top one).
        assertThat(SelfTest.neighbour(InetAddress.getByName("2001:db8::5"), 126)).isEqualTo(InetAddress.getByName("2001:db8::6"));
        assertThat(SelfTest.neighbour(InetAddress.getByName("2001:db8::6"), 126)).isEqualTo(InetAddress.getByName("2001:db8::5"));
    }

    private static Inet4Address v4(String text) throws Exception {
        return (Inet4Address) InetAddress.getByName(text);
    }
}
