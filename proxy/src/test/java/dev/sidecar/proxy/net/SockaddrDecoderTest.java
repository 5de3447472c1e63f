package dev.sidecar.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class SockaddrDecoderTest {

    @Test
    void decodesSockaddrInWithPortInNetworkOrder() {
        // AF_INET (host order, little endian), port 8080 = 0x1f90, 198.18.2.2, 8 bytes of zero padding
        byte[] raw = {2, 0, 0x1f, (byte) 0x90, (byte) 198, 18, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0};

        InetSocketAddress a = SockaddrDecoder.decode(raw, 16);

        assertThat(a.getAddress()).isInstanceOf(Inet4Address.class);
        assertThat(a.getAddress().getHostAddress()).isEqualTo("198.18.2.2");
        assertThat(a.getPort()).isEqualTo(8080);
    }

    @Test
    void decodesHighPortsAsUnsigned() {
        byte[] raw = {2, 0, (byte) 0xff, (byte) 0xfe, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};

        assertThat(SockaddrDecoder.decode(raw, 16).getPort()).isEqualTo(65534);
    }

    @Test
    void decodesSockaddrIn6() {
        byte[] raw = new byte[28];
        raw[0] = 10; // AF_INET6
        raw[2] = 0x10;
        raw[3] = (byte) 0x8f; // port 4239
        byte[] addr = {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
        System.arraycopy(addr, 0, raw, 8, 16);

        InetSocketAddress a = SockaddrDecoder.decode(raw, 28);

        assertThat(a.getAddress()).isInstanceOf(Inet6Address.class);
        assertThat(a.getAddress().getHostAddress()).isEqualTo("2001:db8:2:0:0:0:0:2");
        assertThat(a.getPort()).isEqualTo(4239);
    }

    @Test
    void keepsTheScopeOfALinkLocalAddress() {
        byte[] raw = new byte[28];
        raw[0] = 10;
        raw[3] = 80;
        raw[8] = (byte) 0xfe;
        raw[9] = (byte) 0x80;
        raw[23] = 1;
        raw[24] = 3; // scope id 3, host order

        Inet6Address ip = (Inet6Address) SockaddrDecoder.decode(raw, 28).getAddress();

        assertThat(ip.getScopeId()).isEqualTo(3);
    }

    @Test
    void turnsAV4MappedAddressIntoIpv4() {
        byte[] raw = new byte[28];
        raw[0] = 10;
        raw[3] = 80;
        raw[18] = (byte) 0xff;
        raw[19] = (byte) 0xff;
        raw[20] = 10;
        raw[23] = 7;

        assertThat(SockaddrDecoder.decode(raw, 28).getAddress().getHostAddress()).isEqualTo("10.0.0.7");
    }

    @Test
    void rejectsAnUnknownFamilyNamingIt() {
        byte[] raw = new byte[16];
        raw[0] = 1; // AF_UNIX

        assertThatThrownBy(() -> SockaddrDecoder.decode(raw, 16))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unsupported address family 1 (want AF_INET 2 or AF_INET6 10)");
    }

    @Test
    void rejectsATruncatedSockaddrIn6() {
        byte[] raw = new byte[28];
        raw[0] = 10;

        assertThatThrownBy(() -> SockaddrDecoder.decode(raw, 16))
                .hasMessage("sockaddr_in6 too short: 16 bytes, want 28");
    }
}
