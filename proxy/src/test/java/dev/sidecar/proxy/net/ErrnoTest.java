package dev.sidecar.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ErrnoTest {

    @Test
    void nettysConnectMessagesGiveBackTheirErrno() {
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
        assertThat(Errno.fromMessage("connection timed out: /198.18.2.2:9998")).isEmpty();
        assertThat(Errno.fromMessage(null)).isEmpty();
        assertThat(Errno.fromMessage("")).isEmpty();
    }

    @Test
    void describeNamesTheConstant() {
        assertThat(Errno.describe(Errno.EMFILE)).isEqualTo("EMFILE: too many open files in this process (24)");
        assertThat(Errno.describe(4242)).isEqualTo("errno (4242)");
    }
}
