package dev.postern.proxy.managesieve;

import dev.postern.config.Backend;
import dev.postern.config.Protocol;
import dev.postern.config.TlsMode;
import dev.postern.proxy.codec.QuotedStrings;
import dev.postern.proxy.login.BackendDialogueHandler;
import dev.postern.proxy.login.BackendLoginRequest;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.login.BackendSasl;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.Session;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ManageSieve login dialogue with one backend: [PROXY v2 header] the greeting's capability response, [STARTTLS
 * and the capability response that follows the handshake], [XCLIENT], then {@code AUTHENTICATE "PLAIN"} with an
 * initial response (the user's credentials, or a master user's with the user as authorization identity), or the
 * client's own OAuth message. The backend's answer is the verdict: {@code OK} logs in (its line goes to the client),
 * {@code NO} refuses ({@code TRYLATER} as temporary). What the backend's capabilities say is recorded for its pools.
 *
 * <p>A probe runs the same dialogue up to the capabilities, then says LOGOUT.
 */
final class ManageSieveBackendHandler extends BackendDialogueHandler {
    private static final Logger log = LoggerFactory.getLogger(ManageSieveBackendHandler.class);

    /** Where the dialogue is. */
    enum State {
        /** Reading the greeting's capability lines up to its OK. */
        GREETING,
        /** STARTTLS sent. */
        STARTTLS,
        /** TLS handshake in progress. */
        HANDSHAKE,
        /** Reading the capability response that follows the handshake. */
        TLS_CAPABILITIES,
        /** XCLIENT sent. */
        XCLIENT,
        /** AUTHENTICATE sent; waiting for the verdict (or a challenge). */
        AUTH,
        /** LOGOUT sent by a probe. */
        LOGOUT
    }

    private final ProxyServices services;
    private final Backend backend;
    private final boolean probe;
    private State state = State.GREETING;
    private final List<String> capabilities = new ArrayList<>();
    /** A challenge announced as a literal: its content is the next line. */
    private boolean literalChallenge;
    /** A token mechanism's error challenge was answered; a second challenge is a protocol error. */
    private boolean challengeAnswered;

    private ManageSieveBackendHandler(
            Session session,
            BackendLoginRequest request,
            ProxyServices services,
            Promise<BackendLoginResult> result,
            boolean probe) {
        super(session, request, services.tls(), result);
        this.services = services;
        this.backend = request.backend();
        this.probe = probe;
    }

    /** A handler that logs {@code request} in. */
    static ManageSieveBackendHandler login(
            Session session, BackendLoginRequest request, ProxyServices services, Promise<BackendLoginResult> result) {
        return new ManageSieveBackendHandler(session, request, services, result, false);
    }

    /** A handler that only learns {@code backend}'s capabilities and says LOGOUT; {@code LoggedIn} when it did. */
    static ManageSieveBackendHandler probe(
            Backend backend, ProxyServices services, Promise<BackendLoginResult> result) {
        return new ManageSieveBackendHandler(null, BackendLoginRequest.probe(backend), services, result, true);
    }

    State state() {
        return state;
    }

    @Override
    protected void line(String line) {
        if (literalChallenge) {
            literalChallenge = false;
            challenge();
            return;
        }
        SieveReply reply = SieveReply.parse(line);
        if (reply.status().equals("BYE")) {
            failed("backend said BYE: " + brief(reply.text()));
            return;
        }
        switch (state) {
            case GREETING, TLS_CAPABILITIES -> capabilityLine(line, reply);
            case STARTTLS -> startTlsReply(reply);
            case HANDSHAKE -> failed("backend sent data during the TLS handshake");
            case XCLIENT -> xclientReply(reply);
            case AUTH -> authReply(reply);
            case LOGOUT -> {
                // the probe's result is in; the backend's goodbye needs no answer
            }
        }
    }

    private void capabilityLine(String line, SieveReply reply) {
        if (!reply.isStatus()) {
            if (!reply.strings().isEmpty() && capabilities.size() < ManageSieveCapabilities.MAX_LINES * 2) {
                capabilities.add(line);
            }
            return;
        }
        if (!reply.isOk()) {
            failed((state == State.GREETING ? "backend greeting: " : "backend after STARTTLS: ") + brief(reply.text()));
            return;
        }
        if (state == State.GREETING && backend.tls() == TlsMode.STARTTLS) {
            if (!has("STARTTLS")) {
                failed("backend does not offer STARTTLS");
                return;
            }
            state = State.STARTTLS;
            send("STARTTLS");
            return;
        }
        capabilitiesKnown();
    }

