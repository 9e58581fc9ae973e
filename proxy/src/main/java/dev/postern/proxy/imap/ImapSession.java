package dev.postern.proxy.imap;

import dev.postern.config.ListenerConfig;
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
 * The IMAP session before login, one per client connection: greeting, CAPABILITY, NOOP, LOGOUT, ID, STARTTLS,
 * LOGIN and AUTHENTICATE (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER; SASL-IR). Every other command gets a tagged {@code BAD}
 * and counts toward the bad-command limit. After a successful login the client gets the backend's capabilities in
 * its tagged {@code OK} and the session is relayed.
 */
public final class ImapSession extends PreAuthHandler<ImapRequest> {
    private static final Logger log = LoggerFactory.getLogger(ImapSession.class);

    /** Commands of the authenticated and selected states (RFC 9051 and common extensions): not valid before login. */
    private static final Set<String> AFTER_LOGIN = Set.of(
            "SELECT",
            "EXAMINE",
            "CREATE",
            "DELETE",
            "RENAME",
            "SUBSCRIBE",
            "UNSUBSCRIBE",
            "LIST",
            "LSUB",
            "NAMESPACE",
            "STATUS",
            "APPEND",
            "IDLE",
            "ENABLE",
            "CHECK",
            "CLOSE",
            "UNSELECT",
            "EXPUNGE",
            "SEARCH",
            "FETCH",
            "STORE",
            "COPY",
            "MOVE",
            "UID",
            "GETQUOTA",
            "GETQUOTAROOT",
            "SETQUOTA",
            "GETACL",
            "SETACL",
            "DELETEACL",
            "LISTRIGHTS",
            "MYRIGHTS",
            "GETMETADATA",
            "SETMETADATA",
            "COMPRESS",
            "SORT",
            "THREAD",
            "NOTIFY",
            "ESEARCH",
            "REPLACE");

    /** What the session is doing. */
    private enum State {
        /** Reading commands. */
        COMMANDS,
        /** An AUTHENTICATE exchange waits for the client's next response line. */
        AUTHENTICATING,
        /** A login is in flight; the decoder is paused. */
        LOGGING_IN,
        /** Logged in and handed over, or closing. */
        DONE
    }

    private final BackendDialogue dialogue;
    private State state = State.COMMANDS;
    private String saslTag;
    private final SaslDriver sasl = new SaslDriver(new SaslHost());
    private ImapId clientId;

    public ImapSession(ProxyServices services, ListenerConfig listener, LoginFlow loginFlow, BackendDialogue dialogue) {
        super(services, listener, loginFlow, ImapRequest.class);
        this.dialogue = dialogue;
    }

    // ---- PreAuthHandler hooks

    @Override
    protected void greet() {
        writeAndFlush("* OK [CAPABILITY " + capabilities() + "] Postern ready");
    }

    @Override
    protected String lineTooLongReply() {
        return "* BYE Line too long";
    }

    @Override
    protected String timeoutReply() {
        return "* BYE Autologout; idle for too long";
    }

    @Override
    protected String tooManyErrorsReply() {
        return "* BYE Too many errors";
    }

    @Override
    protected void afterStartTls() {
        // RFC 2595 section 3.1: nothing from before the handshake carries over
        imapDecoder().reset();
        state = State.COMMANDS;
        sasl.reset();
        saslTag = null;
        clientId = null;
    }

    @Override
    protected void command(ImapRequest request) {
        if (state == State.DONE) {
            return;
        }
        if (request instanceof ImapRequest.Command c) {
            if (state == State.COMMANDS) {
                execute(c);
            }
        } else if (request instanceof ImapRequest.SaslResponse r) {
            if (state == State.AUTHENTICATING) {
                sasl.respond(r.line());
            }
        } else if (request instanceof ImapRequest.LiteralWanted w) {
            literalWanted(w);
        } else if (request instanceof ImapRequest.Malformed m) {
            malformed(m);
        }
    }

    /**
     * Asks for the literal, unless the command is sure to be refused: credentials where they may not be sent get
     * their {@code NO} before the client sends them (a synchronizing literal waits for the go-ahead).
     */
    private void literalWanted(ImapRequest.LiteralWanted w) {
        if (state == State.COMMANDS
                && (w.name().equals("LOGIN") || w.name().equals("AUTHENTICATE"))
                && privacyRequired(w.tag())) {
            imapDecoder().abandonCommand();
        } else {
            write("+ Ready for literal data");
        }
        ctx.flush();
    }

    private String capabilities() {
        return ImapCapabilities.preAuth(canStartTls(), credentialsAllowed(), externalOffered());
    }

    private ImapDecoder imapDecoder() {
        return (ImapDecoder) decoder();
    }

    // ---- commands

    private void execute(ImapRequest.Command c) {
        String tag = c.tag();
        switch (c.name()) {
            case "CAPABILITY" -> {
                if (noArguments(c)) {
                    write("* CAPABILITY " + capabilities());
                    write(tag + " OK CAPABILITY completed");
                }
            }
            case "NOOP" -> {
                if (noArguments(c)) {
                    write(tag + " OK NOOP completed");
                }
            }
            case "LOGOUT" -> {
                if (noArguments(c)) {
                    state = State.DONE;
                    write("* BYE Logging out");
                    goodbye(tag + " OK LOGOUT completed");
                }
            }
            case "ID" -> id(c);
            case "STARTTLS" -> {
                if (noArguments(c)) {
                    startTlsCommand(tag);
                }
            }
            case "LOGIN" -> loginCommand(c);
            case "AUTHENTICATE" -> authenticate(c);
            default -> bad(tag, AFTER_LOGIN.contains(c.name()) ? "Command not valid in this state" : "Unknown command");
        }
    }

