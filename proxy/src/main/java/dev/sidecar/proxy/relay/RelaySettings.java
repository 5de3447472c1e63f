package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.transport.Transport;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import java.time.Duration;

/**
 * Tuning of the relay's sockets. The defaults are meant for bulk transfers with bounded memory:
 * at most one read (up to {@code maxReadBytes}) plus {@code highWaterMark} bytes wait inside the
 * proxy per direction of a connection, whatever the peers do.
 *
 * @param inboundConnectTimeout upstream connect timeout for connections accepted on the inbound listener
 * @param outboundConnectTimeout upstream connect timeout for the outbound listener
 * @param minReadBytes smallest read buffer the adaptive allocator shrinks to
 * @param initialReadBytes first read buffer size of a connection
 * @param maxReadBytes largest read buffer, reached during bulk transfers
 * @param lowWaterMark pending bytes under which a backpressured peer is read again
 * @param highWaterMark pending bytes above which the peer is no longer read
 * @param eventLoopThreads event loop threads; 0 means Netty's default (two per available processor)
 * @param allocator where read buffers come from (pooled direct by default)
 * @param maxConnections accepted connections open at once, over every listener; more are reset at once
 * @param deadPeer keepalive and user timeout, on both sockets of every relayed connection
 * @param transport Netty's native transport for the listeners and the relay's sockets
 */
public record RelaySettings(
        Duration inboundConnectTimeout,
        Duration outboundConnectTimeout,
        int minReadBytes,
        int initialReadBytes,
        int maxReadBytes,
        int lowWaterMark,
        int highWaterMark,
        int eventLoopThreads,
        ByteBufAllocator allocator,
        int maxConnections,
        DeadPeerDetection deadPeer,
        Transport transport) {

    /**
     * 1 s connect timeouts, reads of 1 KiB to 128 KiB, water marks 32/64 KiB, pooled direct buffers,
     * one event loop thread per available processor, {@link DeadPeerDetection#defaults()}. Both channels of a connection share one loop,
     * so a second loop per processor (Netty's default) adds only threads, stacks and buffer arenas.
     * At most {@link ConnectionBudget#defaultMaxConnections} connections for this process's
     * file-descriptor limit (as many as an int holds when the limit is unknown).
     * The transport is epoll, which every Linux kernel has; {@code sidecar run} picks one with
     * {@code --transport} ({@link dev.sidecar.proxy.transport.TransportChoice}).
     */
    public static RelaySettings defaults() {
        return new RelaySettings(Duration.ofSeconds(1), Duration.ofSeconds(1),
                1024, 16 * 1024, 128 * 1024, 32 * 1024, 64 * 1024,
                Runtime.getRuntime().availableProcessors(), PooledByteBufAllocator.DEFAULT, defaultMaxConnections(),
                DeadPeerDetection.defaults(), Transport.EPOLL);
    }

    public RelaySettings {
        if (inboundConnectTimeout.isNegative() || inboundConnectTimeout.isZero()
                || outboundConnectTimeout.isNegative() || outboundConnectTimeout.isZero()) {
            throw new IllegalArgumentException("connect timeouts must be positive");
        }
        if (!(0 < minReadBytes && minReadBytes <= initialReadBytes && initialReadBytes <= maxReadBytes)) {
            throw new IllegalArgumentException("read sizes must satisfy 0 < min <= initial <= max");
        }
        if (!(0 < lowWaterMark && lowWaterMark <= highWaterMark)) {
            throw new IllegalArgumentException("water marks must satisfy 0 < low <= high");
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections must be positive");
        }
    }

    /** A copy with both connect timeouts set. */
    public RelaySettings withConnectTimeouts(Duration inbound, Duration outbound) {
        return new RelaySettings(inbound, outbound, minReadBytes, initialReadBytes, maxReadBytes,
                lowWaterMark, highWaterMark, eventLoopThreads, allocator, maxConnections, deadPeer, transport);
    }

    /** A copy on another transport. */
    public RelaySettings withTransport(Transport transport) {
        return new RelaySettings(inboundConnectTimeout, outboundConnectTimeout, minReadBytes, initialReadBytes,
                maxReadBytes, lowWaterMark, highWaterMark, eventLoopThreads, allocator, maxConnections, deadPeer, transport);
    }

    /** A copy with another bound on open connections. */
    public RelaySettings withMaxConnections(int max) {
        return new RelaySettings(inboundConnectTimeout, outboundConnectTimeout, minReadBytes, initialReadBytes,
                maxReadBytes, lowWaterMark, highWaterMark, eventLoopThreads, allocator, max, deadPeer, transport);
    }

    /** A copy with another keepalive and user timeout. */
    public RelaySettings withDeadPeer(DeadPeerDetection detection) {
        return new RelaySettings(inboundConnectTimeout, outboundConnectTimeout, minReadBytes, initialReadBytes,
                maxReadBytes, lowWaterMark, highWaterMark, eventLoopThreads, allocator, maxConnections, detection, transport);
    }

    /** Connect timeout in milliseconds for connections accepted in {@code direction}. */
    public int connectTimeoutMillis(RelayEvents.Direction direction) {
        Duration d = direction == RelayEvents.Direction.INBOUND ? inboundConnectTimeout : outboundConnectTimeout;
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, d.toMillis()));
    }

    private static int defaultMaxConnections() {
        long limit = ConnectionBudget.processFdLimit();
        return limit > 0 ? ConnectionBudget.defaultMaxConnections(limit) : Integer.MAX_VALUE;
    }

    /**
     * The record's own text, written out: the generated {@code toString} links a method-handle tree
     * the first time it runs, some 20 ms of a cold start, which logs this once.
     */
    @Override
    public String toString() {
        return "RelaySettings[inboundConnectTimeout=" + inboundConnectTimeout
                + ", outboundConnectTimeout=" + outboundConnectTimeout
                + ", minReadBytes=" + minReadBytes
                + ", initialReadBytes=" + initialReadBytes
                + ", maxReadBytes=" + maxReadBytes
                + ", lowWaterMark=" + lowWaterMark
                + ", highWaterMark=" + highWaterMark
                + ", eventLoopThreads=" + eventLoopThreads
                + ", allocator=" + allocator
                + ", maxConnections=" + maxConnections
                + ", deadPeer=" + deadPeer
                + ", transport=" + transport + "]";
    }

    RecvByteBufAllocator recvAllocator() {
        return new AdaptiveRecvByteBufAllocator(minReadBytes, initialReadBytes, maxReadBytes);
    }

    WriteBufferWaterMark waterMark() {
        return new WriteBufferWaterMark(lowWaterMark, highWaterMark);
    }
}
