package dev.postern.proxy.smtp;

import dev.postern.config.Backend;
import dev.postern.config.Protocol;
import dev.postern.config.TlsMode;
import dev.postern.proxy.login.BackendDialogueHandler;
import dev.postern.proxy.login.BackendLoginRequest;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.routing.BackendCapabilities;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslClient;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.tls.TlsManager;
import io.netty.util.concurrent.Promise;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a session in on an SMTP submission backend: [PROXY v2 header], greeting, {@code EHLO}, [{@code STARTTLS},
 * {@code EHLO}], [{@code XCLIENT}, {@code EHLO}], then {@code AUTH PLAIN} with an initial response or {@code AUTH
 * LOGIN} (a master user with PLAIN and the session's user as authorization identity; OAuth token messages relayed as
 * the client sent them). Every EHLO reply is recorded for the pool, so front ends offer what the backends support.
 *
 * <p>After {@code 235} the channel is left with the backend in its authenticated state; the client, which already did
 * EHLO with Postern, goes on with {@code MAIL FROM} directly.
 */
final class SmtpBackendDialogue extends BackendDialogueHandler {
    private static final Logger log = LoggerFactory.getLogger(SmtpBackendDialogue.class);

    private enum State {
        GREETING,
        EHLO,
        STARTTLS,
        HANDSHAKE,
        XCLIENT,
        AUTH,
        AUTH_LOGIN_USER,
        AUTH_LOGIN_PASSWORD,
        AUTH_TOKEN_ERROR,
        DONE
    }

    private final BackendCapabilities capabilities;
    private final String hostname;
    private final SmtpReplyReader reader = new SmtpReplyReader();
    private State state = State.GREETING;
    private boolean tlsDone;
    private boolean xclientDone;

    SmtpBackendDialogue(
            Session session,
            BackendLoginRequest request,
            TlsManager tls,
            Promise<BackendLoginResult> result,
            BackendCapabilities capabilities,
            String hostname) {
        super(session, request, tls, result);
        this.capabilities = capabilities;
        this.hostname = hostname;
    }

    private Backend backend() {
        return request.backend();
    }

    @Override
    protected void line(String line) {
        SmtpReply reply;
        try {
            reply = reader.add(line);
        } catch (SmtpReplyReader.MalformedReplyException e) {
            failed("backend " + backend().id() + ": " + e.getMessage());
            return;
        }
        if (reply != null) {
            reply(reply);
        }
    }

    private void reply(SmtpReply reply) {
        switch (state) {
            case GREETING -> greeting(reply);
            case EHLO -> ehlo(reply);
            case STARTTLS -> startTlsReply(reply);
            case XCLIENT -> xclient(reply);
            case AUTH_LOGIN_USER -> loginChallenge(
                    reply, State.AUTH_LOGIN_PASSWORD, request.credentials().user());
            case AUTH_LOGIN_PASSWORD -> loginChallenge(
                    reply, State.AUTH, request.credentials().secret());
            case AUTH -> authReply(reply);
            case AUTH_TOKEN_ERROR -> authVerdict(reply);
            case HANDSHAKE, DONE -> failed("backend " + backend().id() + " sent an unexpected reply: " + reply);
        }
    }

    private void greeting(SmtpReply reply) {
        if (reply.code() != 220) {
            failed("backend " + backend().id() + " greeting: " + reply);
            return;
        }
        ehlo();
    }

    private void ehlo() {
        state = State.EHLO;
        send("EHLO " + hostname);
    }

    private void ehlo(SmtpReply reply) {
        if (reply.code() != 250) {
            failed("backend " + backend().id() + " refused EHLO: " + reply);
            return;
        }
        List<String> keywords = reply.lines().subList(1, reply.lines().size());
        if (request.pool() != null) {
            capabilities.learned(request.pool(), Protocol.SMTP, keywords);
        }
        if (backend().tls() == TlsMode.STARTTLS && !tlsDone) {
            if (!EhloKeywords.has(keywords, "STARTTLS")) {
                failed("backend " + backend().id() + " does not offer STARTTLS");
                return;
            }
            state = State.STARTTLS;
            send("STARTTLS");
            return;
        }
        if (backend().identity() == Backend.Identity.XCLIENT && !xclientDone) {
            xclientDone = true;
            String command = EhloKeywords.has(keywords, "XCLIENT")
                    ? Xclient.command(
                            EhloKeywords.parameters(keywords, "XCLIENT"),
                            request.auth().client(),
                            request.auth().smtpHelo(),
                            request.user())
                    : null;
            if (command != null) {
                state = State.XCLIENT;
                send(command);
                return;
            }
            log.warn(
                    "{}: backend {} is configured for XCLIENT but does not offer it; it sees Postern's address",
                    session,
                    backend().id());
        }
        authenticate(keywords);
    }

    private void startTlsReply(SmtpReply reply) {
        if (reply.code() != 220) {
            failed("backend " + backend().id() + " refused STARTTLS: " + reply);
            return;
        }
        state = State.HANDSHAKE;
        startTls().addListener(f -> {
            if (!f.isSuccess()) {
                failed("TLS handshake with backend " + backend().id() + " failed: "
                        + f.cause().getMessage());
                return;
            }
            tlsDone = true;
            ehlo(); // RFC 3207: the server forgot everything; EHLO again
        });
    }

    private void xclient(SmtpReply reply) {
        if (reply.code() != 220) {
            failed("backend " + backend().id() + " refused XCLIENT: " + reply);
            return;
        }
        // XCLIENT starts a new session with a new greeting (the 220 just read); Postfix requires EHLO again
        ehlo();
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
