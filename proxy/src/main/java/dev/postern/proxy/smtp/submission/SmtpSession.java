package dev.postern.proxy.smtp.submission;

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
import dev.postern.proxy.smtp.EhloKeywords;
import dev.postern.proxy.smtp.SmtpCommand;
import dev.postern.proxy.smtp.SmtpRole;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SMTP submission session before authentication (RFC 5321, 6409, 3207, 4954): greeting, EHLO/HELO with the
 * extensions the backends support, STARTTLS, AUTH (PLAIN, LOGIN, and the OAuth mechanisms the backends offer) with
 * initial responses and {@code 334} continuations, NOOP, RSET, HELP, VRFY ({@code 252}: nothing is revealed before
 * authentication), QUIT. Mail transactions need authentication first ({@code 530}). After a successful AUTH the
 * backend, which Postern logged in, gets every later byte of the client unchanged.
 *
 * <p>Commands are answered in order, so clients may pipeline (RFC 2920); bytes pipelined after a successful AUTH
 * reach the backend after its login.
 */
final class SmtpSession extends PreAuthHandler<String> {
    private static final Logger log = LoggerFactory.getLogger(SmtpSession.class);

    static final String READY_TO_START_TLS = "220 2.0.0 Ready to start TLS";
    static final String AUTH_SUCCESSFUL = "235 2.7.0 Authentication successful";
    static final String AUTH_INVALID = "535 5.7.8 Authentication credentials invalid";
    static final String AUTH_TEMPORARY = "454 4.7.0 Temporary authentication failure";
    static final String AUTH_REQUIRED = "530 5.7.0 Authentication required";
    static final String ENCRYPTION_REQUIRED = "538 5.7.11 Encryption required for requested authentication mechanism";
    static final String SEND_EHLO_FIRST = "503 5.5.1 Send EHLO first";

    private enum State {
        /** Connected (or TLS just started): no EHLO yet. */
        START,
        /** After HELO: no extensions. */
        HELO,
        /** After EHLO: extensions available. */
        EHLO,
        /** In an AUTH exchange: the next line answers a {@code 334} challenge. */
        SASL,
        /** A login is running on a backend; nothing is decoded meanwhile. */
        LOGIN,
        /** Logged in and handed over, or closing. */
        DONE
    }

    private final SmtpRole role;
    private final String hostname;
    private final BackendDialogue dialogue;
    private State state = State.START;
    private String heloName;
    private final SaslDriver sasl = new SaslDriver(new SaslHost());

    SmtpSession(
            ProxyServices services,
            ListenerConfig listener,
            LoginFlow loginFlow,
            SmtpRole role,
            String hostname,
            BackendDialogue dialogue) {
        super(services, listener, loginFlow, String.class);
        this.role = role;
        this.hostname = hostname;
        this.dialogue = dialogue;
    }

    // ---- PreAuthHandler hooks

    @Override
    protected void greet() {
        writeAndFlush("220 " + hostname + " ESMTP Postern");
    }

    @Override
    protected String lineTooLongReply() {
        return "500 5.5.6 Line too long";
    }

    @Override
    protected String timeoutReply() {
        return "421 4.4.2 Timeout";
    }

    @Override
    protected String tooManyErrorsReply() {
        return "421 4.7.0 Too many errors";
    }

    @Override
    protected void afterStartTls() {
        // RFC 3207: forget everything learned before TLS; the client must send EHLO again
        state = State.START;
        heloName = null;
        sasl.reset();
    }

    // ---- commands

