package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.net.OriginalDst;
import io.netty.channel.Channel;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * Where an accepted connection was really going. In production that is the connection's original
 * destination before iptables redirected it ({@link #ORIGINAL_DST}); tests and benchmarks relay to
 * a {@link #fixed} target so they need no iptables at all.
 */
@FunctionalInterface
public interface TargetResolver {

    /**
     * The target for {@code accepted}, or null when it has none (the connection was not
     * redirected). Called on the channel's event loop; must not block.
     */
    InetSocketAddress resolve(Channel accepted) throws IOException;

    /** {@code getsockopt(SO_ORIGINAL_DST)} on the accepted socket. */
    TargetResolver ORIGINAL_DST = OriginalDst::of;

    /**
     * The accepted socket's own local address: with TPROXY the packets are not rewritten, so the
     * transparent listener's accepted socket carries the client's original destination.
     */
    TargetResolver LOCAL_ADDRESS = accepted -> (InetSocketAddress) accepted.localAddress();

    /** Always the same target, whatever was accepted. */
    static TargetResolver fixed(InetSocketAddress target) {
        return accepted -> target;
    }
}
