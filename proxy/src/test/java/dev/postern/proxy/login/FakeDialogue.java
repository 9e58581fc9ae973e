package dev.postern.proxy.login;

import dev.postern.proxy.session.Session;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.util.concurrent.Promise;
import java.util.List;

/** The login dialogue with LoginFlowAuthTest's fake backend: greeting, then {@code a LOGIN user password}. */
final class FakeDialogue implements BackendDialogue {
    @Override
    public ChannelHandler newHandler(Session session, BackendLoginRequest request, Promise<BackendLoginResult> result) {
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                BackendDialogueHandler.install(ch, null, request.backend(), new Handler(session, request, result));
            }
        };
    }

    @Override
    public List<String> handlerNames() {
        return BackendDialogueHandler.HANDLER_NAMES;
    }

    private static final class Handler extends BackendDialogueHandler {
        Handler(Session session, BackendLoginRequest request, Promise<BackendLoginResult> result) {
            super(session, request, null, result);
        }

        @Override
        protected void line(String line) {
            if (line.startsWith("* OK")) {
                send("a LOGIN " + request.credentials().user() + " "
                        + request.credentials().secret());
            } else if (line.startsWith("a OK")) {
                loggedIn(null);
            } else if (line.startsWith("a NO")) {
                refused(line, false);
            } else {
                failed("unexpected: " + line);
            }
        }
    }
}
