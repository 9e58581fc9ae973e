package dev.postern.proxy.pop3;

import dev.postern.config.Backend;
import dev.postern.config.Protocol;
import dev.postern.config.TlsMode;
import dev.postern.proxy.login.BackendDialogueHandler;
import dev.postern.proxy.login.BackendLoginRequest;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.login.BackendSasl;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.Session;
import io.netty.util.concurrent.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The POP3 login dialogue with one backend: [PROXY v2 header] greeting, [STLS], CAPA, [XCLIENT], then AUTH PLAIN
 * (or the client's own token mechanism, or USER/PASS when the backend has no SASL PLAIN). The backend's answer is
 * the verdict: {@code +OK} logs in, {@code -ERR} refuses ({@code [SYS/TEMP]} and {@code [IN-USE]} as temporary).
 *
 * <p>A probe uses the same dialogue up to CAPA, then says QUIT: that is how Postern learns what the backends offer.
 */
final class Pop3BackendHandler extends BackendDialogueHandler {
    private static final Logger log = LoggerFactory.getLogger(Pop3BackendHandler.class);

    /** RFC 5034 (via RFC 2449): an AUTH command line with its initial response stays within 255 octets. */
    static final int MAX_AUTH_LINE = 255;

    /** Where the dialogue is. */
    enum State {
        /** Waiting for the backend's {@code +OK} greeting. */
        GREETING,
        /** STLS sent. */
        STLS,
        /** TLS handshake in progress. */
        HANDSHAKE,
        /** CAPA sent, waiting for its status line. */
        CAPA,
        /** Reading CAPA's capability lines up to ".". */
        CAPA_LIST,
        /** XCLIENT sent. */
        XCLIENT,
        /** AUTH sent without initial response; waiting for the empty challenge. */
        AUTH_CONTINUE,
        /** AUTH (with its response) sent; waiting for the verdict. */
        AUTH,
        /** The backend sent an error challenge; our empty answer is out, the -ERR follows. */
        AUTH_ERROR,
        /** USER sent. */
        USER,
        /** PASS sent. */
        PASS,
        /** QUIT sent by a probe. */
        QUIT
    }

    private final ProxyServices services;
    private final boolean probe;
    private final Backend backend;
    private State state = State.GREETING;
    private boolean greetingOffersXclient;
    private final List<String> capabilities = new ArrayList<>();
    private boolean capabilitiesOverflow;
    private String pendingResponse;

    private Pop3BackendHandler(
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
    static Pop3BackendHandler login(
            Session session, BackendLoginRequest request, ProxyServices services, Promise<BackendLoginResult> result) {
        return new Pop3BackendHandler(session, request, services, result, false);
    }

    /**
     * A handler that only learns {@code backend}'s capabilities and says QUIT; its result is {@code LoggedIn} when it
     * did.
     */
    static Pop3BackendHandler probe(Backend backend, ProxyServices services, Promise<BackendLoginResult> result) {
        return new Pop3BackendHandler(null, BackendLoginRequest.probe(backend), services, result, true);
    }

    State state() {
        return state;
    }

    @Override
    protected void line(String line) {
        switch (state) {
            case GREETING:
                greeting(line);
                break;
            case STLS:
                if (ok(line)) {
                    state = State.HANDSHAKE;
                    startTls().addListener(f -> {
                        if (f.isSuccess()) {
                            capa();
                        } else {
                            failed("TLS handshake with backend failed: "
                                    + f.cause().getMessage());
                        }
                    });
                } else {
                    failed("backend refused STLS: " + brief(line));
                }
                break;
            case CAPA:
                if (ok(line)) {
                    state = State.CAPA_LIST;
                } else {
                    // a server without RFC 2449: nothing known, plain USER/PASS will do
                    capabilitiesKnown();
                }
                break;
            case CAPA_LIST:
                capabilityLine(line);
                break;
            case XCLIENT:
                if (ok(line)) {
                    login();
                } else {
                    failed("backend refused XCLIENT: " + brief(line));
                }
                break;
            case AUTH_CONTINUE:
                if (line.startsWith("+")) {
                    state = State.AUTH;
                    String response = pendingResponse;
                    pendingResponse = null;
                    send(response);
                } else {
                    verdict(line);
                }
                break;
            case AUTH:
                if (line.startsWith("+ ") || line.equals("+")) {
                    // an error challenge (RFC 7628 3.2.2, XOAUTH2's JSON): answer it so the server finishes with -ERR
                    state = State.AUTH_ERROR;
                    Credentials c = request.credentials();
                    if (backend.master().isEmpty() && c != null && c.isToken()) {
                        send(c.mechanism() == SaslMechanism.OAUTHBEARER ? "AQ==" : "");
                    } else {
                        send("*");
                    }
                } else {
                    verdict(line);
                }
                break;
            case AUTH_ERROR:
            case PASS:
                verdict(line);
                break;
            case USER:
                if (ok(line)) {
                    state = State.PASS;
                    send("PASS " + request.credentials().secret());
                } else {
                    verdict(line);
                }
                break;
            default:
                failed("unexpected backend line in state " + state + ": " + brief(line));
                break;
        }
    }

    private void greeting(String line) {
        if (!ok(line)) {
            failed("backend greeting: " + brief(line));
            return;
        }
        // Dovecot announces XCLIENT to trusted networks in its greeting, not in CAPA
        greetingOffersXclient = line.toUpperCase(Locale.ROOT).contains("[XCLIENT]");
        if (backend.tls() == TlsMode.STARTTLS) {
            state = State.STLS;
            send("STLS");
        } else {
            capa();
        }
    }

    private void capa() {
        state = State.CAPA;
        send("CAPA");
    }

    private void capabilityLine(String line) {
        if (line.equals(".")) {
            capabilitiesKnown();
            return;
        }
        String capability = line.startsWith(".") ? line.substring(1) : line; // byte-stuffing
        if (capabilities.size() < Pop3Capabilities.MAX_LINES && capability.length() <= Pop3Capabilities.MAX_LINE) {
            capabilities.add(capability);
        } else {
            capabilitiesOverflow = true;
        }
    }

    private void capabilitiesKnown() {
        if (capabilitiesOverflow) {
            log.debug("{}: backend {} listed more capabilities than kept", session, backend.id());
        }
        record();
        if (probe) {
            state = State.QUIT;
            send("QUIT");
            loggedIn(null);
            return;
        }
        if (backend.identity() == Backend.Identity.XCLIENT && session != null) { // a health check has no client
            if (greetingOffersXclient || has("XCLIENT")) {
                state = State.XCLIENT;
                send(Pop3Xclient.command(session));
                return;
            }
            warnNoXclient(backend);
        }
        login();
    }

    /** Makes what was learned known to every pool that has this backend. */
    private void record() {
        learned(services, Protocol.POP3, capabilities);
    }

    private void login() {
        Credentials c = request.credentials();
        if (!BackendSasl.isPlainPassword(request) || offersPlain()) {
            BackendSasl sasl = BackendSasl.of(request);
            auth(sasl.mechanism(), sasl.response());
        } else if (!c.authzid().isEmpty() && !c.authzid().equals(c.user())) {
            refused("backend offers no SASL PLAIN to carry an authorization identity", false);
        } else {
            state = State.USER;
            send("USER " + c.user());
        }
    }

    private void auth(SaslMechanism mechanism, String response) {
        String command = "AUTH " + mechanism.wireName();
        String withResponse = command + " " + (response.isEmpty() ? "=" : response);
        if (withResponse.length() <= MAX_AUTH_LINE) {
            state = State.AUTH;
            send(withResponse);
        } else {
            state = State.AUTH_CONTINUE;
            pendingResponse = response;
            send(command);
        }
    }

    private void verdict(String line) {
        if (ok(line)) {
            loggedIn(line);
        } else if (line.startsWith("-ERR")) {
            String upper = line.toUpperCase(Locale.ROOT);
            refused(brief(line), upper.contains("[SYS/TEMP]") || upper.contains("[IN-USE]"));
        } else {
            failed("unexpected backend reply to login: " + brief(line));
        }
    }

    private boolean has(String keyword) {
        for (String line : capabilities) {
            if (Pop3Capabilities.keyword(line).equals(keyword)) {
                return true;
            }
        }
        return false;
    }

    private boolean offersPlain() {
        for (String line : capabilities) {
            if (Pop3Capabilities.keyword(line).equals("SASL")) {
                for (String m : line.substring(4).trim().split(" +")) {
                    if (m.equalsIgnoreCase("PLAIN")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static boolean ok(String line) {
        return line.startsWith("+OK");
    }
}
