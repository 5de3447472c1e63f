package io.netty.channel.epoll;

import java.io.IOException;

/**
 * Works around a bug in Netty 4.2.18's epoll transport that breaks half-closed relays.
 *
 * <p>Netty 4.2 always uses level-triggered epoll. When a channel's interest set becomes empty
 * (input shut down after the peer's FIN, no read pending because AUTO_READ is off, nothing waiting
 * to be written) {@code EpollIoHandler.DefaultEpollIoRegistration.submit} removes the descriptor
 * from epoll with {@code EPOLL_CTL_DEL} but leaves its state at "added". The next write that fills
 * the socket buffer needs EPOLLOUT, Netty issues {@code EPOLL_CTL_MOD}, the kernel answers ENOENT,
 * and Netty shuts the output down: the direction that was still flowing is cut. That is exactly
 * the relay's half-close path (the target has said FIN, the client is still sending).
 *
 * <p>EPOLLERR is always reported by the kernel whether or not it is asked for, so adding it to the
 * interest set changes no event delivery; it only keeps the set from ever being empty, so Netty
 * never takes the broken delete path. This class lives in Netty's package because
 * {@code setFlag} is protected there. Remove it once the pinned Netty has the fix.
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
