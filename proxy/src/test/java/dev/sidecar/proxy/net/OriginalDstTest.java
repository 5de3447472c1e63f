package dev.sidecar.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sidecar.proxy.relay.Listeners;
import dev.sidecar.proxy.relay.RelayEvents.Direction;
import dev.sidecar.proxy.relay.RelaySettings;
import dev.sidecar.testkit.RecordingRelayEvents;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The native edge without iptables; real redirects are proven by the namespace ITs. */
class OriginalDstTest {

    @Test
    void aBadDescriptorIsReportedWithItsErrno() {
        assertThatThrownBy(() -> OriginalDst.lookup(1_000_000, false))
                .isInstanceOf(IOException.class)
                .hasMessage("getsockopt(SO_ORIGINAL_DST) on fd 1000000 failed: EBADF: bad file descriptor (9)");
    }

    @Test
    void aConnectionNobodyRedirectedHasNoOtherOriginalDestination() throws Exception {
        RecordingRelayEvents events = new RecordingRelayEvents();
        List<Object> seen = new CopyOnWriteArrayList<>();
        try (Listeners listeners = new Listeners(
                List.of(new Listeners.Endpoint(Direction.OUTBOUND, new InetSocketAddress("127.0.0.1", 0))),
                RelaySettings.defaults(), accepted -> {
                    InetSocketAddress dst = OriginalDst.of(accepted);
                    seen.add(dst == null ? "none" : dst.equals(accepted.localAddress()) ? "itself" : dst);
                    return dst;
                }, events)) {
            listeners.bind();
            listeners.startAccepting();
            InetSocketAddress proxy = listeners.address(Direction.OUTBOUND);
            try (Socket s = new Socket(proxy.getAddress(), proxy.getPort())) {
                s.setSoTimeout(5000);
                assertThat(s.getInputStream().read()).isEqualTo(-1);
            } catch (SocketException reset) {
                // the refusal is a reset; either way the proxy connected nowhere
            }
        }
        // Without NAT conntrack has either no entry (none) or one whose original destination is
        // the address we were dialled at (itself).
        assertThat(seen).hasSize(1).first().isIn("none", "itself");
        assertThat(events.events()).containsExactly("failed outbound no_original_dst");
    }
}
