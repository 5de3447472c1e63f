package dev.sidecar.proxy.admin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers admin requests. Stateless, so one instance serves every admin connection.
 *
 * <p>{@code POST /shutdown} answers 404 when the endpoint is disabled (it does not exist) and 403
 * to a non-loopback peer when it is enabled.
 */
@Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);
    private static final String TEXT = "text/plain; charset=utf-8";

    private final Readiness readiness;
    private final PrometheusRegistry registry;
    private final ShutdownTrigger shutdown;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    AdminHandler(Readiness readiness, PrometheusRegistry registry, ShutdownTrigger shutdown) {
        this.readiness = readiness;
        this.registry = registry;
        this.shutdown = shutdown;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (!request.decoderResult().isSuccess()) {
            // The decoder discards whatever follows a bad request, so this connection is done.
            log.debug("admin: bad request from {}: {}", ctx.channel().remoteAddress(), request.decoderResult().cause());
            send(ctx, request, text(HttpResponseStatus.BAD_REQUEST, "bad request"), true);
            return;
        }
        String path = new QueryStringDecoder(request.uri()).path();
        switch (path) {
            case "/live" -> get(ctx, request, () -> text(HttpResponseStatus.OK, "live"));
            case "/ready" -> get(ctx, request, this::ready);
            case "/metrics" -> get(ctx, request, () -> metrics(ctx));
            case "/shutdown" -> shutdown(ctx, request);
            default -> send(ctx, request, text(HttpResponseStatus.NOT_FOUND, "not found"), false);
        }
    }

    private void get(ChannelHandlerContext ctx, FullHttpRequest request, Supplier<FullHttpResponse> answer) {
        if (!HttpMethod.GET.equals(request.method())) {
            FullHttpResponse response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed");
            response.headers().set(HttpHeaderNames.ALLOW, HttpMethod.GET.name());
            send(ctx, request, response, false);
            return;
        }
        send(ctx, request, answer.get(), false);
    }

    private FullHttpResponse ready() {
        String reason = readiness.notReadyReason();
        return reason == null
                ? text(HttpResponseStatus.OK, "ready")
                : text(HttpResponseStatus.SERVICE_UNAVAILABLE, reason);
    }

    private FullHttpResponse metrics(ChannelHandlerContext ctx) {
        ByteBuf body = ctx.alloc().buffer();
        try (ByteBufOutputStream out = new ByteBufOutputStream(body)) {
            writer.write(out, registry.scrape());
        } catch (Exception e) {
            body.release();
            log.warn("admin: cannot render /metrics: {}", e.toString());
            return text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "metrics unavailable");
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, PrometheusTextFormatWriter.CONTENT_TYPE);
        return response;
    }

    private void shutdown(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (!shutdown.enabled()) {
            send(ctx, request, text(HttpResponseStatus.NOT_FOUND, "not found"), false);
        } else if (!HttpMethod.POST.equals(request.method())) {
            FullHttpResponse response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed");
            response.headers().set(HttpHeaderNames.ALLOW, HttpMethod.POST.name());
            send(ctx, request, response, false);
        } else if (!isLoopback(ctx.channel().remoteAddress())) {
            log.warn("admin: refused POST /shutdown from non-loopback peer {}", ctx.channel().remoteAddress());
            send(ctx, request, text(HttpResponseStatus.FORBIDDEN, "shutdown is only allowed from loopback"), false);
        } else {
            boolean first = shutdown.fire();
            if (first) {
                log.info("admin: shutdown requested by {}", ctx.channel().remoteAddress());
            }
            send(ctx, request, text(HttpResponseStatus.ACCEPTED, first ? "shutting down" : "already shutting down"), true);
        }
    }

    private static boolean isLoopback(SocketAddress peer) {
        // Java reports an IPv4-mapped IPv6 peer (::ffff:127.0.0.1) as an Inet4Address, so this covers it.
        return peer instanceof InetSocketAddress inet && inet.getAddress() != null
                && inet.getAddress().isLoopbackAddress();
    }

    private static FullHttpResponse text(HttpResponseStatus status, String line) {
        ByteBuf body = Unpooled.copiedBuffer(line + "\n", StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, TEXT);
        return response;
    }

    private static void send(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response,
                             boolean close) {
        HttpUtil.setContentLength(response, response.content().readableBytes());
        boolean keepAlive = !close && request.decoderResult().isSuccess() && HttpUtil.isKeepAlive(request);
        if (keepAlive) {
            if (request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            ctx.writeAndFlush(response);
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent) {
            ctx.close();
        } else {
            super.userEventTriggered(ctx, event);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Admin clients come and go (resets, timeouts); nothing here concerns the relay.
        log.debug("admin: closing {} after {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
