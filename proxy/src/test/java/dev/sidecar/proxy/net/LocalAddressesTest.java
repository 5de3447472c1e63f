package dev.sidecar.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The cache and its re-read limits, with a scripted address source and clock (no network). */
class LocalAddressesTest {
    private static final InetAddress POD = ip("198.18.1.1"), POD6 = ip("2001:db8:1::1"), FOREIGN = ip("198.18.2.2"),
            ADDED = ip("198.18.1.7");

    private final Set<InetAddress> interfaces = new CopyOnWriteArraySet<>(List.of(POD, POD6, ip("127.0.0.1"), ip("::1")));
    private final AtomicInteger reads = new AtomicInteger();
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private boolean failing;

    private LocalAddresses local() throws IOException {
        return new LocalAddresses(() -> {
            reads.incrementAndGet();
            if (failing) {
                throw new IOException("netlink gone");
            }
            return Set.copyOf(interfaces);
        }, now::get);
    }

    @Test
    void everyInterfaceAddressOfBothFamiliesIsLocalButLoopbackIsNot() throws IOException {
        LocalAddresses local = local();

        assertThat(local.contains(POD)).isTrue();
        assertThat(local.contains(POD6)).isTrue();
        assertThat(local.contains(ip("127.0.0.1"))).isFalse();
        assertThat(local.contains(ip("::1"))).isFalse();
        assertThat(local.snapshot()).containsExactlyInAnyOrder(POD, POD6);
    }

    @Test
    void hitsInAFreshSnapshotNeverReread() throws IOException {
        LocalAddresses local = local();

        for (int i = 0; i < 1000; i++) {
            assertThat(local.contains(POD)).isTrue();
            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
        }
        assertThat(reads).hasValue(1);
    }

    @Test
    void anAddressAddedAfterStartIsFoundOnItsFirstConnection() throws IOException {
        LocalAddresses local = local();
        now.addAndGet(LocalAddresses.MISS_REREAD);

        interfaces.add(ADDED);

        assertThat(local.contains(ADDED)).isTrue();
        assertThat(reads).hasValue(2);
    }

    @Test
    void connectionsToForeignAddressesRereadAtMostOncePerInterval() throws IOException {
        LocalAddresses local = local();
        now.addAndGet(LocalAddresses.MISS_REREAD);

        // An attacker's flood: 10,000 misses within one second.
        for (int i = 0; i < 10_000; i++) {
            assertThat(local.contains(FOREIGN)).isFalse();
            now.addAndGet(TimeUnit.MICROSECONDS.toNanos(100));
        }

        assertThat(reads.get() - 1).isBetween(10, 11);
    }

    @Test
    void aMissRightAfterARereadIsRefusedFromTheSnapshot() throws IOException {
        LocalAddresses local = local();
        now.addAndGet(LocalAddresses.MISS_REREAD - 1);
        interfaces.add(ADDED);

        assertThat(local.contains(ADDED)).isFalse();
        now.addAndGet(1);
        assertThat(local.contains(ADDED)).isTrue();
        assertThat(reads).hasValue(2);
    }

    @Test
    void anAddressTakenAwayStopsBeingLocalOnceTheSnapshotIsOld() throws IOException {
        LocalAddresses local = local();
        interfaces.remove(POD);
        now.addAndGet(LocalAddresses.MAX_AGE - 1);
        assertThat(local.contains(POD)).as("still in the snapshot").isTrue();

        now.addAndGet(1);

        assertThat(local.contains(POD)).isFalse();
        assertThat(local.contains(POD6)).isTrue();
    }

    @Test
    void aFailedRereadKeepsTheSnapshot() throws IOException {
        LocalAddresses local = local();
        failing = true;
        now.addAndGet(LocalAddresses.MAX_AGE);

        assertThat(local.contains(POD)).isTrue();
        assertThat(local.contains(FOREIGN)).isFalse();
        assertThat(reads).hasValue(2); // and the failure also waits out the interval before the next try
    }

    @Test
    void aPinnedSetIsExactlyTheListAndNeverReread() {
        LocalAddresses local = LocalAddresses.pinned(List.of(POD));

        assertThat(local.contains(POD)).isTrue();
        assertThat(local.contains(POD6)).isFalse();
        assertThat(local.followsNamespace()).isFalse();
    }

    @Test
    void scopeIdsDoNotMatter() throws IOException {
        interfaces.add(java.net.Inet6Address.getByAddress("fe80::1", ip("fe80::1").getAddress(), 2));
        LocalAddresses local = local();

        assertThat(local.contains(ip("fe80::1"))).isTrue();
    }

    @Test
    void theRealNamespaceHasItsOwnAddressesWithoutLoopback() throws IOException {
        LocalAddresses local = LocalAddresses.ofNamespace();

        assertThat(local.snapshot()).noneMatch(InetAddress::isLoopbackAddress);
        assertThat(local.followsNamespace()).isTrue();
    }

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
