package io.netty.channel.uring;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoRegistration;
import io.netty.util.concurrent.ThreadAwareExecutor;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

/**
 * Netty 4.2.18's io_uring {@link IoHandler} with one repair: a socket whose peer has sent FIN can
 * still wait for room in its send buffer. Used for every io_uring event loop
 * ({@code Transport.IO_URING}). It lives in Netty's package because the fields of a submitted
 * {@link IoUringIoOps} are package-private.
 *
 * <p>The fault: when a write cannot finish, Netty arms a one-shot {@code POLL_ADD(POLLOUT)}. The
 * kernel adds {@code POLLERR|POLLHUP|POLLRDHUP} to every io_uring poll, so once the peer has said
 * FIN ({@code POLLRDHUP} stays true) that poll completes at once with {@code POLLRDHUP} and without
 * {@code POLLOUT}. Netty dispatches a poll's completion by the bits of its result, not by which
 * poll it was, so it never runs its POLLOUT path: the flag that says "a POLLOUT poll is armed"
 * stays set, every later flush is skipped, and the bytes left in the channel's buffer are never
 * sent. A relay meets this on every half-closed connection whose reader is slower than its writer
 * (the client said FIN and reads a large reply, or the target did and reads a large upload).
 *
 * <p>The repair ({@link PollOutShim}, one per channel) holds such a completion back and asks a
 * per-loop epoll set ({@link WritableWatch}) to say when the socket is writable: epoll reports
 * only what it is asked for, so the peer's FIN does not wake it. Then Netty gets the completion it
 * waited for, with {@code POLLOUT}, and writes again. Nothing else changes: every other completion
 * and submission passes through untouched.
 *
 * <p>At every Netty upgrade ({@code NettyVersionTest} fails until it is re-checked): look in
 * {@code AbstractIoUringChannel.AbstractUringUnsafe.pollAddComplete} for a dispatch by which poll
 * completed; if it is there, use {@link IoUringIoHandler#newFactory()} directly and run
 * {@code HalfClosedWriteTest} (it must fail on io_uring without the repair).
 */
public final class PollOutRepair implements IoHandler {
    private static final InternalLogger log = InternalLoggerFactory.getInstance(PollOutRepair.class);

    private final IoHandler uring;
    private WritableWatch watch; // null until initialize(), and when epoll could not be set up

    private PollOutRepair(IoHandler uring) {
        this.uring = uring;
    }

    /** Netty's io_uring handler factory, each handler wrapped in the repair (and its unused buffer views cut). */
    public static IoHandlerFactory factory() {
        IoHandlerFactory uring = IoUringIoHandler.newFactory();
        return new IoHandlerFactory() {
            @Override
            public IoHandler newHandler(ThreadAwareExecutor eventLoop) {
                IoHandler handler = uring.newHandler(eventLoop);
                if (handler instanceof IoUringIoHandler netty) {
                    UnusedViews.cut(netty);
                }
                return new PollOutRepair(handler);
            }

            @Override
            public boolean isChangingThreadSupported() {
                return uring.isChangingThreadSupported();
            }
        };
    }

    @Override
    public void initialize() {
        uring.initialize();
        // At start-up, before the process can be short of descriptors: the set costs one.
        try {
            WritableWatch w = new WritableWatch();
            w.attach(uring.register(w));
            watch = w;
        } catch (Exception | LinkageError e) {
            log.warn("io_uring: no epoll set for half-closed sockets ({}); such a socket retries its writes without waiting",
                    e.getMessage());
        }
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
        if (!(handle instanceof IoUringIoHandle channel)) {
            return uring.register(handle); // Netty's own error for a foreign handle
        }
        PollOutShim shim = new PollOutShim(channel, watch);
        shim.attach(uring.register(shim));
        return shim;
    }

    @Override
    public int run(IoHandlerContext context) {
        return uring.run(context);
    }

    @Override
    public void prepareToDestroy() {
        uring.prepareToDestroy();
    }

    @Override
    public void destroy() {
        uring.destroy();
        if (watch != null) {
            watch.closeSet();
        }
    }

    @Override
    public void wakeup() {
        uring.wakeup();
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return uring.isCompatible(handleType);
    }
}
