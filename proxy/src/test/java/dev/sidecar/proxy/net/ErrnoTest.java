package dev.sidecar.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ErrnoTest {

    @Test
    void netty42sNumberedMessagesGiveBackTheirErrno() {
        // As Netty 4.2.18 words them (seen in ConnectionLimitsIT), address suffix and all.
        assertThat(Errno.fromMessage("connect(..) failed with error(-99): Cannot assign requested address: /198.18.5.2:8080"))
                .hasValue(Errno.EADDRNOTAVAIL);
        assertThat(Errno.fromMessage("finishConnect(..) failed with error(-111): Connection refused: /198.18.5.2:9999"))
                .hasValue(Errno.ECONNREFUSED);
        assertThat(Errno.fromMessage("accept(..) failed with error(-24): Too many open files")).hasValue(Errno.EMFILE);
    }

    @Test
    void strerrorTextsAloneGiveBackTheirErrno() {
        assertThat(Errno.fromMessage("connect(..) failed: Cannot assign requested address")).hasValue(Errno.EADDRNOTAVAIL);
        assertThat(Errno.fromMessage("finishConnect(..) failed: Connection refused")).hasValue(Errno.ECONNREFUSED);
        assertThat(Errno.fromMessage("finishConnect(..) failed: No route to host")).hasValue(Errno.EHOSTUNREACH);
        assertThat(Errno.fromMessage("finishConnect(..) failed: Connection timed out")).hasValue(Errno.ETIMEDOUT);
        assertThat(Errno.fromMessage("connect(..) failed: Operation not permitted")).hasValue(Errno.EPERM);
    }

    @Test
    void processAndSystemDescriptorExhaustionAreToldApart() {
        assertThat(Errno.fromMessage("accept(..) failed: Too many open files")).hasValue(Errno.EMFILE);
        assertThat(Errno.fromMessage("newSocketStream(..) failed: Too many open files in system")).hasValue(Errno.ENFILE);
    }

    @Test
    void otherTextsNameNoErrno() {
        assertThat(Errno.fromMessage("connection was not redirected")).isEmpty();
        assertThat(Errno.fromMessage(null)).isEmpty();
        assertThat(Errno.fromMessage("")).isEmpty();
    }

    @Test
    void describeNamesTheConstant() {
        assertThat(Errno.describe(Errno.EMFILE)).isEqualTo("EMFILE: too many open files in this process (24)");
        assertThat(Errno.describe(4242)).isEqualTo("errno (4242)");
    }
}
