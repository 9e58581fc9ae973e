package dev.postern.proxy.smtp.submission;

import dev.postern.config.Backend;
import dev.postern.proxy.login.BackendLoginRequest;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.routing.BackendCapabilities;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslClient;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.smtp.EhloKeywords;
import dev.postern.proxy.smtp.SmtpBackendHandshake;
import dev.postern.proxy.smtp.SmtpReply;
import dev.postern.proxy.tls.TlsManager;
import io.netty.util.concurrent.Promise;
import java.util.List;

/**
 * Logs a session in on an SMTP submission backend: the {@link SmtpBackendHandshake} as Postern itself, then {@code
 * AUTH PLAIN} with an initial response or {@code AUTH LOGIN} (a master user with PLAIN and the session's user as
 * authorization identity; OAuth token messages relayed as the client sent them).
 *
 * <p>After {@code 235} the channel is left with the backend in its authenticated state; the client, which already did
 * EHLO with Postern, goes on with {@code MAIL FROM} directly.
 */
final class SmtpBackendHandler extends SmtpBackendHandshake {
    private enum State {
        HANDSHAKE,
        AUTH,
        AUTH_LOGIN_USER,
        AUTH_LOGIN_PASSWORD,
        AUTH_TOKEN_ERROR,
        DONE
    }

    private State state = State.HANDSHAKE;

    SmtpBackendHandler(
            Session session,
            BackendLoginRequest request,
            TlsManager tls,
            Promise<BackendLoginResult> result,
            BackendCapabilities capabilities,
            String hostname) {
        super(session, request, tls, result, capabilities, Hello.asPostern(hostname));
    }

    private Backend backend() {
        return request.backend();
    }

    @Override
    protected void handshakeDone(List<String> keywords) {
        authenticate(keywords);
    }

    @Override
    protected void afterHandshake(SmtpReply reply) {
        switch (state) {
            case AUTH_LOGIN_USER -> loginChallenge(
                    reply, State.AUTH_LOGIN_PASSWORD, request.credentials().user());
            case AUTH_LOGIN_PASSWORD -> loginChallenge(
                    reply, State.AUTH, request.credentials().secret());
            case AUTH -> authReply(reply);
            case AUTH_TOKEN_ERROR -> authVerdict(reply);
            case HANDSHAKE, DONE -> failed("backend " + backend().id() + " sent an unexpected reply: " + reply);
        }
    }

    private void authenticate(List<String> keywords) {
        List<String> mechanisms = EhloKeywords.parameters(keywords, "AUTH");
        Credentials credentials = request.credentials();
        String plain = SaslMechanism.PLAIN.wireName();
        if (backend().master().isPresent()) {
            Backend.MasterLogin master = backend().master().get();
            if (!mechanisms.contains(plain)) {
                failed("backend " + backend().id() + " does not offer AUTH PLAIN, needed for a master-user login");
                return;
            }
            sendAuth(
                    plain,
                    SaslClient.plain(
                            request.user(), master.user(), master.password().reveal()));
        } else if (credentials.isToken()) {
            sendAuth(credentials.mechanism().wireName(), SaslClient.token(credentials));
        } else if (mechanisms.contains(plain)) {
            sendAuth(plain, SaslClient.plain(credentials.authzid(), credentials.user(), credentials.secret()));
        } else if (mechanisms.contains(SaslMechanism.LOGIN.wireName())
                && credentials.authzid().isEmpty()) {
            state = State.AUTH_LOGIN_USER;
            send("AUTH LOGIN");
        } else {
            failed("backend " + backend().id() + " offers no usable AUTH mechanism (has " + mechanisms + ")");
        }
    }

    /** Sends {@code AUTH mechanism initial-response}. Never logged: the response holds the secret. */
    private void sendAuth(String mechanism, String initialResponse) {
        state = State.AUTH;
        send("AUTH " + mechanism + " " + (initialResponse.isEmpty() ? "=" : initialResponse));
    }

    private void loginChallenge(SmtpReply reply, State next, String value) {
        if (reply.code() != 334) {
            authVerdict(reply);
            return;
        }
        state = next;
        send(SaslClient.login(value));
    }

    private void authReply(SmtpReply reply) {
        if (reply.code() == 334
                && request.credentials().isToken()
                && backend().master().isEmpty()) {
            // RFC 7628 / XOAUTH2: the token was refused and the challenge holds the error; an empty answer ends it
            state = State.AUTH_TOKEN_ERROR;
            send("");
            return;
        }
        authVerdict(reply);
    }

    private void authVerdict(SmtpReply reply) {
        if (reply.code() == 235) {
            state = State.DONE;
            loggedIn(null);
        } else if (reply.permanentFailure()) {
            state = State.DONE;
            refused(reply.toString(), false);
        } else if (reply.transientFailure()) {
            state = State.DONE;
            refused(reply.toString(), true);
        } else {
            failed("backend " + backend().id() + " answered AUTH with " + reply.code());
        }
    }
}
