package io.netty.channel.uring;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import java.lang.reflect.Field;

/**
 * Netty 4.2.18's io_uring handler builds, per event loop and up front, 1,024 {@code msghdr}
 * slots for zero-copy {@code sendmsg} of several buffers at once: about 8,000 {@code ByteBuffer}
 * views, some 0.6 MiB of live heap per loop (about 1 MiB committed, with the heap's headroom).
 * The relay never turns zero-copy writes on (Netty's default threshold keeps them off), so each
 * loop's array is swapped for one of a single slot, which would still work if they were: when it
 * is full, Netty submits what is queued and reuses it.
 */
final class SendmsgHeaders {
    private static final InternalLogger log = InternalLoggerFactory.getInstance(SendmsgHeaders.class);
    private static final short SLOTS = 1;

    private SendmsgHeaders() {}

    /** Shrinks {@code handler}'s slots before its event loop has run; on any failure leaves it as it was. */
    static void shrink(IoUringIoHandler handler) {
        try {
            Field field = IoUringIoHandler.class.getDeclaredField("msgHdrMemoryArray");
            field.setAccessible(true);
            MsgHdrMemoryArray built = (MsgHdrMemoryArray) field.get(handler);
            field.set(handler, new MsgHdrMemoryArray(SLOTS));
            built.release();
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("io_uring sendmsg slots left as Netty built them", e);
        }
    }
}
