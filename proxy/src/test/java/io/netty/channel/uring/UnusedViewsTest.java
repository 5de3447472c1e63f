package io.netty.channel.uring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.IoHandler;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class UnusedViewsTest {
    /** Runs on the test's thread, as the event loop's thread would. */
    private static final ThreadAwareExecutor HERE = new ThreadAwareExecutor() {
        @Override
        public boolean isExecutorThread(Thread thread) {
            return thread == Thread.currentThread();
        }

        @Override
        public void execute(Runnable command) {
            command.run();
        }
    };

    @Test
    void eachEventLoopOfTheRepairedFactoryKeepsOneSendmsgSlotInsteadOf1024() throws Exception {
        assumeTrue(IoUring.isAvailable(), "io_uring unavailable here");
        withBoth((plain, repaired) -> {
            assertThat(plain.msgHdrMemoryArray().capacity()).as("Netty's own").isEqualTo(1024);
            assertThat(repaired.msgHdrMemoryArray().capacity()).isEqualTo(1);
        });
    }

    @Test
    void eachEventLoopOfTheRepairedFactoryBuildsNoViewsOfItsCompletionQueue() throws Exception {
        assumeTrue(IoUring.isAvailable(), "io_uring unavailable here");
        assumeTrue(IoUring.isSetupCqeMixedSupported(), "no mixed completions here, so Netty builds no views");
        withBoth((plain, repaired) -> {
            assertThat(completionViews(plain)).as("Netty's own").hasSize(IoUring.DEFAULT_CQ_SIZE);
            assertThat(completionViews(repaired)).isNull();
        });
    }

    private interface HandlerCheck {
        void check(IoUringIoHandler plain, IoUringIoHandler repaired) throws Exception;
    }

    /** Netty's own handler and the repaired factory's, both initialised, destroyed after {@code check}. */
    private static void withBoth(HandlerCheck check) throws Exception {
        IoUringIoHandler plain = (IoUringIoHandler) IoUringIoHandler.newFactory().newHandler(HERE);
        IoHandler repaired = PollOutRepair.factory().newHandler(HERE);
        plain.initialize();
        repaired.initialize();
        try {
            check.check(plain, netty(repaired));
        } finally {
            plain.destroy();
            repaired.destroy();
        }
    }

    private static ByteBuffer[] completionViews(IoUringIoHandler handler) throws ReflectiveOperationException {
        Field ring = IoUringIoHandler.class.getDeclaredField("ringBuffer");
        ring.setAccessible(true);
        Field views = CompletionQueue.class.getDeclaredField("extraCqeData");
        views.setAccessible(true);
        return (ByteBuffer[]) views.get(((RingBuffer) ring.get(handler)).ioUringCompletionQueue());
    }

    private static IoUringIoHandler netty(IoHandler repaired) throws ReflectiveOperationException {
        Field uring = PollOutRepair.class.getDeclaredField("uring");
        uring.setAccessible(true);
        return (IoUringIoHandler) uring.get(repaired);
    }
}
