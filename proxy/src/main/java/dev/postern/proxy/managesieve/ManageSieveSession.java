package dev.postern.proxy.managesieve;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.codec.QuotedStrings;
import dev.postern.proxy.frontend.PreAuthHandler;
import dev.postern.proxy.login.BackendDialogue;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.login.LoginOutcome;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslDriver;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.sasl.SaslProfile;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.session.CloseReason;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A ManageSieve client's non-authenticated state (RFC 5804): the greeting (a capability response), CAPABILITY, NOOP,
 * LOGOUT, STARTTLS (whose handshake is followed by a fresh capability response, section 2.2) and AUTHENTICATE with
 * Postern's SASL mechanisms, strings quoted or literal. Every other command gets {@code NO} and counts as a bad
 * command. A successful login hands the session to the relay; from then on the client talks to the backend, whose
 * CAPABILITY tells what it offers the user (Postern negotiates no SASL security layer, so RFC 5804 asks for no
 * capability response after AUTHENTICATE).
 */
public final class ManageSieveSession extends PreAuthHandler<SieveRequest> {
    static final String GREETING = "OK \"Postern ready.\"";
    static final String LOGGED_IN = "OK \"Logged in.\"";
    static final String AUTH_FAILED = "NO \"Authentication failed.\"";
    static final String UNAVAILABLE = "NO (TRYLATER) \"Service temporarily unavailable, try again later.\"";
    static final String ENCRYPT_NEEDED = "NO (ENCRYPT-NEEDED) \"Use STARTTLS first.\"";
    static final String PLAINTEXT_DISALLOWED =
            "NO (ENCRYPT-NEEDED) \"Plaintext authentication is not allowed on this connection.\"";
    static final String UNSUPPORTED = "NO \"Unsupported authentication mechanism.\"";

    /** RFC 5804: the challenge is a string of its own, so the profile adds nothing; the host quotes it. */
    static final SaslProfile PROFILE = new SaslProfile("", "NO \"Authentication cancelled.\"", "NO ", UNSUPPORTED);

    /** Commands of the authenticated state (RFC 5804 section 2): a client must log in first. */
    private static final Set<String> AFTER_LOGIN = Set.of(
            "HAVESPACE",
            "PUTSCRIPT",
            "LISTSCRIPTS",
            "SETACTIVE",
            "GETSCRIPT",
            "DELETESCRIPT",
            "RENAMESCRIPT",
            "CHECKSCRIPT",
            "UNAUTHENTICATE");

    private static final Logger log = LoggerFactory.getLogger(ManageSieveSession.class);

    /** Where the session is. */
    enum State {
        /** Reading commands. */
        COMMANDS,
        /** An AUTHENTICATE exchange waits for the client's answer to a challenge. */
        SASL,
        /** A login is in flight; the decoder is paused. */
        LOGIN,
        /** Logged in and handed over, or closing. */
        DONE
    }

    private final BackendDialogue dialogue;
    private State state = State.COMMANDS;
    private final SaslDriver sasl = new SaslDriver(new SaslHost());

    public ManageSieveSession(
            ProxyServices services, ListenerConfig listener, LoginFlow loginFlow, BackendDialogue dialogue) {
        super(services, listener, loginFlow, SieveRequest.class);
        this.dialogue = dialogue;
    }

    State state() {
        return state;
    }

    // ---- PreAuthHandler hooks

    @Override
    protected void greet() {
        capabilities();
        writeAndFlush(GREETING);
    }

    @Override
    protected String lineTooLongReply() {
        return "BYE \"Line too long.\"";
    }

    @Override
    protected String timeoutReply() {
        return "BYE \"Disconnected for inactivity.\"";
    }

    @Override
    protected String tooManyErrorsReply() {
        return "BYE \"Too many invalid commands or failed logins.\"";
    }

    @Override
    protected void afterStartTls() {
        // RFC 5804 section 2.2: nothing from before TLS counts, and the server re-issues its capabilities
        sieveDecoder().reset();
        sasl.reset();
        state = State.COMMANDS;
        capabilities();
        writeAndFlush("OK \"TLS negotiation successful.\"");
    }

    @Override
    protected void command(SieveRequest request) {
        if (state == State.DONE || state == State.LOGIN) {
            return;
        }
        if (request instanceof SieveRequest.SaslResponse r) {
            if (state == State.SASL) {
                sasl.respond(r.value());
            }
        } else if (request instanceof SieveRequest.Malformed m) {
            malformed(m);
        } else if (request instanceof SieveRequest.Command c && state == State.COMMANDS) {
            execute(c);
        }
    }

    // ---- commands

    private void execute(SieveRequest.Command c) {
        switch (c.name()) {
            case "CAPABILITY" -> {
                if (noArguments(c)) {
                    capabilities();
                    write("OK \"Capability completed.\"");
                }
            }
            case "NOOP" -> noop(c);
            case "LOGOUT" -> {
                if (noArguments(c)) {
                    state = State.DONE;
                    goodbye("OK \"Logout completed.\"");
                }
            }
            case "STARTTLS" -> {
                if (noArguments(c)) {
                    startTlsCommand();
                }
            }
            case "AUTHENTICATE" -> authenticate(c);
            default -> reject(
                    AFTER_LOGIN.contains(c.name()) ? "NO \"Authenticate first.\"" : "NO \"Unknown command.\"");
        }
    }

    private void capabilities() {
        List<String> backend = listener.pool()
                .flatMap(pool -> services.capabilities().get(pool, Protocol.MANAGESIEVE))
                .orElse(List.of());
        for (String line :
                ManageSieveCapabilities.advertised(backend, credentialsAllowed(), canStartTls(), externalOffered())) {
            write(line);
        }
    }

