package io.netty.channel.uring;

import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.util.collection.LongObjectHashMap;
import io.netty.util.collection.LongObjectMap;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Platform;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.SaveError;

/**
 * One event loop's epoll set of half-closed sockets that wait for room to write (see
 * {@link PollOutRepair}). Asked for {@code EPOLLOUT} only, epoll does not wake for the peer's FIN
 * as an io_uring poll does. The set itself is watched from the loop's ring, with a one-shot
 * {@code POLL_ADD(POLLIN)} on its descriptor armed while anything waits, so no thread blocks.
 */
final class WritableWatch implements IoUringIoHandle {
    private static final InternalLogger log = InternalLoggerFactory.getInstance(WritableWatch.class);

    /** The libc calls of an epoll set. */
    public interface LibC {
        @SaveError
        int epoll_create1(int flags);

        @SaveError
        int epoll_ctl(int epfd, int op, int fd, Pointer event);

        @SaveError
        int epoll_wait(int epfd, Pointer events, int maxEvents, int timeout);

        int close(int fd);
    }

    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);
    private static final int EPOLL_CLOEXEC = 0x80000;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLL_CTL_DEL = 2;
    private static final int EPOLL_CTL_MOD = 3;
    private static final int EPOLLOUT = 0x4;
    private static final int EPOLLONESHOT = 1 << 30;
    private static final int ENOENT = 2;
    private static final int EEXIST = 17;
    // struct epoll_event is packed on x86-64 (u32 events, u64 data: 12 bytes), aligned elsewhere.
    private static final boolean PACKED = Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64;
    private static final int EVENT_SIZE = PACKED ? 12 : 16;
    private static final int DATA_OFFSET = PACKED ? 4 : 8;
    private static final int BATCH = 64;
    private static final short POLL_DATA = 1;

    private final int epfd;
    private final Pointer events = Memory.allocateDirect(RUNTIME, EVENT_SIZE * BATCH, true);
    private final LongObjectMap<PollOutShim> waiting = new LongObjectHashMap<>();
    private IoRegistration registration;
    private long pollId; // the armed POLL_ADD on the set, 0: none
    private long lastKey;
    private boolean closed;

    WritableWatch() throws IOException {
        epfd = LIBC.epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0) {
            throw new IOException("epoll_create1 failed: errno " + RUNTIME.getLastError());
        }
    }

    void attach(IoRegistration registration) {
        this.registration = registration;
    }

    long nextKey() {
        return ++lastKey;
    }

    /** Wakes {@code shim} once its socket is writable; false when epoll refused it (logged). */
    boolean await(PollOutShim shim) {
        if (closed) {
            return false;
        }
        events.putInt(0, EPOLLOUT | EPOLLONESHOT);
        events.putLong(DATA_OFFSET, shim.key);
        int op = shim.inEpollSet ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        int rc = LIBC.epoll_ctl(epfd, op, shim.fd(), events);
        if (rc != 0) {
            int errno = RUNTIME.getLastError();
            if (errno == ENOENT || errno == EEXIST) { // our idea of membership was stale
                op = op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
                rc = LIBC.epoll_ctl(epfd, op, shim.fd(), events);
                errno = rc == 0 ? 0 : RUNTIME.getLastError();
            }
            if (rc != 0) {
                log.warn("io_uring: epoll_ctl for fd {} failed: {}; it retries its writes without waiting",
                        shim.fd(), "errno " + errno);
                return false;
            }
        }
        shim.inEpollSet = true;
        waiting.put(shim.key, shim);
        armIfWaiting();
        return true;
    }

    /** Stops waiting for {@code shim}; {@code remove}: its descriptor is still open, take it out of the set. */
    void forget(PollOutShim shim, boolean remove) {
        waiting.remove(shim.key);
        if (remove && shim.inEpollSet && !closed) {
            LIBC.epoll_ctl(epfd, EPOLL_CTL_DEL, shim.fd(), null);
        }
        shim.inEpollSet = false;
    }

    @Override
    public void handle(IoRegistration ignored, IoEvent ioEvent) {
        IoUringIoEvent event = (IoUringIoEvent) ioEvent;
        if (event.opcode() != Native.IORING_OP_POLL_ADD) {
            return; // the cancel of our poll, at close
        }
        pollId = 0;
        if (event.res() < 0 || closed) {
            return;
        }
        List<PollOutShim> ready = new ArrayList<>();
        int n;
        do {
            n = LIBC.epoll_wait(epfd, events, BATCH, 0);
            for (int i = 0; i < n; i++) {
                PollOutShim shim = waiting.remove(events.getLong((long) i * EVENT_SIZE + DATA_OFFSET));
                if (shim != null) { // null: forgotten since, or a stale wake
                    ready.add(shim);
                }
            }
        } while (n == BATCH);
        // Woken after the scan: a channel may close, or wait again, from inside writable().
        for (PollOutShim shim : ready) {
            shim.writable();
        }
        armIfWaiting();
    }

    /** A one-shot poll on the set while any socket waits in it: the set is readable once one is writable. */
    private void armIfWaiting() {
        if (pollId == 0 && !waiting.isEmpty()) {
            pollId = registration.submit(IoUringIoOps.newPollAdd(epfd, (byte) 0, Native.POLLIN, 0, POLL_DATA));
        }
    }

    @Override
    public void close() {
        // The loop is shutting down: its channels are closed with it.
        if (registration != null) {
            registration.cancel();
        }
    }

    /** Closes the epoll set, once the ring is gone. */
    void closeSet() {
        if (!closed) {
            closed = true;
            LIBC.close(epfd);
        }
    }
}