    private boolean noArguments(ImapRequest.Command c) {
        if (c.args().isEmpty()) {
            return true;
        }
        bad(c.tag(), "Unexpected arguments");
        return false;
    }

    private void id(ImapRequest.Command c) {
        try {
            clientId = ImapId.parse(c.args());
        } catch (ImapId.InvalidId e) {
            bad(c.tag(), e.getMessage());
            return;
        }
        if (clientId.name() != null) {
            log.debug("{}: client ID name={} version={}", session, clientId.name(), clientId.version());
        }
        write("* ID (\"name\" \"Postern\")");
        write(c.tag() + " OK ID completed");
    }

    private void startTlsCommand(String tag) {
        if (!canStartTls()) {
            bad(tag, isSecure() ? "TLS is already active" : "STARTTLS is not available");
            return;
        }
        if (!startTls(tag + " OK Begin TLS negotiation now")) {
            state = State.DONE;
        }
    }

    private void loginCommand(ImapRequest.Command c) {
        List<ImapArg> args = c.args();
        if (args.size() != 2 || !args.get(0).isAstring() || !args.get(1).isAstring()) {
            bad(c.tag(), "LOGIN takes a user name and a password");
            return;
        }
        if (privacyRequired(c.tag())) {
            return;
        }
        String user = args.get(0).value();
        if (user.isEmpty()) {
            authenticationFailed(c.tag(), "empty user name");
            return;
        }
        startLogin(
                c.tag(),
                Credentials.password(SaslMechanism.LOGIN, user, args.get(1).value()));
    }

    private void authenticate(ImapRequest.Command c) {
        List<ImapArg> args = c.args();
        if (args.isEmpty()
                || args.size() > 2
                || args.get(0).kind() != ImapArg.Kind.ATOM
                || args.size() == 2 && args.get(1).kind() != ImapArg.Kind.ATOM) {
            bad(c.tag(), "AUTHENTICATE takes a mechanism and an optional initial response");
            return;
        }
        if (privacyRequired(c.tag())) {
            return;
        }
        saslTag = c.tag();
        String initialResponse = args.size() == 2 ? args.get(1).value() : null;
        sasl.start(
                SaslProfile.imap(c.tag()),
                args.get(0).value(),
                initialResponse,
                // IMAP offers every mechanism Postern speaks ({@link ImapCapabilities#preAuth})
                SaslMechanism.withExternal(SaslMechanism.PASSWORD_AND_TOKEN, externalOffered()));
    }

    /** The AUTHENTICATE exchange's view of this session. */
    private final class SaslHost implements SaslDriver.Host {
        @Override
        public void write(String line) {
            ImapSession.this.write(line);
        }

        @Override
        public void error(String reply) {
            ImapSession.this.error(reply);
        }

        @Override
        public void exchanging(boolean on) {
            state = on ? State.AUTHENTICATING : State.COMMANDS;
            if (on) {
                imapDecoder().expectSaslResponse();
            }
        }

        @Override
        public void authenticated(Credentials credentials) {
            startLogin(saslTag, credentials);
        }

        @Override
        public void refused() {
            authenticationFailed(saslTag, "bearer token refused");
        }
    }

    /** Answers {@code NO [PRIVACYREQUIRED]} and returns true when credentials may not be sent on this connection. */
    private boolean privacyRequired(String tag) {
        if (credentialsAllowed()) {
            return false;
        }
        write(tag + " NO [PRIVACYREQUIRED] "
                + (canStartTls() ? "Use STARTTLS first" : "Plaintext authentication is not allowed"));
        badCommand();
        return true;
    }

    // ---- login

    private void startLogin(String tag, Credentials credentials) {
        state = State.LOGGING_IN;
        login(authRequest(credentials, null), dialogue, outcome -> loginDone(tag, credentials, outcome));
    }

    private void loginDone(String tag, Credentials credentials, LoginOutcome outcome) {
        if (outcome instanceof LoginOutcome.Success ok) {
            state = State.DONE;
            String detail = ok.detail();
            writeAndFlush(
                    detail == null || detail.isEmpty()
                            ? tag + " OK Logged in"
                            : tag + " OK [CAPABILITY " + detail + "] Logged in");
            handOver(dialogue.handlerNames());
            return;
        }
        state = State.COMMANDS;
        if (outcome instanceof LoginOutcome.Failure f && f.tokenError().isPresent() && credentials.isToken()) {
            log.debug("{}: login failed: {}", session, f.reason());
            sasl.refuse(SaslProfile.imap(tag), f.tokenError().get().challenge(credentials.mechanism()));
        } else if (outcome instanceof LoginOutcome.Failure f) {
            authenticationFailed(tag, f.reason());
        } else if (outcome instanceof LoginOutcome.Unavailable u) {
            log.debug("{}: login unavailable: {}", session, u.reason());
            write(tag + " NO [UNAVAILABLE] Service temporarily unavailable, try again later");
        }
    }

    private void authenticationFailed(String tag, String reason) {
        log.debug("{}: login failed: {}", session, reason);
        write(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.");
        if (loginFailed()) {
            state = State.DONE;
        }
    }

    // ---- errors

    private void bad(String tag, String text) {
        error((tag == null ? "*" : tag) + " BAD " + text);
    }

    /** Writes an error reply and counts a bad command. */
    private void error(String reply) {
        write(reply);
        if (badCommand()) {
            state = State.DONE;
        }
    }

    private void malformed(ImapRequest.Malformed m) {
        if (m.fatal()) {
            state = State.DONE;
            services.metrics().connectionRefused(listener, "literal-too-big");
            writeAndClose("* BYE " + m.reason(), CloseReason.LIMIT);
            return;
        }
        bad(m.tag(), m.reason());
    }
}