    private void startTlsReply(SieveReply reply) {
        if (!reply.isOk()) {
            failed("backend refused STARTTLS: " + brief(reply.text()));
            return;
        }
        state = State.HANDSHAKE;
        startTls(() -> {
            // RFC 5804 section 2.2: the server re-issues its capabilities; what it said before TLS is forgotten
            capabilities.clear();
            state = State.TLS_CAPABILITIES;
        });
    }

    private void capabilitiesKnown() {
        record();
        if (probe) {
            state = State.LOGOUT;
            send("LOGOUT");
            loggedIn(null);
            return;
        }
        if (backend.identity() == Backend.Identity.XCLIENT) {
            if (has("XCLIENT")) {
                state = State.XCLIENT;
                send(xclient());
                return;
            }
            warnNoXclient(backend);
        }
        authenticate();
    }

    private void xclientReply(SieveReply reply) {
        if (!reply.isStatus()) {
            return; // a capability line some servers send again: nothing to learn here
        }
        if (!reply.isOk()) {
            failed("backend refused XCLIENT: " + brief(reply.text()));
            return;
        }
        authenticate();
    }

    /** Makes what was learned known to every pool that has this backend. */
    private void record() {
        learned(services, Protocol.MANAGESIEVE, ManageSieveCapabilities.fromBackend(capabilities));
    }

    private void authenticate() {
        state = State.AUTH;
        BackendSasl sasl = BackendSasl.of(request);
        String mechanism = sasl.mechanism().wireName();
        if (!offers(sasl.mechanism())) {
            failed("backend does not offer SASL " + mechanism);
            return;
        }
        send("AUTHENTICATE " + QuotedStrings.quote(mechanism) + " " + SieveStrings.argument(sasl.response()));
    }

    private void authReply(SieveReply reply) {
        if (reply.status().isEmpty()) {
            if (reply.literal() >= 0) {
                literalChallenge = true; // the challenge's content is the next line
            } else {
                challenge();
            }
            return;
        }
        switch (reply.status()) {
            case "OK" -> loggedIn(reply.code().equals("SASL") ? "OK" : joinOk(reply));
            case "NO" -> refused(
                    (reply.code().isEmpty() ? "" : "(" + reply.code() + ") ") + brief(reply.text()),
                    reply.code().equals("TRYLATER"));
            default -> failed("unexpected backend reply to AUTHENTICATE: " + brief(reply.status()));
        }
    }

    /**
     * A challenge after the initial response: only an OAuth error status (RFC 7628 section 3.2.2) is expected; its
     * answer makes the backend finish with NO. Anything else is cancelled.
     */
    private void challenge() {
        Credentials c = request.credentials();
        if (backend.master().isEmpty() && c != null && c.isToken() && !challengeAnswered) {
            challengeAnswered = true;
            send(c.mechanism() == SaslMechanism.OAUTHBEARER ? "\"AQ==\"" : "\"\"");
        } else {
            send("\"*\"");
        }
    }

    /** The OK line for the client: the backend's text, re-quoted (no response code: those were the backend's). */
    private static String joinOk(SieveReply reply) {
        String text = reply.text();
        return text.isEmpty() || !SieveStrings.quotable(text) ? "OK" : "OK " + QuotedStrings.quote(text);
    }

    private boolean has(String name) {
        for (String line : capabilities) {
            if (ManageSieveCapabilities.name(line).equals(name)) {
                return true;
            }
        }
        return false;
    }

    private boolean offers(SaslMechanism mechanism) {
        for (String line : capabilities) {
            if (ManageSieveCapabilities.name(line).equals("SASL")) {
                List<String> strings = SieveReply.parse(line).strings();
                if (strings.size() < 2) {
                    return false;
                }
                for (String m : strings.get(1).split(" +")) {
                    if (m.toUpperCase(Locale.ROOT).equals(mechanism.wireName())) {
                        return true;
                    }
                }
                return false;
            }
        }
        // a server that lists no SASL capability is asked anyway; its answer decides
        return true;
    }

    /** Dovecot's managesieve-login XCLIENT: ADDR, PORT and SESSION (its log then names the client). */
    private String xclient() {
        StringBuilder sb = new StringBuilder("XCLIENT");
        InetSocketAddress client = session.clientAddress();
        if (client != null && client.getAddress() != null) {
            String address = client.getAddress().getHostAddress();
            int scope = address.indexOf('%');
            sb.append(" ADDR=").append(scope < 0 ? address : address.substring(0, scope));
            sb.append(" PORT=").append(client.getPort());
        }
        sb.append(" SESSION=").append(session.id());
        return sb.toString();
    }
}
