package dev.postern.proxy.health;

import dev.postern.config.Protocol;
import dev.postern.proxy.login.BackendDialogueHandler;
import dev.postern.proxy.login.BackendLoginRequest;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.tls.TlsManager;
import dev.postern.proxy.transport.Transport;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Promise;

/**
 * Mode {@code greeting} (the default): the backend greets as its protocol says ({@code * OK}, {@code +OK}, {@code
 * 220}), then Postern says goodbye. The connection is opened as a login's would be: a PROXY v2 LOCAL header first for
 * a {@code proxy-v2} backend, and TLS for an implicit-TLS one; a tcp pool's check only connects.
 */
public final class GreetingCheck extends ChannelCheck {
    private final TlsManager tls;

    /** @param tls client TLS towards backends; null when no backend uses TLS */
    public GreetingCheck(Transport transport, TlsManager tls) {
        super(transport);
        this.tls = tls;
    }

    @Override
    void install(Channel ch, Target target, Promise<Void> result, Progress progress) {
        if (target.protocol() == Protocol.TCP) {
            return;
        }
        Promise<BackendLoginResult> greeted = ch.eventLoop().newPromise();
        BackendLoginRequest request = new BackendLoginRequest(null, null, null, target.backend(), target.pool());
        BackendDialogueHandler.install(
                ch, tls, target.backend(), new GreetingDialogue(request, tls, greeted, target.protocol()));
        greeted.addListener(f -> {
            BackendLoginResult r = greeted.getNow();
            if (r instanceof BackendLoginResult.LoggedIn) {
                result.trySuccess(null);
            } else {
                result.tryFailure(failure(r, "greeting refused: "));
            }
        });
    }

    @Override
    void connected(Channel ch, Target target, Promise<Void> result) {
        if (target.protocol() == Protocol.TCP) {
            result.trySuccess(null); // tcp: connecting is enough
            ch.close();
        }
    }

    /** Reads the greeting, judges it and says goodbye. */
    private static final class GreetingDialogue extends BackendDialogueHandler {
        private final Protocol protocol;

        GreetingDialogue(
                BackendLoginRequest request, TlsManager tls, Promise<BackendLoginResult> result, Protocol protocol) {
            super(null, request, tls, result);
            this.protocol = protocol;
        }

        @Override
        protected void line(String line) {
            if ((protocol == Protocol.SMTP || protocol == Protocol.LMTP) && line.startsWith("220-")) {
                return; // a multi-line greeting: wait for its last line
            }
            if (protocol == Protocol.MANAGESIEVE && line.startsWith("\"")) {
                return; // the greeting is a capability list: wait for its OK
            }
            boolean ok =
                    switch (protocol) {
                        case IMAP -> line.startsWith("* OK");
                        case POP3 -> line.startsWith("+OK");
                        case MANAGESIEVE -> line.equals("OK") || line.startsWith("OK ");
                        case SMTP, LMTP -> line.startsWith("220 ") || line.equals("220");
                        default -> true;
                    };
            if (!ok) {
                String shown = line.length() > 80 ? line.substring(0, 80) + "..." : line;
                failed("unexpected greeting: " + shown);
                return;
            }
            send(
                    switch (protocol) {
                        case IMAP -> "G1 LOGOUT";
                        case MANAGESIEVE -> "LOGOUT";
                        default -> "QUIT";
                    });
            loggedIn(null);
            ctx.close();
        }
    }
}