    private void noop(SieveRequest.Command c) {
        List<SieveRequest.Arg> args = c.args();
        if (args.isEmpty()) {
            write("OK \"NOOP completed.\"");
        } else if (args.size() == 1
                && args.get(0).string()
                && SieveStrings.quotable(args.get(0).value())) {
            // RFC 5804 section 2.13: the TAG response code echoes the client's string
            write("OK (TAG " + QuotedStrings.quote(args.get(0).value()) + ") \"Done.\"");
        } else {
            reject("NO \"NOOP takes one optional string.\"");
        }
    }

    private void startTlsCommand() {
        if (canStartTls()) {
            if (!startTls("OK \"Begin TLS negotiation now.\"")) {
                state = State.DONE;
            }
        } else {
            reject(isSecure() ? "NO \"TLS is already active.\"" : "NO \"STARTTLS is not available.\"");
        }
    }

    private void authenticate(SieveRequest.Command c) {
        List<SieveRequest.Arg> args = c.args();
        if (args.isEmpty()
                || args.size() > 2
                || args.size() == 2 && !args.get(1).string()) {
            reject("NO \"AUTHENTICATE takes a mechanism and an optional initial response.\"");
            return;
        }
        if (!credentialsAllowed()) {
            reject(canStartTls() ? ENCRYPT_NEEDED : PLAINTEXT_DISALLOWED);
            return;
        }
        // an empty string is an empty initial response (RFC 5804 section 2.1), not a missing one
        String initialResponse = args.size() == 2 ? args.get(1).value() : null;
        sasl.start(
                PROFILE,
                args.get(0).value(),
                initialResponse,
                SaslMechanism.withExternal(ManageSieveCapabilities.MECHANISMS, externalOffered()));
    }

    /** The AUTHENTICATE exchange's view of this session. */
    private final class SaslHost implements SaslDriver.Host {
        /** The next line written is a challenge: a string of its own (the driver writes it right after). */
        private boolean challengeNext;

        @Override
        public void started(SaslMechanism mechanism) {
            log.debug("{}: AUTHENTICATE {}", session, mechanism.wireName());
        }

        @Override
        public void write(String line) {
            // a challenge too long to quote goes as a literal ({n}, the server-to-client form)
            ManageSieveSession.this.write(
                    !challengeNext
                            ? line
                            : SieveStrings.quotable(line)
                                    ? QuotedStrings.quote(line)
                                    : "{" + line.length() + "}\r\n" + line);
            challengeNext = false;
        }

        @Override
        public void error(String reply) {
            // the driver's malformed-response reply is "NO " and a reason; ManageSieve wants the text quoted
            reject(
                    reply.equals(UNSUPPORTED) || !reply.startsWith(PROFILE.invalidPrefix())
                            ? reply
                            : "NO "
                                    + QuotedStrings.quote(reply.substring(
                                            PROFILE.invalidPrefix().length())));
        }

        @Override
        public void exchanging(boolean on) {
            challengeNext = on;
            state = on ? State.SASL : State.COMMANDS;
            if (on) {
                sieveDecoder().expectSaslResponse();
            }
        }

        @Override
        public void authenticated(Credentials credentials) {
            startLogin(credentials);
        }

        @Override
        public void refused() {
            authenticationFailed("bearer token refused");
        }
    }

    // ---- login

    private void startLogin(Credentials credentials) {
        state = State.LOGIN;
        login(authRequest(credentials, null), dialogue, outcome -> loginDone(credentials, outcome));
    }

    private void loginDone(Credentials credentials, LoginOutcome outcome) {
        if (outcome instanceof LoginOutcome.Success s) {
            state = State.DONE;
            String detail = s.detail();
            writeAndFlush(detail != null && (detail.equals("OK") || detail.startsWith("OK ")) ? detail : LOGGED_IN);
            handOver(dialogue.handlerNames());
            return;
        }
        state = State.COMMANDS;
        if (outcome instanceof LoginOutcome.Failure f && f.tokenError().isPresent() && credentials.isToken()) {
            log.debug("{}: login failed: {}", session, f.reason());
            sasl.refuse(PROFILE, f.tokenError().get().challenge(credentials.mechanism()));
        } else if (outcome instanceof LoginOutcome.Failure f) {
            authenticationFailed(f.reason());
        } else if (outcome instanceof LoginOutcome.Unavailable u) {
            log.debug("{}: login unavailable: {}", session, u.reason());
            write(UNAVAILABLE);
        }
    }

    private void authenticationFailed(String reason) {
        log.debug("{}: login failed: {}", session, reason);
        write(AUTH_FAILED);
        if (loginFailed()) {
            state = State.DONE;
        }
    }

    // ---- errors

    private boolean noArguments(SieveRequest.Command c) {
        if (c.args().isEmpty()) {
            return true;
        }
        reject("NO \"" + c.name() + " takes no arguments.\"");
        return false;
    }

    /** Answers an invalid command and counts it, unless it was one too many and the connection is being closed. */
    private void reject(String reply) {
        if (badCommand()) {
            state = State.DONE;
        } else {
            write(reply);
        }
    }

    private void malformed(SieveRequest.Malformed m) {
        if (m.fatal()) {
            state = State.DONE;
            services.metrics().connectionRefused(listener, "literal-too-big");
            writeAndClose("BYE " + QuotedStrings.quote(m.reason() + "."), CloseReason.LIMIT);
            return;
        }
        reject("NO " + QuotedStrings.quote(m.reason() + "."));
    }

    private ManageSieveDecoder sieveDecoder() {
        return (ManageSieveDecoder) decoder();
    }
}
