package io.netty.channel.epoll;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.Version;
import org.junit.jupiter.api.Test;

/**
 * Fails when the Netty on the class path is not the one {@link RelayEpollWorkaround} and
 * {@code io.netty.channel.uring.PollOutRepair} were checked against, so both repairs are
 * re-examined at every upgrade (their Javadoc says how).
 */
class NettyVersionTest {
    private static final String CHECKED = "4.2.18.Final";

    @Test
    void theEpollWorkaroundWasCheckedAgainstThisNettyVersion() {
        assertChecked("netty-transport-classes-epoll", "RelayEpollWorkaround");
    }

    @Test
    void theIoUringRepairWasCheckedAgainstThisNettyVersion() {
        assertChecked("netty-transport-classes-io_uring", "io.netty.channel.uring.PollOutRepair");
    }

    private static void assertChecked(String artifact, String repair) {
        Version version = Version.identify().get(artifact);

        assertThat(version).as(artifact + " on the class path").isNotNull();
        assertThat(version.artifactVersion())
                .as("Netty changed: re-check " + repair + " (see its Javadoc), then move this pin")
                .isEqualTo(CHECKED);
    }
}
