package dev.sidecar.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ConnectionBudgetTest {

    @Test
    void aLimitOf256LeavesRoomFor96RelayedConnections() {
        // 64 descriptors reserved, two per connection: 96 * 2 + 64 = 256.
        assertThat(ConnectionBudget.defaultMaxConnections(256)).isEqualTo(96);
    }

    @Test
    void theReserveIsAnEighthOfTheLimitBetween64And1024() {
        assertThat(ConnectionBudget.defaultMaxConnections(1024)).isEqualTo((1024 - 128) / 2);
        assertThat(ConnectionBudget.defaultMaxConnections(8192)).isEqualTo((8192 - 1024) / 2);
        assertThat(ConnectionBudget.defaultMaxConnections(1_048_576)).isEqualTo((1_048_576 - 1024) / 2);
    }

    @Test
    void everyDefaultFitsTheLimitWithTheReserveLeftOver() {
        for (long limit = 66; limit <= 1 << 20; limit = limit * 3 / 2) {
            int max = ConnectionBudget.defaultMaxConnections(limit);
            assertThat(2L * max + ConnectionBudget.MIN_RESERVE).as("limit %d", limit).isLessThanOrEqualTo(limit);
        }
    }

    @Test
    void aLimitTooSmallForAnyConnectionStillAllowsOne() {
        assertThat(ConnectionBudget.defaultMaxConnections(32)).isEqualTo(1);
    }

    @Test
    void aHugeLimitIsCappedAtTheLargestInt() {
        assertThat(ConnectionBudget.defaultMaxConnections(Long.MAX_VALUE)).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void thisProcessHasAKnownLimit() {
        assertThat(ConnectionBudget.processFdLimit()).isPositive();
    }
}
