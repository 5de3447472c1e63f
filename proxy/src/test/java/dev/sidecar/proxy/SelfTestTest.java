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

    private static Inet4Address v4(String text) throws Exception {
        return (Inet4Address) InetAddress.getByName(text);
    }
}
