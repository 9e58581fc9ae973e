package dev.postern.proxy.pop3;

import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.frontend.PreAuthHandler;
import dev.postern.proxy.login.BackendDialogue;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.login.LoginOutcome;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslDriver;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.sasl.SaslProfile;
import dev.postern.proxy.services.ProxyServices;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A POP3 client's AUTHORIZATION state (RFC 1939, 2449, 5034, 2595): greeting, CAPA, STLS, USER/PASS, AUTH and QUIT.
 * Every other command gets {@code -ERR} and counts as a bad command. A successful login hands the session to the
 * relay; the client then talks to the backend's TRANSACTION state directly.
 */
public final class Pop3Session extends PreAuthHandler<String> {
    static final String GREETING = "+OK Postern ready";
    static final String LOGGED_IN = "+OK Logged in.";
    static final String AUTH_FAILED = "-ERR [AUTH] Authentication failed";
    static final String UNAVAILABLE = "-ERR [SYS/TEMP] Service temporarily unavailable, try again later";
    static final String PLAINTEXT_DISALLOWED =
            "-ERR [SYS/PERM] Plaintext authentication disallowed on non-secure connection";

    /** Longest user name accepted with USER (RFC 2449 allows arguments of up to 255 octets). */
    static final int MAX_USER = 255;

    private static final Logger log = LoggerFactory.getLogger(Pop3Session.class);

    /** Where the AUTHORIZATION dialogue is. */
    enum State {
        /** Waiting for a command. */
        AUTHORIZATION,
        /** USER was accepted; PASS may follow. */
        USER_GIVEN,
        /** Inside an AUTH exchange: lines are base64 responses or {@code *}. */
        SASL,
        /** A login is in flight; nothing is decoded until it ends. */
        LOGIN
    }

    private final BackendDialogue dialogue;
    private State state = State.AUTHORIZATION;
    private String user;
    private final SaslDriver sasl = new SaslDriver(new SaslHost());

    public Pop3Session(ProxyServices services, ListenerConfig listener, LoginFlow loginFlow, BackendDialogue dialogue) {
        super(services, listener, loginFlow, String.class);
        this.dialogue = dialogue;
    }

    State state() {
        return state;
    }

    // ---- PreAuthHandler hooks

    @Override
    protected void greet() {
        // no APOP timestamp: APOP cannot be proxied without the password
        writeAndFlush(GREETING);
    }

    @Override
    protected String lineTooLongReply() {
        return "-ERR Line too long";
    }

    @Override
    protected String timeoutReply() {
        return "-ERR Disconnected for inactivity";
    }

    @Override
    protected String tooManyErrorsReply() {
        return "-ERR Too many invalid commands or failed logins, closing connection";
    }

    @Override
    protected void afterStartTls() {
        // RFC 2595: forget everything learned before TLS
        user = null;
        sasl.reset();
        state = State.AUTHORIZATION;
    }

    @Override
    protected void command(String line) {
        if (state == State.SASL) {
            sasl.respond(line);
            return;
        }
        Pop3Command command = Pop3Command.parse(line);
        switch (command.keyword()) {
            case "CAPA":
                capa();
                break;
            case "QUIT":
                goodbye("+OK Bye");
                break;
            case "STLS":
                stls(command);
                break;
            case "USER":
                user(command);
                break;
            case "PASS":
                pass(command);
                break;
            case "AUTH":
                auth(command);
                break;
            default:
                // NOOP, STAT, LIST, RETR ... belong to the TRANSACTION state (RFC 1939); APOP cannot be proxied
                reject("-ERR Unknown command or not allowed before login");
                break;
        }
    }

    // ---- commands

    private void capa() {
        List<String> backend = listener.pool()
                .flatMap(pool -> services.capabilities().get(pool, Protocol.POP3))
                .map(Pop3Capabilities::afterLogin)
                .orElse(List.of());
        write("+OK Capability list follows");
        for (String line :
                Pop3Capabilities.advertised(backend, credentialsAllowed(), canStartTls(), externalOffered())) {
            write(line);
        }
        write(".");
    }

    private void stls(Pop3Command command) {
        if (command.hasArgument()) {
            reject("-ERR STLS takes no argument");
        } else if (canStartTls()) {
            startTls("+OK Begin TLS negotiation now.");
        } else if (isSecure()) {
            reject("-ERR TLS is already active");
        } else {
            reject("-ERR TLS is not available");
        }
    }

