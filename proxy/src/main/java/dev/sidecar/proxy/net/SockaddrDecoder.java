package dev.sidecar.proxy.net;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;

/**
 * Turns the raw bytes of a kernel {@code struct sockaddr_in} or {@code struct sockaddr_in6} into an
 * {@link InetSocketAddress}. Pure: it knows the C layout and nothing about sockets, so it is tested
 * on byte arrays.
 *
 * <p>Layout (x86_64 Linux): {@code sa_family} is a host-order {@code u16}; the port and the address
 * are in network byte order. {@code sockaddr_in} is 16 bytes (family, port, 4-byte address, zero
 * padding); {@code sockaddr_in6} is 28 bytes (family, port, flow info, 16-byte address, scope id).
 */
public final class SockaddrDecoder {
    /** {@code AF_INET} on Linux. */
    public static final int AF_INET = 2;
    /** {@code AF_INET6} on Linux. */
    public static final int AF_INET6 = 10;
    /** {@code sizeof(struct sockaddr_in)}. */
    public static final int SOCKADDR_IN_SIZE = 16;
    /** {@code sizeof(struct sockaddr_in6)}. */
    public static final int SOCKADDR_IN6_SIZE = 28;

    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private SockaddrDecoder() {}

    /**
     * Decodes {@code length} bytes of a socket address.
     *
     * @throws IllegalArgumentException when the family is neither AF_INET nor AF_INET6, or the
     *     length is too short for the family (the message names both)
     */
    public static InetSocketAddress decode(byte[] bytes, int length) {
        if (length < 2) {
            throw new IllegalArgumentException("sockaddr too short: " + length + " bytes");
        }
        int family = family(bytes);
        int port = (bytes[2] & 0xff) << 8 | (bytes[3] & 0xff);
        try {
            if (family == AF_INET) {
                requireLength(length, SOCKADDR_IN_SIZE, "sockaddr_in");
                byte[] addr = {bytes[4], bytes[5], bytes[6], bytes[7]};
                return new InetSocketAddress(InetAddress.getByAddress(addr), port);
            }
            if (family == AF_INET6) {
                requireLength(length, SOCKADDR_IN6_SIZE, "sockaddr_in6");
                byte[] addr = new byte[16];
                System.arraycopy(bytes, 8, addr, 0, 16);
                int scope = hostInt(bytes, 24);
                // getByAddress turns ::ffff:a.b.c.d into an Inet4Address, which is what a caller
                // comparing against IPv4 addresses wants.
                InetAddress ip = scope != 0 && !isV4Mapped(addr)
                        ? Inet6Address.getByAddress(null, addr, scope)
                        : InetAddress.getByAddress(addr);
                return new InetSocketAddress(ip, port);
            }
        } catch (UnknownHostException e) {
            throw new IllegalStateException("unreachable: address of fixed length rejected", e);
        }
        throw new IllegalArgumentException("unsupported address family " + family + " (want AF_INET 2 or AF_INET6 10)");
    }

    /** The host-order {@code sa_family} of the address in {@code bytes}. */
    static int family(byte[] bytes) {
        return LITTLE_ENDIAN
                ? (bytes[0] & 0xff) | (bytes[1] & 0xff) << 8
                : (bytes[0] & 0xff) << 8 | (bytes[1] & 0xff);
    }

    private static int hostInt(byte[] b, int off) {
        int b0 = b[off] & 0xff, b1 = b[off + 1] & 0xff, b2 = b[off + 2] & 0xff, b3 = b[off + 3] & 0xff;
        return LITTLE_ENDIAN ? b0 | b1 << 8 | b2 << 16 | b3 << 24 : b0 << 24 | b1 << 16 | b2 << 8 | b3;
    }

    private static boolean isV4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    private static void requireLength(int length, int want, String struct) {
        if (length < want) {
            throw new IllegalArgumentException(struct + " too short: " + length + " bytes, want " + want);
        }
    }
}
