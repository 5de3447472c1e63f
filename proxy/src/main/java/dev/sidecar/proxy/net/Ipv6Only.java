package dev.sidecar.proxy.net;

import java.io.IOException;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.SaveError;

/**
 * Sets {@code IPV6_V6ONLY} on a socket before it is bound. Netty's native transport creates every
 * IPv6 socket dual-stack and offers no option for this, but the inbound listener binds
 * {@code 0.0.0.0:4143} and {@code [::]:4143} side by side: the IPv6 one must not claim IPv4 too,
 * or the second bind fails with "address in use" (and IPv4 connections would arrive as v4-mapped
 * IPv6 sockets, where {@code SO_ORIGINAL_DST} answers for the wrong family).
 */
public final class Ipv6Only {
    private static final int IPPROTO_IPV6 = 41;
    private static final int IPV6_V6ONLY = 26;

    /** The one libc function this class needs. */
    public interface LibC {
        @SaveError
        int setsockopt(int fd, int level, int optname, Pointer optval, int optlen);
    }

    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private Ipv6Only() {}

    /** Makes the IPv6 socket {@code fd} accept IPv6 only. */
    public static void apply(int fd) throws IOException {
        Pointer one = Memory.allocateDirect(RUNTIME, 4);
        one.putInt(0, 1);
        if (LIBC.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, one, 4) != 0) {
            throw new IOException("setsockopt(IPV6_V6ONLY) on fd " + fd + " failed: " + Errno.describe(RUNTIME.getLastError()));
        }
    }
}
