package dev.postern.proxy.imap;

import dev.postern.config.Backend;
import dev.postern.config.Protocol;
import dev.postern.config.TlsMode;
import dev.postern.proxy.codec.QuotedStrings;
import dev.postern.proxy.login.BackendDialogueHandler;
import dev.postern.proxy.login.BackendLoginRequest;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.login.BackendSasl;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.Session;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a session in on an IMAP backend: reads the greeting, learns the capabilities, upgrades with STARTTLS when the
 * backend is configured for it (and refuses to go on without), sends the client's address in an ID command when the
 * backend's identity is {@code id}, then logs in: {@code LOGIN} with quoted strings or literals, {@code AUTHENTICATE
 * PLAIN} for an authorization identity or a master user, and the client's own token message for XOAUTH2 and
 * OAUTHBEARER. The result's detail is the backend's capability list after login.
 */
final class ImapBackendHandler extends BackendDialogueHandler {
    private static final Logger log = LoggerFactory.getLogger(ImapBackendHandler.class);

    /** Response codes that say a refused login may work later (RFC 5530). */
    private static final Set<String> TEMPORARY_CODES = Set.of("UNAVAILABLE", "SERVERBUG", "INUSE", "LIMIT");

    /** Where the dialogue is. */
    private enum State {
        GREETING,
        CAPABILITY,
        STARTTLS,
        HANDSHAKE,
        ID,
        LOGIN,
        CAPABILITY_AFTER_LOGIN
    }

    private final ProxyServices services;
    private final Backend backend;
    private State state = State.GREETING;
    private int tags;
    private String tag;
    private List<String> capabilities;
    private boolean tlsDone;
    private boolean idDone;
    /** Lines still to send on the backend's continuation requests (after a synchronizing literal, a SASL step). */
    private final Deque<String> continuations = new ArrayDeque<>(2);
    /** A token mechanism's error challenge was answered; a second one is a protocol error. */
    private boolean tokenChallengeAnswered;

    private List<String> loginCapabilities;

    ImapBackendHandler(
            Session session, BackendLoginRequest request, ProxyServices services, Promise<BackendLoginResult> result) {
        super(session, request, services.tls(), result);
        this.services = services;
        this.backend = request.backend();
    }

    @Override
    protected void line(String line) {
        ImapReply reply = ImapReply.parse(line);
        if (reply.isUntagged() && reply.status().equals("BYE") && state != State.GREETING) {
            failed("backend said BYE: " + reply.text());
            return;
        }
        switch (state) {
            case GREETING -> greeting(reply);
            case CAPABILITY -> capability(reply);
            case STARTTLS -> startTlsReply(reply);
            case HANDSHAKE -> failed("backend sent data during the TLS handshake");
            case ID -> idReply(reply);
            case LOGIN -> loginReply(reply);
            case CAPABILITY_AFTER_LOGIN -> capabilityAfterLogin(reply);
        }
    }

    private void greeting(ImapReply reply) {
        if (!reply.isUntagged()
                || reply.status().equals("BYE")
                || reply.status().equals("PREAUTH")) {
            failed(reply.status().equals("PREAUTH") ? "backend greeted with PREAUTH" : "backend greeting: " + reply);
            return;
        }
        if (!reply.status().equals("OK")) {
            failed("unexpected backend greeting");
            return;
        }
        if (reply.codeName().equals("CAPABILITY")) {
            capabilities = ImapCapabilities.parse(reply.codeArguments());
        }
        next();
    }

    /** The next step before login: capabilities, STARTTLS, ID, then the login itself. */
    private void next() {
        if (capabilities == null) {
            state = State.CAPABILITY;
            command("CAPABILITY");
        } else if (backend.tls() == TlsMode.STARTTLS && !tlsDone) {
            if (!ImapCapabilities.has(capabilities, "STARTTLS")) {
                failed("backend does not offer STARTTLS");
                return;
            }
            state = State.STARTTLS;
            command("STARTTLS");
        } else if (backend.identity() == Backend.Identity.ID && !idDone) {
            idDone = true;
            state = State.ID;
            command("ID " + idFields());
        } else {
            login();
        }
    }

    private void capability(ImapReply reply) {
        if (reply.isUntagged() && reply.status().equals("CAPABILITY")) {
            capabilities = ImapCapabilities.parse(reply.text());
        } else if (isOurs(reply)) {
            if (!reply.status().equals("OK")) {
                failed("backend refused CAPABILITY");
                return;
            }
            if (capabilities == null) {
                capabilities = List.of();
            }
            next();
        }
    }

    private void startTlsReply(ImapReply reply) {
        if (!isOurs(reply)) {
            return;
        }
        if (!reply.status().equals("OK")) {
            failed("backend refused STARTTLS");
            return;
        }
        state = State.HANDSHAKE;
        startTls(() -> {
            // RFC 2595: what the backend said before TLS is forgotten
            tlsDone = true;
            capabilities = null;
            next();
        });
    }

