package io.netty.channel.epoll;

import java.io.IOException;

/**
 * Works around a bug in Netty 4.2.18's epoll transport that breaks half-closed relays. Applied on
 * epoll only ({@code Transport.EPOLL.prepareRelayChannel}); io_uring is driven by completions,
 * not an interest set, and needs nothing of the kind.
 *
 * <p>The fault is in {@code EpollIoHandler.DefaultEpollIoRegistration.submit} (Netty 4.2.18):
 * Netty 4.2 always uses level-triggered epoll, and when a channel's interest set becomes empty
 * (input shut down after the peer's FIN, no read pending because AUTO_READ is off, nothing waiting
 * to be written) {@code submit} removes the descriptor with {@code EPOLL_CTL_DEL} but leaves the
 * registration's stale {@code state} at "added". The next write that fills the socket buffer needs
 * EPOLLOUT, Netty issues {@code EPOLL_CTL_MOD}, the kernel answers ENOENT, and Netty shuts the
 * output down: the direction that was still flowing is cut. That is exactly the relay's half-close
 * path (the target has said FIN, the client is still sending).
 *
 * <p>EPOLLERR is always reported by the kernel whether or not it is asked for, so adding it to the
 * interest set changes no event delivery; it only keeps the set from ever being empty, so Netty
 * never takes the broken delete path. This class lives in Netty's package because
 * {@code setFlag} is protected there.
 *
 * <p>At every Netty upgrade (NettyVersionTest fails until it is re-checked): look in Netty's
 * release notes and in {@code DefaultEpollIoRegistration.submit} for the {@code EPOLL_CTL_DEL}
 * path resetting its state (or no longer deleting an empty interest set); then remove
 * {@code keepRegistered} from {@code Transport.EPOLL} and run its regression tests on epoll:
 * {@code RelayTest.bulkAfterTargetHalfCloseStillFlowsWhenTheTargetReadsSlowly} and
 * {@code targetHalfCloseReachesClientAndRequestStillFlows}, and
 * {@code SidecarRunIT.halfCloseFromEitherSideKeepsTheOtherDirectionFlowing}. If they pass, delete
 * this class; if not, keep it and move the pin.
 */
public final class RelayEpollWorkaround {
    private RelayEpollWorkaround() {}

    /** Keeps {@code channel}'s epoll interest set non-empty for its whole life. */
    public static void keepRegistered(AbstractEpollChannel channel) {
        try {
            channel.setFlag(Native.EPOLLERR);
        } catch (IOException e) {
            channel.pipeline().fireExceptionCaught(e);
        }
    }
}
