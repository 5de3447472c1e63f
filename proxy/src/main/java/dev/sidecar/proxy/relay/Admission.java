package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.net.ListenQueue;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.Socket;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's room for connections, shared by every listener (they draw on one process's file
 * descriptors): a count of accepted connections against {@code --max-connections}, and one
 * reserve descriptor for answering connections when the process has no descriptor left at all.
 *
 * <p>Without the reserve, an accept that fails with EMFILE leaves the connection in the kernel's
 * backlog, and epoll (level-triggered) reports it again at once: Netty's
 * {@code ServerBootstrapAcceptor} then stops accepting for a whole second, and every connection
 * that arrives meanwhile waits unanswered. With it, the descriptor is closed, the waiting
 * connections are accepted and reset one by one through the freed slot, and it is opened again
 * (the technique libuv and nginx-based proxies use).
 *
 * <p>The slot is free for a moment between closing the reserve and accepting, and again between
 * resetting and reopening: another event loop creating an upstream socket can take it. The
 * reserve is then lost until a connection closes ({@link #release} takes it back); meanwhile
 * {@link AcceptGate} has the kernel reset the whole queue ({@link ListenQueue}). The default
 * {@code --max-connections} leaves enough descriptors free that neither is needed.
 */
final class Admission {
    private static final Logger log = LoggerFactory.getLogger(Admission.class);
    /**
     * At most this many connections are reset per accept failure: the whole backlog. All of them,
     * because epoll need not report the listener again for connections that were already waiting
     * (measured: with a batch of 64, 118 of 400 connections stayed in the backlog, unanswered,
     * until a new one arrived).
     */
    static final int RESET_BATCH = Listeners.BACKLOG;

    private final int maxConnections;
    private final AtomicInteger open = new AtomicInteger();
    // Guarded by this: swapping the reserve out and back is one step for every event loop, or two
    // loops could each close "the" reserve and one of them would find nothing free.
    private FileDescriptor reserve;
    // Read without the lock on every close, so a close costs nothing while the reserve is held.
    private volatile boolean reserveLost;

    Admission(int maxConnections) {
        if (maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections must be positive: " + maxConnections);
        }
        this.maxConnections = maxConnections;
        this.reserve = openReserve();
        ListenQueue.load(); // now: loading it once out of descriptors could fail
    }

    int maxConnections() {
        return maxConnections;
    }

    /** Accepted connections not yet closed. */
    int open() {
        return open.get();
    }

    /** Takes a place for one accepted connection; false if the bound is reached. */
    boolean tryAdmit() {
        while (true) {
            int n = open.get();
            if (n >= maxConnections) {
                return false;
            }
            if (open.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /**
     * Gives back a place taken by {@link #tryAdmit}. A closed connection has just freed two
     * descriptors: if the reserve was lost (another thread took the slot it freed), take it back now.
     */
    void release() {
        open.decrementAndGet();
        if (reserveLost) {
            synchronized (this) {
                if (reserve == null) {
                    reserve = openReserve();
                }
                reserveLost = reserve == null;
            }
        }
    }

    /**
     * The process is out of descriptors and {@code listener} may have connections waiting: frees
     * the reserve, accepts and resets every one waiting (up to {@link #RESET_BATCH}) through it, and
     * takes the reserve back.
     *
     * @return how many were reset (0: nobody was waiting); -1 if there was no reserve, or another
     *     thread took the freed slot before any connection could be accepted through it
     */
    synchronized int resetWaiting(Socket listener) {
        if (reserve == null && (reserve = openReserve()) == null) {
            reserveLost = true;
            return -1;
        }
        try {
            reserve.close();
        } catch (IOException e) {
            log.debug("closing the reserve descriptor failed", e);
        }
        reserve = null;
        int reset = 0;
        boolean slotTaken = false;
        byte[] address = new byte[26]; // Netty's accept() wants room for a sockaddr and its length
        try {
            for (int fd; reset < RESET_BATCH && (fd = listener.accept(address)) >= 0; reset++) { // -1: none left
                abort(fd);
            }
        } catch (IOException stillNoRoom) {
            slotTaken = true; // another thread took the freed descriptor; the transport reports the rest again
        }
        reserve = openReserve();
        reserveLost = reserve == null;
        return slotTaken && reset == 0 ? -1 : reset;
    }

    /** Closes the reserve; part of closing the listeners. */
    synchronized void close() {
        if (reserve != null) {
            try {
                reserve.close();
            } catch (IOException ignored) {
                // nothing holds it any more either way
            }
            reserve = null;
        }
    }

    private static void abort(int fd) {
        Socket s = new Socket(fd);
        try {
            s.setSoLinger(0); // close() now sends RST: a refusal, not an empty answer
        } catch (IOException ignored) {
            // the peer is gone already; closing is all that is left
        }
        try {
            s.close();
        } catch (IOException ignored) {
            // closed either way
        }
    }

    private static FileDescriptor openReserve() {
        try {
            return FileDescriptor.from("/dev/null");
        } catch (IOException e) {
            log.debug("cannot open the reserve descriptor (will retry on the next accept failure): {}", e.getMessage());
            return null;
        }
    }
}
