package io.netty.channel.epoll;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.Version;
import org.junit.jupiter.api.Test;

/**
 * Fails when the Netty on the class path is not the one {@link RelayEpollWorkaround} was checked
 * against, so the work-around is re-examined at every upgrade (its Javadoc says how).
 */
class NettyVersionTest {
    private static final String CHECKED = "4.2.18.Final";

    @Test
    void theEpollWorkaroundWasCheckedAgainstThisNettyVersion() {
        Version epoll = Version.identify().get("netty-transport-classes-epoll");

        assertThat(epoll).as("netty-transport-classes-epoll on the class path").isNotNull();
        assertThat(epoll.artifactVersion())
                .as("Netty changed: re-check RelayEpollWorkaround (see its Javadoc), then move this pin")
                .isEqualTo(CHECKED);
    }
}
