package dev.sidecar.proxy.net;

import io.netty.channel.Channel;
import dev.sidecar.proxy.transport.Transport;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.SaveError;

/**
 * The original destination of a connection that iptables REDIRECTed to this process, read with
 * {@code getsockopt(fd, SOL_IP, SO_ORIGINAL_DST)} (or {@code SOL_IPV6, IP6T_SO_ORIGINAL_DST} on
 * an IPv6 socket). This class is the only place that makes that call; decoding the answer is
 * {@link SockaddrDecoder}'s job.
 *
 * <p>It runs on the accept path, so each thread reuses one native scratch block for the option
 * value and its length: a lookup allocates only the returned address.
 *
 * <p>{@link #load()} loads libc through jnr-ffi (and so extracts jffi's stub library); call it
 * before dropping privileges, while /tmp is still writable by us.
 */
public final class OriginalDst {
    static final int SOL_IP = 0;
    static final int SOL_IPV6 = 41;
    static final int SO_ORIGINAL_DST = 80;
    static final int IP6T_SO_ORIGINAL_DST = 80;
    private static final int ENOENT = 2;
    private static final int ENOPROTOOPT = 92;
    private static final int VALUE_SIZE = 32; // >= sizeof(struct sockaddr_in6), keeps the length word aligned

    /** The one libc function this class needs. */
    public interface LibC {
        @SaveError
        int getsockopt(int fd, int level, int optname, Pointer optval, Pointer optlen);
    }

    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private OriginalDst() {}

    /** Loads libc and jffi now; idempotent. */
    public static void load() {
        SCRATCH.get();
    }

    /**
     * The original destination of an accepted channel (epoll or io_uring), or null when the connection was not
     * redirected (no conntrack entry, or conntrack not loaded for this family).
     *
     * @throws IOException when the kernel refuses the lookup for another reason (errno in message)
     */
    public static InetSocketAddress of(Channel accepted) throws IOException {
        int fd = Transport.fd(accepted);
        SocketAddress local = accepted.localAddress();
        boolean ipv6 = local instanceof InetSocketAddress a && a.getAddress() instanceof Inet6Address;
        return lookup(fd, ipv6);
    }

    /** As {@link #of(Channel)} for a raw socket descriptor; {@code ipv6} picks the option level. */
    public static InetSocketAddress lookup(int fd, boolean ipv6) throws IOException {
        Scratch s = SCRATCH.get();
        s.length.putInt(0, VALUE_SIZE);
        int rc = ipv6
                ? LIBC.getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, s.value, s.length)
                : LIBC.getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, s.value, s.length);
        if (rc != 0) {
            int errno = RUNTIME.getLastError();
            if (errno == ENOENT || errno == ENOPROTOOPT) {
                return null; // no NAT mapping: the connection was not redirected
            }
            throw new IOException("getsockopt(" + (ipv6 ? "IP6T_SO_ORIGINAL_DST" : "SO_ORIGINAL_DST")
                    + ") on fd " + fd + " failed: " + Errno.describe(errno));
        }
        int len = Math.min(s.length.getInt(0), VALUE_SIZE);
        s.value.get(0, s.bytes, 0, len);
        return SockaddrDecoder.decode(s.bytes, len);
    }

    /** Per-thread native memory: the option value, its length word, and a heap copy to decode. */
    private static final class Scratch {
        final Pointer block = Memory.allocateDirect(RUNTIME, VALUE_SIZE + 8, true);
        final Pointer value = block.slice(0, VALUE_SIZE);
        final Pointer length = block.slice(VALUE_SIZE, 4);
        final byte[] bytes = new byte[VALUE_SIZE];
    }
}
