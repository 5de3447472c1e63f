package dev.sidecar.proxy.relay;

import dev.sidecar.proxy.relay.RelayEvents.Failure;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The accepted side of one relayed connection: it admits the connection (finds its target and
 * refuses what must not be relayed), has the upstream side connected, then moves the client's
 * bytes up and reports the client's FIN, failure and close to the {@link RelayPair}. Its
 * {@link BackendHandler} tells the upstream side's story.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter implements ChannelFutureListener {
    private final ListenerContext listener;
    // Set in channelActive; every callback of this channel runs on its event loop after that.
    private RelayPair pair;
    private Channel client;

    FrontendHandler(ListenerContext listener) {
        this.listener = listener;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        client = ctx.channel();
        pair = new RelayPair(listener, client);
        InetSocketAddress target;
        try {
            target = listener.resolver().resolve(client);
        } catch (IOException e) {
            ConnectionLog.lookupFailed(listener.direction(), client.remoteAddress(), e);
            pair.refuse(Failure.NO_ORIGINAL_DST, null);
            return;
        }
        if (listener.probes().catches((InetSocketAddress) client.remoteAddress(), target)) {
            client.close(); // the start-up self-test's own connection: checked, never relayed
            return;
        }
        Failure refusal = admit(target);
        if (refusal != null) {
            pair.refuse(refusal, target);
            return;
        }
        // Nothing is asked of the client until the upstream is connected, so early bytes wait in
        // the kernel, in order. (Once the client has sent FIN, Netty's RDHUP handling reads what
        // the kernel holds even with AUTO_READ off, at most one socket receive buffer; those
        // bytes, and the FIN, wait in order on the connecting upstream channel until it connects.)
        Channel upstream;
        try {
            upstream = listener.upstream().newChannel(target, new BackendHandler(pair));
        } catch (ChannelException noSocket) { // EMFILE/ENFILE: no descriptor left for the upstream socket
            pair.refuse(Failure.OVERLOAD, target);
            return;
        }
        pair.opened(target, upstream);
        listener.upstream().connect(upstream, client, target).addListener(this);
    }

    /** Why the connection to {@code target} must not be relayed, or null when it may be. */
    private Failure admit(InetSocketAddress target) {
        // With TPROXY the target is the accepted socket's local address by design, not a sign of a direct connection.
        InetSocketAddress local = listener.resolver() == TargetResolver.LOCAL_ADDRESS ? null : (InetSocketAddress) client.localAddress();
        Failure loop = listener.guard().get().check(target, local);
        return loop != null ? loop : listener.destinations().check(listener.direction(), target);
    }

    /** The upstream connect finished: start relaying both ways, or reset the client. */
    @Override
    public void operationComplete(ChannelFuture connect) {
        if (!client.isActive()) {
            Relay.reset(pair.upstream()); // the client gave up while we were connecting
            return;
        }
        if (!connect.isSuccess()) {
            pair.connectFailed(connect.cause());
            return;
        }
        pair.connected(); // flushes what the kernel handed us early, and passes an early FIN on
        client.read();
        pair.upstream().read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        pair.relayedFromClient(((ByteBuf) msg).readableBytes());
        pair.upstream().write(msg, pair.upstream().voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!pair.upstreamConnected()) {
            return; // early bytes wait in the upstream's outbound buffer; connected() flushes them
        }
        Channel upstream = pair.upstream();
        upstream.flush();
        if (upstream.isWritable() && !pair.clientEof()) {
            client.read(); // else BackendHandler reads on once the upstream drains below its low water mark
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (client.isWritable() && pair.relaying() && !pair.targetEof()) {
            pair.upstream().read(); // the client drained below its low water mark: take more from the target
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE && !pair.clientEof()) {
            pair.clientFin();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ConnectionLog.sideFailed(listener.direction(), client.remoteAddress(), "client", cause);
        pair.sideFailed("client", cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        pair.clientClosed();
    }
}
