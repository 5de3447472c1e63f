package dev.sidecar.proxy.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.RelayEpollWorkaround;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.PollOutRepair;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.concurrent.ThreadFactory;

/**
 * Netty's native transport the proxy runs on: the one place that names epoll or io_uring classes.
 * Everything else (the listeners, the relay, {@code OriginalDst}, the admin server) asks this seam
 * for event loops and channels, so both transports are served by the same code.
 *
 * <p>epoll creates sockets of the address's family. io_uring (Netty 4.2.18) always creates
 * IPv6 sockets when the kernel has IPv6: an IPv4 address is bound or connected as its v4-mapped
 * form, and the kernel still keeps the connection's IPv4 addresses, so {@code SO_ORIGINAL_DST} at
 * {@code SOL_IP} answers for it as for an IPv4 socket. One difference shows: Netty binds the IPv4
 * wildcard {@code 0.0.0.0} of such a socket as {@code [::]}, dual-stack, so on io_uring one socket
 * serves both wildcards of a port ({@link #servesBothWildcards}).
 */
public enum Transport {
    /** Linux epoll, readiness based: Netty's long-standing native transport. */
    EPOLL("epoll") {
        @Override
        public IoHandlerFactory ioHandlerFactory() {
            return EpollIoHandler.newFactory();
        }

        @Override
        public ServerChannel newServerChannel(boolean ipv6) {
            return new EpollServerSocketChannel(ipv6 ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET);
        }

        @Override
        public Channel newSocketChannel(boolean ipv6) {
            return new EpollSocketChannel(ipv6 ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET);
        }

        @Override
        public void prepareRelayChannel(Channel ch) {
            RelayEpollWorkaround.keepRegistered((EpollSocketChannel) ch);
        }

        @Override
        public Throwable unavailabilityCause() {
            return Epoll.isAvailable() ? null : Epoll.unavailabilityCause();
        }
    },

    /** Linux io_uring, completion based: fewer system calls per connection than epoll. */
    IO_URING("io_uring") {
        @Override
        public IoHandlerFactory ioHandlerFactory() {
            // Netty's, repaired: a half-closed socket can still wait for room to write.
            return PollOutRepair.factory();
        }

        @Override
        public ServerChannel newServerChannel(boolean ipv6) {
            return new IoUringServerSocketChannel();
        }

        @Override
        public Channel newSocketChannel(boolean ipv6) {
            return new IoUringSocketChannel();
        }

        @Override
        public boolean servesBothWildcards() {
            // Netty decides the sockets' family when its native library loads, on first use.
            return unavailabilityCause() == null && Socket.isIPv6Preferred();
        }

        @Override
        public void prepareRelayChannel(Channel ch) {
            // Nothing: completions, not an interest set, drive io_uring, so epoll's bug has no
            // counterpart here (RelayTest's half-close cases prove it on both transports). Its own
            // half-close bug is repaired per event loop, in ioHandlerFactory().
        }

        @Override
        public Throwable unavailabilityCause() {
            return IoUring.isAvailable() ? null : IoUring.unavailabilityCause();
        }
    };

    /**
     * {@code IPV6_V6ONLY} (IPPROTO_IPV6 41, option 26), set before bind: keeps a listener on
     * {@code [::]} from also claiming the IPv4 port, which its {@code 0.0.0.0} sibling binds.
     * Both transports apply integer socket options given this way.
     */
    public static final ChannelOption<Integer> IPV6_V6ONLY = new IntegerUnixChannelOption("IPV6_V6ONLY", 41, 26);

    /**
     * {@code IP_TRANSPARENT} (IPPROTO_IP 0, option 19): an IPv4 listener accepts connections that
     * TPROXY hands it for any address, and an upstream socket may bind to an address that is not
     * the pod's (the client's). Setting it needs CAP_NET_RAW or CAP_NET_ADMIN. Netty's epoll has
     * its own option for this but io_uring has none; a raw option works on both transports.
     */
    public static final ChannelOption<Integer> IP_TRANSPARENT = new IntegerUnixChannelOption("IP_TRANSPARENT", 0, 19);

    /** {@code IPV6_TRANSPARENT} (IPPROTO_IPV6 41, option 75): {@link #IP_TRANSPARENT} for IPv6 sockets. */
    public static final ChannelOption<Integer> IPV6_TRANSPARENT = new IntegerUnixChannelOption("IPV6_TRANSPARENT", 41, 75);

    /** The transparent option for a socket of this family. */
    public static ChannelOption<Integer> transparent(boolean ipv6) {
        return ipv6 ? IPV6_TRANSPARENT : IP_TRANSPARENT;
    }

    /** Netty's switch for multishot POLLIN on io_uring, read once when its io_uring classes load. */
    static final String MULTISHOT_POLL_IN = "io.netty.iouring.pollAddMultishotEnabled";

    static {
        // A one-shot POLLIN, armed again at every renewed read, answers at once while data is
        // there; a multishot one reports new data once, as an edge. It was switched off as the
        // suspected cause of the stalls on io_uring, which were since traced to POLLOUT
        // (PollOutRepair); turned back on it measured no better (bench/LIMITS.md), so it stays off.
        if (System.getProperty(MULTISHOT_POLL_IN) == null) {
            System.setProperty(MULTISHOT_POLL_IN, "false");
        }
    }

    private final String label;

    Transport(String label) {
        this.label = label;
    }

    /** How the transport is named on the command line, in logs and in metrics. */
    public String label() {
        return label;
    }

    /** The factory of this transport's I/O handlers, one per event loop. */
    public abstract IoHandlerFactory ioHandlerFactory();

    /** {@code threads} event loops of this transport (0: Netty's default count). */
    public EventLoopGroup newEventLoopGroup(int threads, ThreadFactory threadFactory) {
        return new MultiThreadIoEventLoopGroup(threads, threadFactory, ioHandlerFactory());
    }

    /** A new, unregistered listening TCP socket able to bind an IPv6 ({@code ipv6}) or IPv4 address. */
    public abstract ServerChannel newServerChannel(boolean ipv6);

    /** A new, unregistered TCP socket able to connect to an IPv6 ({@code ipv6}) or IPv4 address. */
    public abstract Channel newSocketChannel(boolean ipv6);

    /**
     * Whether a listener bound to {@code 0.0.0.0} is a dual-stack {@code [::]} socket, which also
     * accepts IPv6 connections (as Netty's io_uring sockets are).
     */
    public boolean servesBothWildcards() {
        return false;
    }

    /**
     * Whether {@code address} needs no socket of its own because another of {@code all} already
     * serves it: {@code [::]:port} beside {@code 0.0.0.0:port} on a transport that
     * {@link #servesBothWildcards}.
     */
    public boolean alreadyServed(InetSocketAddress address, Collection<InetSocketAddress> all) {
        return servesBothWildcards() && address.getAddress() instanceof Inet6Address && address.getAddress().isAnyLocalAddress()
                && all.stream().anyMatch(a -> !(a.getAddress() instanceof Inet6Address) && a.getAddress().isAnyLocalAddress()
                        && a.getPort() == address.getPort());
    }

    /** Whatever this transport needs on a relay socket (accepted or upstream) before it is used. */
    public abstract void prepareRelayChannel(Channel ch);

    /** Why this transport's native library or kernel support is missing, or null when it is there. */
    public abstract Throwable unavailabilityCause();

    /** The socket descriptor of a channel of either transport, e.g. for a {@code getsockopt}. */
    public static int fd(Channel ch) {
        return ((UnixChannel) ch).fd().intValue();
    }
}
