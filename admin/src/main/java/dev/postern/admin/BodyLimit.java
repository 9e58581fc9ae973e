package dev.postern.admin;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Aggregates a request and its body up to a limit; a larger one gets a 413 problem document and the connection is
 * closed (its remaining body is not worth reading).
 */
final class BodyLimit extends HttpObjectAggregator {
    private final AdminApi api;

    BodyLimit(int maxBodyBytes, AdminApi api) {
        super(maxBodyBytes);
        this.api = api;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        if (oversized instanceof HttpRequest request) {
            api.refused(
                    request.method(),
                    request.uri(),
                    request.headers().get(HttpHeaderNames.AUTHORIZATION),
                    HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
        }
        byte[] body = Json.bytes(Problem.of(
                        HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                        "the body is larger than " + maxContentLength() + " bytes")
                .toJson());
        FullHttpResponse res = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, Unpooled.wrappedBuffer(body));
        res.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, ApiResponse.PROBLEM_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
    }
}