    @Override
    protected void command(String line) {
        if (state == State.SASL) {
            sasl.respond(line);
            return;
        }
        SmtpCommand c = SmtpCommand.parse(line);
        switch (c.verb()) {
            case "EHLO" -> ehlo(c);
            case "HELO" -> helo(c);
            case "STARTTLS" -> starttls(c);
            case "AUTH" -> auth(c);
            case "MAIL", "RCPT", "DATA" -> transaction();
            case "BDAT" -> bdat(c);
            case "NOOP" -> write("250 2.0.0 OK");
            case "RSET" -> {
                if (c.hasArgument()) {
                    error("501 5.5.4 Syntax: RSET");
                } else {
                    write("250 2.0.0 OK");
                }
            }
            case "VRFY" -> {
                if (c.hasArgument()) {
                    write("252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
                } else {
                    error("501 5.5.4 Syntax: VRFY address");
                }
            }
            case "HELP" -> write("214 2.0.0 Commands: EHLO HELO STARTTLS AUTH NOOP RSET VRFY HELP QUIT");
            case "QUIT" -> {
                state = State.DONE;
                goodbye("221 2.0.0 Bye");
            }
            default -> error("500 5.5.2 Unknown command");
        }
    }

    /** Writes an error reply, unless this error was one too many and the connection is closing. */
    private void error(String reply) {
        if (!badCommand()) {
            write(reply);
        }
    }

    private void ehlo(SmtpCommand c) {
        if (!validHelo(c.argument())) {
            error("501 5.5.4 Syntax: EHLO hostname");
            return;
        }
        state = State.EHLO;
        heloName = c.argument().trim();
        List<String> keywords = EhloKeywords.offer(backendKeywords(), canStartTls(), authOffered(), externalOffered());
        if (keywords.isEmpty()) {
            write("250 " + hostname);
            return;
        }
        write("250-" + hostname);
        for (int i = 0; i < keywords.size(); i++) {
            write((i == keywords.size() - 1 ? "250 " : "250-") + keywords.get(i));
        }
    }

    private void helo(SmtpCommand c) {
        if (!validHelo(c.argument())) {
            error("501 5.5.4 Syntax: HELO hostname");
            return;
        }
        state = State.HELO;
        heloName = c.argument().trim();
        write("250 " + hostname);
    }

    /** Loose: something printable, of a sane length. The backend sees it only xtext-encoded (XCLIENT HELO=). */
    private static boolean validHelo(String argument) {
        String s = argument.trim();
        if (s.isEmpty() || s.length() > 255) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch < 0x20 || ch == 0x7f) {
                return false;
            }
        }
        return true;
    }

    private List<String> backendKeywords() {
        Optional<List<String>> known =
                listener.pool().flatMap(p -> services.capabilities().get(p, Protocol.SMTP));
        return known.orElse(List.of());
    }

    private boolean authOffered() {
        return role == SmtpRole.SUBMISSION && credentialsAllowed();
    }

    private void starttls(SmtpCommand c) {
        if (c.hasArgument()) {
            error("501 5.5.4 Syntax: STARTTLS");
        } else if (isSecure()) {
            error("503 5.5.1 TLS already active");
        } else if (!canStartTls()) {
            error("502 5.5.1 STARTTLS not available");
        } else {
            state = startTls(READY_TO_START_TLS) ? State.START : State.DONE;
        }
    }

    private void transaction() {
        error(state == State.START ? SEND_EHLO_FIRST : AUTH_REQUIRED);
    }

    /** RFC 3030: the chunk follows the command at once; it is skipped unread, then the command refused. */
    private void bdat(SmtpCommand c) {
        String[] parts = c.argument().trim().split(" +");
        long size;
        try {
            size = Long.parseLong(parts[0]);
        } catch (NumberFormatException e) {
            size = -1;
        }
        boolean valid = size >= 0
                && (parts.length == 1 || parts.length == 2 && parts[1].equalsIgnoreCase("LAST"))
                && parts[0].chars().allMatch(Character::isDigit);
        if (!valid) {
            error("501 5.5.4 Syntax: BDAT size [LAST]");
            return;
        }
        ((SmtpLineDecoder) decoder()).skip(size);
        transaction();
    }

    // ---- AUTH

    private void auth(SmtpCommand c) {
        if (state != State.EHLO) {
            error(SEND_EHLO_FIRST);
            return;
        }
        if (role != SmtpRole.SUBMISSION) {
            error("502 5.5.1 AUTH not available");
            return;
        }
        if (!credentialsAllowed()) {
            error(ENCRYPTION_REQUIRED);
            return;
        }
        String[] parts = c.argument().trim().split(" +");
        if (parts[0].isEmpty() || parts.length > 2) {
            error("501 5.5.4 Syntax: AUTH mechanism [initial-response]");
            return;
        }
        String initialResponse = parts.length == 2 ? parts[1] : null;
        sasl.start(
                SaslProfile.SMTP,
                parts[0],
                initialResponse,
                SaslMechanism.withExternal(EhloKeywords.mechanisms(backendKeywords()), externalOffered()));
    }

    /** The AUTH exchange's view of this session. */
    private final class SaslHost implements SaslDriver.Host {
        @Override
        public void write(String line) {
            SmtpSession.this.write(line);
        }

        @Override
        public void error(String reply) {
            SmtpSession.this.error(reply);
        }

        @Override
        public void exchanging(boolean on) {
            state = on ? State.SASL : State.EHLO;
            saslDecoder().saslMode(on);
        }

        @Override
        public void authenticated(Credentials credentials) {
            logIn(credentials);
        }

        @Override
        public void refused() {
            if (!loginFailed()) {
                write(AUTH_INVALID);
            }
        }
    }

    private SmtpLineDecoder saslDecoder() {
        return (SmtpLineDecoder) decoder();
    }

    private void logIn(Credentials credentials) {
        state = State.LOGIN;
        // the reply so far (a 334 answer has none) leaves before the backend work starts
        ctx.flush();
        login(authRequest(credentials, heloName), dialogue, outcome -> {
            if (outcome instanceof LoginOutcome.Success) {
                state = State.DONE;
                writeAndFlush(AUTH_SUCCESSFUL);
                if (role == SmtpRole.SUBMISSION) {
                    MessageGuard.install(
                            session,
                            listener.smtp(),
                            listener.limits().lineLength(),
                            hostname,
                            dialogue.handlerNames());
                }
                handOver(dialogue.handlerNames());
            } else if (outcome instanceof LoginOutcome.Failure failure) {
                state = State.EHLO;
                log.debug("{}: login of {} failed: {}", session, credentials.user(), failure.reason());
                if (failure.tokenError().isPresent() && credentials.isToken()) {
                    sasl.refuse(SaslProfile.SMTP, failure.tokenError().get().challenge(credentials.mechanism()));
                } else if (!loginFailed()) {
                    write(AUTH_INVALID);
                }
            } else if (outcome instanceof LoginOutcome.Unavailable unavailable) {
                state = State.EHLO;
                log.debug("{}: login of {} unavailable: {}", session, credentials.user(), unavailable.reason());
                write(AUTH_TEMPORARY);
            }
        });
    }
}
