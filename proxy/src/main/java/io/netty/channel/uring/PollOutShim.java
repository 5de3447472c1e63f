package io.netty.channel.uring;

import io.netty.channel.IoEvent;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;

/**
 * Stands between one io_uring channel and its registration (see {@link PollOutRepair}): it watches
 * the channel's one-shot POLLOUT poll, and when that poll completes with only {@code POLLRDHUP}
 * (the peer's FIN, no room yet) it keeps the completion until {@link WritableWatch} says the
 * socket is writable, then hands it to the channel with {@code POLLOUT}. Everything else passes
 * through. Runs on the channel's event loop only, as Netty's channels submit from there.
 */
final class PollOutShim implements IoUringIoHandle, IoRegistration {
    private static final int POLLERR = 0x8; // <poll.h>; Netty's Native names only the three it uses
    private static final int POLLHUP = 0x10;

    private final IoUringIoHandle channel;
    private final WritableWatch watch; // null: no epoll set, retry at once instead of waiting
    private IoRegistration registration;

    private long pollOutId;    // the armed POLLOUT poll as submit() returned it (what a cancel names), 0: none
    private long pollOutData;  // its user data, as its completion carries it
    private int pollOutFd;
    private boolean held;      // its completion came without POLLOUT and waits in the watch
    final long key;            // this channel in the watch's epoll set
    boolean inEpollSet;        // added to the set (one-shot: disabled after each wake, not removed)

    PollOutShim(IoUringIoHandle channel, WritableWatch watch) {
        this.channel = channel;
        this.watch = watch;
        this.key = watch == null ? 0 : watch.nextKey();
    }

    void attach(IoRegistration registration) {
        this.registration = registration;
    }

    int fd() {
        return pollOutFd;
    }

    // ---- the channel's submissions

    @Override
    public long submit(IoOps ops) {
        IoUringIoOps op = (IoUringIoOps) ops;
        long id = registration.submit(op);
        if (isOneShotPollOut(op)) {
            pollOutId = id;
            pollOutData = op.userData();
            pollOutFd = op.fd();
        } else if (op.opcode() == Native.IORING_OP_ASYNC_CANCEL && pollOutId != 0 && op.union2() == pollOutId) {
            // Closing. A held poll is no longer in the kernel, so the cancel finds nothing; Netty's
            // state after it is the same as after any cancelled POLLOUT poll.
            pollOutId = 0;
            if (held) {
                held = false;
                watch.forget(this, true);
            }
        }
        return id;
    }

    private static boolean isOneShotPollOut(IoUringIoOps op) {
        // A poll's events are in the SQE's poll32_events (union3), its flags in len.
        return op.opcode() == Native.IORING_OP_POLL_ADD && (op.union3() & Native.POLLOUT) != 0
                && (op.len() & Native.IORING_POLL_ADD_MULTI) == 0;
    }

    @Override
    public <T> T attachment() {
        return registration.attachment();
    }

    @Override
    public boolean isValid() {
        return registration.isValid();
    }

    @Override
    public boolean cancel() {
        return registration.cancel();
    }

    // ---- the kernel's completions

    @Override
    public void handle(IoRegistration ignored, IoEvent ioEvent) {
        IoUringIoEvent event = (IoUringIoEvent) ioEvent;
        if (pollOutId != 0 && event.opcode() == Native.IORING_OP_POLL_ADD && event.userData() == pollOutData) {
            int res = event.res();
            if (res >= 0 && (res & (Native.POLLOUT | POLLERR | POLLHUP)) == 0) {
                hold();
                return;
            }
            pollOutId = 0;
        }
        channel.handle(this, event);
    }

    private void hold() {
        if (watch != null && watch.await(this)) {
            held = true;
        } else {
            writable();
        }
    }

    /** The watch saw room in the send buffer (or an error, which the write will report). */
    void writable() {
        held = false;
        pollOutId = 0;
        channel.handle(this, new IoUringIoEvent(Native.POLLOUT, 0, Native.IORING_OP_POLL_ADD, pollOutData));
    }

    // ---- the handle's life cycle

    @Override
    public void registered() {
        channel.registered();
    }

    @Override
    public void unregistered() {
        if (held) {
            // The descriptor is closed by now, which took it out of the epoll set.
            held = false;
            watch.forget(this, false);
        }
        channel.unregistered();
    }

    @Override
    public void close() throws Exception {
        channel.close();
    }
}