    private void idReply(ImapReply reply) {
        if (isOurs(reply)) {
            if (!reply.status().equals("OK")) {
                // the client's address is a courtesy to the backend's logs and limits; the login may still go on
                log.debug("{}: backend {} answered ID with {}", session, backend.id(), reply.status());
            }
            next();
        }
    }

    // ---- login

    private void login() {
        state = State.LOGIN;
        Credentials credentials = request.credentials();
        if (!BackendSasl.isPlainPassword(request)
                || !credentials.authzid().isEmpty()
                || ImapCapabilities.has(capabilities, "LOGINDISABLED")) {
            BackendSasl sasl = BackendSasl.of(request);
            authenticate(sasl.mechanism().wireName(), sasl.response());
        } else {
            List<String> parts = ImapStrings.command(
                    nextTag() + " LOGIN",
                    List.of(credentials.user(), credentials.secret()),
                    ImapCapabilities.has(capabilities, "LITERAL+"));
            send(parts.get(0));
            continuations.addAll(parts.subList(1, parts.size()));
        }
    }

    /** AUTHENTICATE with one client message: as initial response with SASL-IR, else on the first challenge. */
    private void authenticate(String mechanism, String base64) {
        if (ImapCapabilities.has(capabilities, "SASL-IR")) {
            send(nextTag() + " AUTHENTICATE " + mechanism + " " + (base64.isEmpty() ? "=" : base64));
        } else {
            send(nextTag() + " AUTHENTICATE " + mechanism);
            continuations.add(base64);
        }
    }

    private void loginReply(ImapReply reply) {
        if (reply.isContinuation()) {
            if (!continuations.isEmpty()) {
                send(continuations.poll());
            } else if (request.credentials().isToken() && !tokenChallengeAnswered) {
                // RFC 7628: an error challenge (JSON); an empty response ends the exchange with the backend's NO
                tokenChallengeAnswered = true;
                send("");
            } else {
                send("*");
            }
            return;
        }
        if (reply.isUntagged()) {
            if (reply.status().equals("CAPABILITY")) {
                loginCapabilities = ImapCapabilities.parse(reply.text());
            }
            return;
        }
        if (!isOurs(reply)) {
            failed("unexpected reply to login");
            return;
        }
        switch (reply.status()) {
            case "OK" -> {
                if (reply.codeName().equals("CAPABILITY")) {
                    loginCapabilities = ImapCapabilities.parse(reply.codeArguments());
                }
                if (loginCapabilities == null) {
                    state = State.CAPABILITY_AFTER_LOGIN;
                    command("CAPABILITY");
                } else {
                    succeed();
                }
            }
            case "NO" -> refused(
                    (reply.code() == null ? "" : "[" + reply.code() + "] ") + reply.text(),
                    TEMPORARY_CODES.contains(reply.codeName()));
            default -> failed("backend answered login with " + reply.status());
        }
    }

    private void capabilityAfterLogin(ImapReply reply) {
        if (reply.isUntagged() && reply.status().equals("CAPABILITY")) {
            loginCapabilities = ImapCapabilities.parse(reply.text());
        } else if (isOurs(reply)) {
            if (!reply.status().equals("OK")) {
                failed("backend refused CAPABILITY after login");
                return;
            }
            if (loginCapabilities == null) {
                loginCapabilities = List.of();
            }
            succeed();
        }
    }

    private void succeed() {
        learned(services, Protocol.IMAP, loginCapabilities);
        loggedIn(ImapCapabilities.afterLogin(loginCapabilities));
    }

    // ---- helpers

    private String nextTag() {
        tag = "P" + (++tags);
        return tag;
    }

    private void command(String command) {
        send(nextTag() + " " + command);
    }

    private boolean isOurs(ImapReply reply) {
        return reply.tag().equals(tag);
    }

    /** The ID list with the client's address (Dovecot: x-originating-ip etc. from trusted networks). */
    private String idFields() {
        StringBuilder sb = new StringBuilder("(");
        if (session == null) {
            // a health check's probe login: there is no client to tell about
            field(sb, "name", "Postern");
            return sb.append(')').toString();
        }
        InetSocketAddress client = session.clientAddress();
        InetSocketAddress local = session.localAddress();
        if (client != null && client.getAddress() != null) {
            field(sb, "x-originating-ip", address(client));
            field(sb, "x-originating-port", Integer.toString(client.getPort()));
        }
        if (local != null && local.getAddress() != null) {
            field(sb, "x-connected-ip", address(local));
            field(sb, "x-connected-port", Integer.toString(local.getPort()));
        }
        field(sb, "x-session-id", session.id());
        field(sb, "name", "Postern");
        return sb.append(')').toString();
    }

    private static void field(StringBuilder sb, String name, String value) {
        if (sb.length() > 1) {
            sb.append(' ');
        }
        sb.append(QuotedStrings.quote(name)).append(' ').append(QuotedStrings.quote(value));
    }

    private static String address(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        int scope = host.indexOf('%');
        return scope < 0 ? host : host.substring(0, scope);
    }
}
