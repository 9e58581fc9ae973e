package dev.postern.proxy.imap;

import dev.postern.config.Backend;
import dev.postern.proxy.ProxyServices;
import dev.postern.proxy.frontend.BackendDialogue;
import dev.postern.proxy.frontend.BackendDialogueHandler;
import dev.postern.proxy.frontend.BackendLoginRequest;
import dev.postern.proxy.frontend.BackendLoginResult;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.transport.ProxyProtocolV2;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.util.concurrent.Promise;
import java.util.List;

/**
 * Logs an IMAP session in on a backend: one {@link ImapBackendHandler} per attempt, behind a PROXY v2 header when the
 * backend's identity is {@code proxy-v2}.
 */
public final class ImapBackendDialogue implements BackendDialogue {
    /** Name of the handler that writes the PROXY header; it leaves the pipeline once it has. */
    static final String PROXY_HEADER = "backend-proxy-header";

    private final ProxyServices services;

    public ImapBackendDialogue(ProxyServices services) {
        this.services = services;
    }

    @Override
    public ChannelHandler newHandler(Session session, BackendLoginRequest request, Promise<BackendLoginResult> result) {
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                Backend backend = request.backend();
                if (backend.identity() == Backend.Identity.PROXY_V2) {
                    ch.pipeline()
                            .addLast(
                                    PROXY_HEADER,
                                    new HeaderWriter(ProxyProtocolV2.encode(
                                            ch.alloc(),
                                            session.clientAddress(),
                                            session.localAddress(),
                                            session.tlsProtocol(),
                                            session.tlsCipher())));
                }
                BackendDialogueHandler.install(
                        ch, services.tls(), backend, new ImapBackendHandler(session, request, services, result));
            }
        };
    }

    @Override
    public List<String> handlerNames() {
        return BackendDialogueHandler.HANDLER_NAMES;
    }

    /**
     * Writes the PROXY header as soon as the connection is up: in front of every other handler, so it precedes the
     * TLS handshake of an implicit-TLS backend as well as the first command. Then it leaves the pipeline.
     */
    static final class HeaderWriter extends ChannelInboundHandlerAdapter {
        private ByteBuf header;

        HeaderWriter(ByteBuf header) {
            this.header = header;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ByteBuf bytes = header;
            header = null;
            ctx.writeAndFlush(bytes, ctx.voidPromise());
            ctx.pipeline().remove(this);
            ctx.fireChannelActive();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (header != null) {
                header.release();
                header = null;
            }
        }
    }
}