    private void user(Pop3Command command) {
        if (!credentialsAllowed()) {
            reject(PLAINTEXT_DISALLOWED);
            return;
        }
        String name = command.argument();
        if (name.isEmpty() || name.length() > MAX_USER || !printable(name)) {
            user = null;
            state = State.AUTHORIZATION;
            reject("-ERR Invalid user name");
            return;
        }
        user = name;
        state = State.USER_GIVEN;
        write("+OK");
    }

    private void pass(Pop3Command command) {
        if (!credentialsAllowed()) {
            reject(PLAINTEXT_DISALLOWED);
            return;
        }
        if (state != State.USER_GIVEN || user == null) {
            reject("-ERR No user name given (USER first)");
            return;
        }
        if (!command.hasArgument()) {
            reject("-ERR PASS needs a password");
            return;
        }
        String name = user;
        user = null;
        startLogin(Credentials.password(SaslMechanism.LOGIN, name, command.argument()));
    }

    private void auth(Pop3Command command) {
        String argument = command.argument().strip();
        if (argument.isEmpty()) {
            // RFC 1734 style: a bare AUTH lists the mechanisms, as CAPA's SASL line does
            write("+OK");
            if (credentialsAllowed()) {
                for (SaslMechanism m : SaslMechanism.withExternal(Pop3Capabilities.MECHANISMS, externalOffered())) {
                    write(m.wireName());
                }
            }
            write(".");
            return;
        }
        if (!credentialsAllowed()) {
            reject(PLAINTEXT_DISALLOWED);
            return;
        }
        String[] parts = argument.split(" ", -1);
        if (parts.length > 2) {
            reject(SaslProfile.POP3.unsupported());
            return;
        }
        // no second word means no initial response at all
        String initialResponse = parts.length < 2 ? null : parts[1];
        sasl.start(
                SaslProfile.POP3,
                parts[0],
                initialResponse,
                SaslMechanism.withExternal(Pop3Capabilities.MECHANISMS, externalOffered()));
    }

    /** The AUTH exchange's view of this session. */
    private final class SaslHost implements SaslDriver.Host {
        @Override
        public void started(SaslMechanism mechanism) {
            // an AUTH that begins ends a USER/PASS login half way: a pipelined PASS must not find the user
            user = null;
            log.debug("{}: AUTH {}", session, mechanism.wireName());
        }

        @Override
        public void write(String line) {
            Pop3Session.this.write(line);
        }

        @Override
        public void error(String reply) {
            reject(reply);
        }

        @Override
        public void exchanging(boolean on) {
            state = on ? State.SASL : State.AUTHORIZATION;
            ((Pop3Decoder) decoder()).saslExchange(on);
        }

        @Override
        public void authenticated(Credentials credentials) {
            startLogin(credentials);
        }

        @Override
        public void refused() {
            if (!loginFailed()) {
                write(AUTH_FAILED);
            }
        }
    }

    // ---- login

    private void startLogin(Credentials credentials) {
        state = State.LOGIN;
        login(authRequest(credentials, null), dialogue, outcome -> loginDone(credentials, outcome));
    }

    private void loginDone(Credentials credentials, LoginOutcome outcome) {
        state = State.AUTHORIZATION;
        if (outcome instanceof LoginOutcome.Success s) {
            String detail = s.detail();
            writeAndFlush(detail != null && detail.startsWith("+OK") ? detail : LOGGED_IN);
            handOver(dialogue.handlerNames());
        } else if (outcome instanceof LoginOutcome.Failure f && f.tokenError().isPresent() && credentials.isToken()) {
            log.debug("{}: login failed: {}", session, f.reason());
            sasl.refuse(SaslProfile.POP3, f.tokenError().get().challenge(credentials.mechanism()));
        } else if (outcome instanceof LoginOutcome.Failure) {
            if (!loginFailed()) {
                write(AUTH_FAILED);
            }
        } else if (outcome instanceof LoginOutcome.Unavailable u) {
            log.debug("{}: login unavailable: {}", session, u.reason());
            write(UNAVAILABLE);
        }
    }

    // ---- helpers

    /** Answers an invalid command, unless it was one too many and the connection is being closed. */
    private void reject(String reply) {
        if (!badCommand()) {
            write(reply);
        }
    }

    private static boolean printable(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c == 0x7f) {
                return false;
            }
        }
        return true;
    }
}
