package io.netty.channel.uring;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;

/**
 * Netty 4.2.18's io_uring handler builds, per event loop and up front, {@code ByteBuffer} views the
 * relay never uses: together about 0.9 MiB of live heap per loop, more committed with the heap's
 * headroom. Each is cut before the loop runs; on any failure it is left as Netty built it.
 *
 * <ul>
 *   <li>1,024 {@code msghdr} slots for zero-copy {@code sendmsg} of several buffers at once (about
 *       8,000 views). The relay never turns zero-copy writes on (Netty's default threshold keeps
 *       them off); one slot would still work if it did: when it is full, Netty submits what is
 *       queued and reuses it.
 *   <li>One view per completion-queue entry (4,096) for the second half of a 32-byte completion,
 *       built because Netty sets the ring up with {@code IORING_SETUP_CQE_MIXED}. Only commands the
 *       relay never submits ({@code URING_CMD}, {@code NOP128}) complete that large, and Netty's own
 *       channels never read that half: without the views a handler is given none, as on a ring
 *       without mixed completions.
 * </ul>
 */
final class UnusedViews {
    private static final InternalLogger log = InternalLoggerFactory.getInstance(UnusedViews.class);
    private static final short SENDMSG_SLOTS = 1;

    private UnusedViews() {}

    /** Cuts {@code handler}'s unused views; call before its event loop has run. */
    static void cut(IoUringIoHandler handler) {
        shrinkSendmsgSlots(handler);
        dropCompletionViews(handler);
    }

    private static void shrinkSendmsgSlots(IoUringIoHandler handler) {
        try {
            Field field = IoUringIoHandler.class.getDeclaredField("msgHdrMemoryArray");
            field.setAccessible(true);
            MsgHdrMemoryArray built = (MsgHdrMemoryArray) field.get(handler);
            field.set(handler, new MsgHdrMemoryArray(SENDMSG_SLOTS));
            built.release();
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("io_uring sendmsg slots left as Netty built them", e);
        }
    }

    private static void dropCompletionViews(IoUringIoHandler handler) {
        try {
            Field ring = IoUringIoHandler.class.getDeclaredField("ringBuffer");
            ring.setAccessible(true);
            CompletionQueue queue = ((RingBuffer) ring.get(handler)).ioUringCompletionQueue();
            Field views = CompletionQueue.class.getDeclaredField("extraCqeData");
            views.setAccessible(true);
            views.set(queue, (ByteBuffer[]) null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("io_uring completion-queue views left as Netty built them", e);
        }
    }
}
