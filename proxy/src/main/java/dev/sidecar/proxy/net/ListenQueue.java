package dev.sidecar.proxy.net;

import java.io.IOException;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.SaveError;

/**
 * Resets every connection waiting in a listening socket's accept queue without accepting them,
 * so without a file descriptor: {@code shutdown(fd, SHUT_RD)} on a listening TCP socket makes the
 * kernel abort each queued connection with a reset, and {@code listen(fd, backlog)} opens the
 * queue again on the same bound socket and port. For a process that has no descriptor left at all.
 * The socket must have been bound to an explicit port, as the proxy's listeners are: the kernel
 * keeps that port across the shutdown, but gives a socket bound to port 0 a new ephemeral one.
 *
 * <p>Called directly, not through Netty, whose socket wrapper would remember the shutdown and stop
 * reading the listener for good. This class is the only place that makes these two calls.
 */
public final class ListenQueue {
    private static final int SHUT_RD = 0;
    private static final int IPPROTO_TCP = 6;
    private static final int TCP_INFO = 11;
    private static final int TCP_INFO_SIZE = 104;
    // struct tcp_info: 8 bytes of u8 fields, then u32 rto, ato, snd_mss, rcv_mss, unacked. On a
    // listening socket the kernel reports its accept-queue length in tcpi_unacked.
    private static final int TCPI_UNACKED = 24;

    /** The two libc functions this class needs. */
    public interface LibC {
        @SaveError
        int shutdown(int fd, int how);

        @SaveError
        int listen(int fd, int backlog);

        int getsockopt(int fd, int level, int optname, Pointer optval, Pointer optlen);
    }

    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private ListenQueue() {}

    /** Loads libc's bindings now (at start-up: later, loading may itself need a descriptor). */
    public static void load() {
        // the static initialiser did it
    }

    /**
     * Resets every connection queued on listening socket {@code fd} and listens again with
     * {@code backlog}.
     *
     * @return how many were queued just before (TCP_INFO); -1 if the kernel did not say
     * @throws IOException naming the call and errno when either fails (the listener may then be closed)
     */
    public static int resetAll(int fd, int backlog) throws IOException {
        int queued = queued(fd);
        if (LIBC.shutdown(fd, SHUT_RD) != 0) {
            throw new IOException("shutdown(SHUT_RD) on listener fd " + fd + " failed: " + Errno.describe(RUNTIME.getLastError()));
        }
        if (LIBC.listen(fd, backlog) != 0) {
            throw new IOException("listen() on fd " + fd + " after shutdown failed: " + Errno.describe(RUNTIME.getLastError()));
        }
        return queued;
    }

    private static int queued(int fd) {
        Pointer info = Memory.allocateDirect(RUNTIME, TCP_INFO_SIZE, true);
        Pointer length = Memory.allocateDirect(RUNTIME, 4, true);
        length.putInt(0, TCP_INFO_SIZE);
        if (LIBC.getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, length) != 0 || length.getInt(0) < TCPI_UNACKED + 4) {
            return -1;
        }
        return info.getInt(TCPI_UNACKED);
    }
}
