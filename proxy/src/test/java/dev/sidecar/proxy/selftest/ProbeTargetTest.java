package dev.sidecar.proxy.selftest;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProbeTargetTest {

    @Test
    void neighbourIsTheNearestOtherHostInTheSubnet() throws Exception {
        assertThat(ProbeTarget.neighbour(v4("198.18.1.2"), 24)).isEqualTo(InetAddress.getByName("198.18.1.3"));
        assertThat(ProbeTarget.neighbour(v4("198.18.1.3"), 24)).isEqualTo(InetAddress.getByName("198.18.1.2"));
    }

    @Test
    void neighbourAvoidsTheNetworkAndBroadcastAddresses() throws Exception {
        assertThat(ProbeTarget.neighbour(v4("198.18.3.1"), 24)).isEqualTo(InetAddress.getByName("198.18.3.3"));
        assertThat(ProbeTarget.neighbour(v4("198.18.3.254"), 24)).isEqualTo(InetAddress.getByName("198.18.3.252"));
    }

    @Test
    void neighbourStaysInsideASmallSubnet() throws Exception {
        // 198.18.0.4/30 holds .5 and .6 as hosts.
        assertThat(ProbeTarget.neighbour(v4("198.18.0.5"), 30)).isEqualTo(InetAddress.getByName("198.18.0.6"));
        assertThat(ProbeTarget.neighbour(v4("198.18.0.6"), 30)).isEqualTo(InetAddress.getByName("198.18.0.5"));
    }

    @Test
    void ipv6NeighbourSkipsTheSubnetRouterAnycastAddress() throws Exception {
        assertThat(ProbeTarget.neighbour(InetAddress.getByName("2001:db8:1::1"), 64)).isEqualTo(InetAddress.getByName("2001:db8:1::3"));
        assertThat(ProbeTarget.neighbour(InetAddress.getByName("2001:db8:1::2"), 64)).isEqualTo(InetAddress.getByName("2001:db8:1::3"));
        assertThat(ProbeTarget.neighbour(InetAddress.getByName("2001:db8:1::a:ffff:ffff"), 64))
                .as("only the last 32 bits change").isEqualTo(InetAddress.getByName("2001:db8:1::a:ffff:fffe"));
    }

    @Test
    void ipv6NeighbourStaysInsideASmallSubnet() throws Exception {
        // 2001:db8::4/126 holds ::5 and ::6 as hosts (::4 is the anycast address, ::7 the top one).
        assertThat(ProbeTarget.neighbour(InetAddress.getByName("2001:db8::5"), 126)).isEqualTo(InetAddress.getByName("2001:db8::6"));
        assertThat(ProbeTarget.neighbour(InetAddress.getByName("2001:db8::6"), 126)).isEqualTo(InetAddress.getByName("2001:db8::5"));
    }

    @Test
    void ipv4DefaultGatewayComesFromProcNetRoute() throws Exception {
        List<String> route = List.of(
                "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
                "eth0\t000312C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
                "eth0\t00000000\t010312C6\t0003\t0\t0\t0\t00000000\t0\t0\t0");
        assertThat(ProbeTarget.defaultGateway(route)).contains(InetAddress.getByName("198.18.3.1"));
        assertThat(ProbeTarget.defaultGateway(route.subList(0, 2))).as("no default route").isEmpty();
    }

    @Test
    void anIpv6DefaultRouteIsFoundInProcNetIpv6Route() {
        String host = "20010db8000400000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0";
        String viaLinkLocal = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000002 00000400 00000003 00000000 00000003     eth0";
        String loopback = "00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000004 00000000 80200001       lo";
        String unreachableDefault = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo";

        assertThat(ProbeTarget.hasDefaultRoute6(List.of(host, viaLinkLocal, loopback))).isTrue();
        assertThat(ProbeTarget.hasDefaultRoute6(List.of(host, loopback))).isFalse();
        assertThat(ProbeTarget.hasDefaultRoute6(List.of(host, unreachableDefault))).as("the kernel's unreachable route on lo").isFalse();
    }

    @Test
    void theUnroutedIpv6ProbeAddressIsInTheDocumentationPrefix() throws Exception {
        assertThat(ProbeTarget.UNROUTED_IPV6).isEqualTo(InetAddress.getByName("2001:db8:ffff::1"));
    }

    private static Inet4Address v4(String text) throws Exception {
        return (Inet4Address) InetAddress.getByName(text);
    }
}
