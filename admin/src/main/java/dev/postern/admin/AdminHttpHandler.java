package dev.postern.admin;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One admin connection: HTTP/1.1 with keep-alive. Requests are answered in the order they came, even when a client
 * pipelines them and the API handles them on worker threads; reading pauses while too many are waiting.
 */
final class AdminHttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(AdminHttpHandler.class);
    /** Requests a client may have waiting for their answers before Postern stops reading from it. */
    private static final int MAX_PENDING = 8;

    private final AdminApi api;
    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
    private int pending;
    private boolean closing;

    AdminHttpHandler(AdminApi api) {
        this.api = api;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (closing) {
            return;
        }
        if (!request.decoderResult().isSuccess()) {
            Throwable cause = request.decoderResult().cause();
            HttpResponseStatus status = cause instanceof TooLongFrameException
                    ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : HttpResponseStatus.BAD_REQUEST;
            closing = true;
            enqueue(
                    ctx,
                    v -> CompletableFuture.completedFuture(
                            ApiResponse.problem(Problem.of(status, "the request is not valid HTTP/1.1"))),
                    false);
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        HttpHeaders headers = new DefaultHttpHeaders().add(request.headers());
        AdminApi.Incoming in = new AdminApi.Incoming(
                request.method(), request.uri(), headers, ByteBufUtil.getBytes(request.content()));
        if (!keepAlive) {
            // nothing after this request is answered
            closing = true;
        }
        enqueue(ctx, v -> api.handle(in), keepAlive);
    }

    /** Answers in order: the response is written after every earlier one. */
    private void enqueue(
            ChannelHandlerContext ctx, Function<Void, CompletableFuture<ApiResponse>> answer, boolean keepAlive) {
        if (++pending >= MAX_PENDING) {
            ctx.channel().config().setAutoRead(false);
        }
        tail = tail.thenCompose(answer)
                .thenAcceptAsync(response -> write(ctx, response, keepAlive), ctx.executor())
                .exceptionally(e -> {
                    // the channel's event loop is gone: nothing left to answer
                    log.debug("admin connection: response dropped: {}", e.toString());
                    return null;
                });
    }

    private void write(ChannelHandlerContext ctx, ApiResponse response, boolean keepAlive) {
        FullHttpResponse res = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, response.status(), Unpooled.wrappedBuffer(response.body()));
        HttpHeaders h = res.headers();
        h.set(HttpHeaderNames.CONTENT_TYPE, response.contentType());
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, response.body().length);
        h.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        h.set("X-Content-Type-Options", "nosniff");
        for (Map.Entry<String, String> e : response.headers().entrySet()) {
            h.set(e.getKey(), e.getValue());
        }
        if (!keepAlive) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        var future = ctx.writeAndFlush(res);
        if (!keepAlive) {
            future.addListener(ChannelFutureListener.CLOSE);
        }
        if (--pending < MAX_PENDING && !closing && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent && pending == 0) {
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("admin connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
