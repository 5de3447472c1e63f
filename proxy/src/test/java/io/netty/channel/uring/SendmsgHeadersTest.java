package io.netty.channel.uring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.IoHandler;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.lang.reflect.Field;
import org.junit.jupiter.api.Test;

class SendmsgHeadersTest {
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
        IoUringIoHandler plain = (IoUringIoHandler) IoUringIoHandler.newFactory().newHandler(HERE);
        IoHandler repaired = PollOutRepair.factory().newHandler(HERE);
        plain.initialize();
        repaired.initialize();
        try {
            assertThat(plain.msgHdrMemoryArray().capacity()).as("Netty's own").isEqualTo(1024);
            assertThat(netty(repaired).msgHdrMemoryArray().capacity()).isEqualTo(1);
        } finally {
            plain.destroy();
            repaired.destroy();
        }
    }

    private static IoUringIoHandler netty(IoHandler repaired) throws ReflectiveOperationException {
        Field uring = PollOutRepair.class.getDeclaredField("uring");
        uring.setAccessible(true);
        return (IoUringIoHandler) uring.get(repaired);
    }
}
