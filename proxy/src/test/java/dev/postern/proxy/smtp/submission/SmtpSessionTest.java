package dev.postern.proxy.smtp.submission;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.tls.TlsManager;
import dev.postern.proxy.transport.HandlerNames;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The pre-authentication state machine on an embedded channel: replies, order, limits, timeouts. */
class SmtpSessionTest {
    private static final String PLAIN = "allow-plaintext-auth: true";
    private static final List<String> DOVECOT_LIKE = List.of(
            "8BITMIME",
            "AUTH PLAIN LOGIN",
            "BURL imap",
            "CHUNKING",
            "ENHANCEDSTATUSCODES",
            "SIZE 10240000",
            "STARTTLS",
            "PIPELINING",
            "XCLIENT ADDR PORT PROTO HELO LOGIN",
            "XFORWARD NAME ADDR");

    private static TlsManager tls;
    private EmbeddedSmtp smtp;

    @BeforeAll
    static void tls() throws Exception {
        tls = EmbeddedSmtp.selfSignedTls();
    }

    @AfterEach
    void close() {
        if (smtp != null) {
            smtp.close();
        }
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private EmbeddedSmtp start(String options, List<String> keywords) throws Exception {
        smtp = EmbeddedSmtp.start(options, keywords);
        assertThat(smtp.replies()).containsExactly("220 proxy.test ESMTP Postern");
        return smtp;
    }

    @Test
    void greetsWithItsHostName() throws Exception {
        start(PLAIN, null);
    }

    @Test
    void ehloOffersTheBackendsKeywordsWithoutHopByHopOnesPlusItsOwnAuth() throws Exception {
        start(PLAIN, DOVECOT_LIKE);
        assertThat(smtp.send("EHLO client.example\r\n"))
                .containsExactly(
                        "250-proxy.test",
                        "250-8BITMIME",
                        "250-BURL imap",
                        "250-CHUNKING",
                        "250-ENHANCEDSTATUSCODES",
                        "250-SIZE 10240000",
                        "250-PIPELINING",
                        "250 AUTH PLAIN LOGIN");
    }

    @Test
    void withNothingKnownAboutTheBackendsEhloOffersOnlyPosternsOwn() throws Exception {
        start(PLAIN, null);
        assertThat(smtp.send("EHLO client.example\r\n")).containsExactly("250-proxy.test", "250 AUTH PLAIN LOGIN");
    }

    @Test
    void tokenMechanismsAreOfferedOnlyWhenTheBackendsOfferThem() throws Exception {
        start(PLAIN, List.of("AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER", "PIPELINING"));
        assertThat(smtp.send("EHLO c\r\n"))
                .containsExactly("250-proxy.test", "250-PIPELINING", "250 AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER");
        smtp.close();
        start(PLAIN, List.of("AUTH PLAIN"));
        smtp.send("EHLO c\r\n");
        assertThat(smtp.send("AUTH XOAUTH2 " + b64("user=a\u0001auth=Bearer t\u0001\u0001") + "\r\n"))
                .containsExactly("504 5.5.4 Unrecognized authentication mechanism");
        assertThat(smtp.logins).isEmpty();
    }

    @Test
    void acceptsAnOfferedTokenMechanism() throws Exception {
        start(PLAIN, List.of("AUTH XOAUTH2"));
        smtp.send("EHLO c\r\n");
        assertThat(smtp.send("AUTH XOAUTH2 " + b64("user=alice\u0001auth=Bearer tok\u0001\u0001") + "\r\n"))
                .containsExactly(SmtpSession.AUTH_INVALID);
        assertThat(smtp.logins).hasSize(1);
        assertThat(smtp.logins.get(0).credentials().mechanism()).isEqualTo(SaslMechanism.XOAUTH2);
        assertThat(smtp.logins.get(0).credentials().secret()).isEqualTo("tok");
    }

    @Test
    void onAStartTlsListenerBeforeTlsEhloOffersStartTlsButNoAuthAndAuthGets538() throws Exception {
        smtp = EmbeddedSmtp.start("tls: starttls", DOVECOT_LIKE, EmbeddedSmtp.Verdict.REJECT, tls);
        smtp.replies();
        assertThat(smtp.send("EHLO c\r\n"))
                .containsExactly(
                        "250-proxy.test",
                        "250-8BITMIME",
                        "250-BURL imap",
                        "250-CHUNKING",
                        "250-ENHANCEDSTATUSCODES",
                        "250-SIZE 10240000",
                        "250-PIPELINING",
                        "250 STARTTLS");
        assertThat(smtp.send("AUTH PLAIN " + b64("\0alice\0pw") + "\r\n"))
                .containsExactly(SmtpSession.ENCRYPTION_REQUIRED);
        assertThat(smtp.logins).isEmpty();
    }

    @Test
    void aStartTlsListenerThatAllowsPlaintextOffersBoth() throws Exception {
        smtp = EmbeddedSmtp.start("tls: starttls, " + PLAIN, List.of(), EmbeddedSmtp.Verdict.REJECT, tls);
        smtp.replies();
        assertThat(smtp.send("EHLO c\r\n")).containsExactly("250-proxy.test", "250-STARTTLS", "250 AUTH PLAIN LOGIN");
    }

    @Test
    void aPlainListenerWithoutPlaintextAuthOffersNothingAndRefusesStartTls() throws Exception {
        start("", List.of("PIPELINING"));
        assertThat(smtp.send("EHLO c\r\n")).containsExactly("250-proxy.test", "250 PIPELINING");
        assertThat(smtp.send("STARTTLS\r\nAUTH LOGIN\r\n"))
                .containsExactly("502 5.5.1 STARTTLS not available", SmtpSession.ENCRYPTION_REQUIRED);
    }

    @Test
    void startTlsSaysReadyAndInstallsTls() throws Exception {
        smtp = EmbeddedSmtp.start("tls: starttls", List.of(), EmbeddedSmtp.Verdict.REJECT, tls);
        smtp.replies();
        smtp.send("EHLO c\r\n");
        assertThat(smtp.send("STARTTLS\r\n")).containsExactly(SmtpSession.READY_TO_START_TLS);
        assertThat(smtp.channel.pipeline().names()).startsWith(HandlerNames.TLS);
        assertThat(smtp.isOpen()).isTrue();
    }

    @Test
    void startTlsWithPipelinedCommandsClosesTheConnectionUnanswered() throws Exception {
        smtp = EmbeddedSmtp.start("tls: starttls", List.of(), EmbeddedSmtp.Verdict.REJECT, tls);
        smtp.replies();
        smtp.send("EHLO c\r\n");
        assertThat(smtp.send("STARTTLS\r\nMAIL FROM:<a@b>\r\n")).isEmpty();
        assertThat(smtp.isOpen()).isFalse();
    }

    @Test
    void startTlsWithPipelinedCommandsUnderTheDiscardPolicyDropsThem() throws Exception {
        smtp = EmbeddedSmtp.start(
                "tls: starttls, starttls-pipelining: discard", List.of(), EmbeddedSmtp.Verdict.REJECT, tls);
        smtp.replies();
        smtp.send("EHLO c\r\n");
        assertThat(smtp.send("STARTTLS\r\nMAIL FROM:<a@b>\r\n")).containsExactly(SmtpSession.READY_TO_START_TLS);
        assertThat(smtp.isOpen()).isTrue();
    }

    @Test
    void startTlsTakesNoArgument() throws Exception {
        smtp = EmbeddedSmtp.start("tls: starttls", List.of(), EmbeddedSmtp.Verdict.REJECT, tls);
        smtp.replies();
        assertThat(smtp.send("STARTTLS now\r\n")).containsExactly("501 5.5.4 Syntax: STARTTLS");
    }

    @Test
    void heloGivesNoExtensionsAndAuthThenNeedsEhlo() throws Exception {
        start(PLAIN, DOVECOT_LIKE);
        assertThat(smtp.send("HELO client.example\r\n")).containsExactly("250 proxy.test");
        assertThat(smtp.send("AUTH PLAIN " + b64("\0a\0b") + "\r\n")).containsExactly(SmtpSession.SEND_EHLO_FIRST);
        assertThat(smtp.send("MAIL FROM:<a@b>\r\n")).containsExactly(SmtpSession.AUTH_REQUIRED);
    }

    @Test
    void mailTransactionsNeedEhloThenAuthentication() throws Exception {
        start(PLAIN, DOVECOT_LIKE);
        assertThat(smtp.send("MAIL FROM:<a@b>\r\n")).containsExactly(SmtpSession.SEND_EHLO_FIRST);
        assertThat(smtp.send("AUTH LOGIN\r\n")).containsExactly(SmtpSession.SEND_EHLO_FIRST);
        smtp.send("EHLO c\r\n");
        assertThat(smtp.send("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"))
                .containsExactly(SmtpSession.AUTH_REQUIRED, SmtpSession.AUTH_REQUIRED, SmtpSession.AUTH_REQUIRED);
    }

    @Test
    void aRefusedBdatChunkIsSkippedNotExecuted() throws Exception {
        start(PLAIN, DOVECOT_LIKE);
        smtp.send("EHLO c\r\n");
        assertThat(smtp.send("BDAT 6 LAST\r\nQUIT\r\nNOOP\r\n"))
                .containsExactly(SmtpSession.AUTH_REQUIRED, "250 2.0.0 OK");
        assertThat(smtp.isOpen()).isTrue();
        assertThat(smtp.send("BDAT x\r\n")).containsExactly("501 5.5.4 Syntax: BDAT size [LAST]");
    }

    @Test
    void answersTheSimpleCommands() throws Exception {
        start(PLAIN, null);
        assertThat(smtp.send("NOOP\r\nRSET\r\nHELP\r\nVRFY bob\r\nVRFY\r\nEXPN list\r\nRSET x\r\nFOO\r\n\r\nEHLO\r\n"))
                .containsExactly(
                        "250 2.0.0 OK",
                        "250 2.0.0 OK",
                        "214 2.0.0 Commands: EHLO HELO STARTTLS AUTH NOOP RSET VRFY HELP QUIT",
                        "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery",
                        "501 5.5.4 Syntax: VRFY address",
                        "500 5.5.2 Unknown command",
                        "501 5.5.4 Syntax: RSET",
                        "500 5.5.2 Unknown command",
                        "500 5.5.2 Unknown command",
                        "501 5.5.4 Syntax: EHLO hostname");
        assertThat(smtp.isOpen()).isTrue();
    }

    @Test
    void commandsAreCaseInsensitive() throws Exception {
        start(PLAIN, null);
        assertThat(smtp.send("noop\r\nehlo c\r\nmail from:<a@b>\r\n"))
                .containsExactly("250 2.0.0 OK", "250-proxy.test", "250 AUTH PLAIN LOGIN", SmtpSession.AUTH_REQUIRED);
    }

    @Test
    void quitSaysByeAndCloses() throws Exception {
        start(PLAIN, null);
        assertThat(smtp.send("QUIT\r\nNOOP\r\n")).containsExactly("221 2.0.0 Bye");
        assertThat(smtp.isOpen()).isFalse();
    }

    @Test
    void tooManyBadCommandsCloseTheConnection() throws Exception {
        start(PLAIN + ", limits: {bad-commands: 3}", null);
        assertThat(smtp.send("FOO\r\nMAIL FROM:<a@b>\r\nBAR\r\nNOOP\r\n"))
                .containsExactly("500 5.5.2 Unknown command", SmtpSession.SEND_EHLO_FIRST, "421 4.7.0 Too many errors");
        assertThat(smtp.isOpen()).isFalse();
    }

    @Test
    void authPlainWithAnInitialResponseFailsWith535AndTheSessionGoesOn() throws Exception {
        start(PLAIN, null);
        smtp.send("EHLO client.example\r\n");
        assertThat(smtp.send("AUTH PLAIN " + b64("\0alice@example.test\0wrong") + "\r\n"))
                .containsExactly(SmtpSession.AUTH_INVALID);
        AuthRequest login = smtp.logins.get(0);
        assertThat(login.credentials().user()).isEqualTo("alice@example.test");
        assertThat(login.credentials().secret()).isEqualTo("wrong");
        assertThat(login.credentials().mechanism()).isEqualTo(SaslMechanism.PLAIN);
        assertThat(login.smtpHelo()).isEqualTo("client.example");
        assertThat(login.attempt()).isEqualTo(1);
        assertThat(smtp.send("NOOP\r\n")).containsExactly("250 2.0.0 OK");
    }

    @Test
    void authPlainWithAContinuation() throws Exception {
        start(PLAIN, null);
        smtp.send("EHLO c\r\n");
        assertThat(smtp.send("AUTH PLAIN\r\n")).containsExactly("334 ");
        assertThat(smtp.send(b64("authz\0bob\0pw") + "\r\n")).containsExactly(SmtpSession.AUTH_INVALID);
        assertThat(smtp.logins.get(0).credentials().authzid()).isEqualTo("authz");
        assertThat(smtp.logins.get(0).credentials().user()).isEqualTo("bob");
    }

    @Test
    void authLoginAsksForUserNameThenPassword() throws Exception {
        start(PLAIN, null);
        smtp.send("EHLO c\r\n");
        assertThat(smtp.send("AUTH LOGIN\r\n")).containsExactly("334 VXNlcm5hbWU6");
        assertThat(smtp.send(b64("bob") + "\r\n")).containsExactly("334 UGFzc3dvcmQ6");
        assertThat(smtp.send(b64("bob-pw") + "\r\n")).containsExactly(SmtpSession.AUTH_INVALID);
        assertThat(smtp.logins.get(0).credentials().mechanism()).isEqualTo(SaslMechanism.LOGIN);
        assertThat(smtp.logins.get(0).credentials().secret()).isEqualTo("bob-pw");
    }

    @Test
    void authLoginWithTheUserNameAsInitialResponse() throws Exception {
        start(PLAIN, null);
        smtp.send("EHLO c\r\n");
        assertThat(smtp.send("AUTH LOGIN " + b64("bob") + "\r\n")).containsExactly("334 UGFzc3dvcmQ6");
        assertThat(smtp.send(b64("pw") + "\r\n")).containsExactly(SmtpSession.AUTH_INVALID);
        assertThat(smtp.logins.get(0).credentials().user()).isEqualTo("bob");
    }

    @Test
    void anEmptyInitialResponseIsWrittenAsEquals() throws Exception {
        start(PLAIN, null);
        smtp.send("EHLO c\r\n");
        assertThat(smtp.send("AUTH PLAIN =\r\n")).containsExactly("501 5.5.2 malformed PLAIN message");
        assertThat(smtp.logins).isEmpty();
    }

    @Test
    void aStarCancelsTheExchange() throws Exception {
        start(PLAIN, null);
        smtp.send("EHLO c\r\n");
        smtp.send("AUTH LOGIN\r\n");
        assertThat(smtp.send("*\r\n")).containsExactly("501 5.0.0 Authentication cancelled");
        assertThat(smtp.send("NOOP\r\n")).containsExactly("250 2.0.0 OK");
        assertThat(smtp.logins).isEmpty();
    }

    @Test
    void undecodableResponsesAreSyntaxErrors() throws Exception {
        start(PLAIN, null);
        smtp.send("EHLO c\r\n");
        assertThat(smtp.send("AUTH PLAIN !!!\r\n")).containsExactly("501 5.5.2 invalid base64");
        assertThat(smtp.send("AUTH\r\nAUTH PLAIN a b\r\nAUTH CRAM-MD5\r\n"))
                .containsExactly(
                        "501 5.5.4 Syntax: AUTH mechanism [initial-response]",
                        "501 5.5.4 Syntax: AUTH mechanism [initial-response]",
                        "504 5.5.4 Unrecognized authentication mechanism");
    }

    @Test
    void aTemporaryFailureIs454AndDoesNotCountAsAFailedLogin() throws Exception {
        smtp = EmbeddedSmtp.start(PLAIN + ", limits: {auth-failures: 1}", null, EmbeddedSmtp.Verdict.UNAVAILABLE, null);
        smtp.replies();
        smtp.send("EHLO c\r\n");
        String auth = "AUTH PLAIN " + b64("\0a\0b") + "\r\n";
        assertThat(smtp.send(auth + auth)).containsExactly(SmtpSession.AUTH_TEMPORARY, SmtpSession.AUTH_TEMPORARY);
        assertThat(smtp.isOpen()).isTrue();
    }

    @Test
    void tooManyFailedLoginsCloseTheConnection() throws Exception {
        start(PLAIN + ", limits: {auth-failures: 2}", null);
        smtp.send("EHLO c\r\n");
        String auth = "AUTH PLAIN " + b64("\0a\0b") + "\r\n";
        assertThat(smtp.send(auth)).containsExactly(SmtpSession.AUTH_INVALID);
        assertThat(smtp.send(auth + "NOOP\r\n")).containsExactly("421 4.7.0 Too many errors");
        assertThat(smtp.isOpen()).isFalse();
    }

    @Test
    void commandsPipelinedAfterAFailedAuthAreAnsweredInOrder() throws Exception {
        start(PLAIN, null);
        assertThat(smtp.send("EHLO c\r\nAUTH PLAIN " + b64("\0a\0b") + "\r\nMAIL FROM:<a@b>\r\nNOOP\r\n"))
                .containsExactly(
                        "250-proxy.test",
                        "250 AUTH PLAIN LOGIN",
                        SmtpSession.AUTH_INVALID,
                        SmtpSession.AUTH_REQUIRED,
                        "250 2.0.0 OK");
    }

    @Test
    void aLineOverTheLimitIsRefusedAndTheConnectionClosed() throws Exception {
        start(PLAIN + ", limits: {line-length: 512}", null);
        assertThat(smtp.send("NOOP " + "x".repeat(600) + "\r\n")).containsExactly("500 5.5.6 Line too long");
        assertThat(smtp.isOpen()).isFalse();
    }

    @Test
    void aSaslLineMayBeLongerThanACommandButNotLongerThanTheSaslLimit() throws Exception {
        start(PLAIN + ", limits: {line-length: 512, sasl-line-length: 1024}", null);
        smtp.send("EHLO c\r\n");
        String longPassword = "p".repeat(600);
        assertThat(smtp.send("AUTH PLAIN " + b64("\0a\0" + longPassword) + "\r\n"))
                .containsExactly(SmtpSession.AUTH_INVALID);
        smtp.send("AUTH LOGIN\r\n");
        smtp.send(b64("a") + "\r\n");
        assertThat(smtp.send(b64(longPassword) + "\r\n")).containsExactly(SmtpSession.AUTH_INVALID);
        assertThat(smtp.send("NOOP " + "x".repeat(600) + "\r\n")).containsExactly("500 5.5.6 Line too long");
        assertThat(smtp.isOpen()).isFalse();
    }

    @Test
    void thePreAuthTimeoutSays421AndCloses() throws Exception {
        start(PLAIN + ", timeouts: {pre-auth: 2s}", null);
        smtp.send("EHLO c\r\n");
        smtp.advance(Duration.ofMillis(1500));
        assertThat(smtp.isOpen()).isTrue();
        smtp.advance(Duration.ofMillis(600));
        assertThat(smtp.replies()).containsExactly("421 4.4.2 Timeout");
        assertThat(smtp.isOpen()).isFalse();
    }

    @Test
    void aClientThatHalfClosesBeforeLoggingInGetsItsRepliesAndIsDisconnected() throws Exception {
        start(PLAIN, null);
        smtp.channel.writeInbound(io.netty.buffer.Unpooled.copiedBuffer("NOOP\r\nRSET\r\n", StandardCharsets.US_ASCII));
        smtp.channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        smtp.channel.runPendingTasks();
        assertThat(smtp.replies()).containsExactly("250 2.0.0 OK", "250 2.0.0 OK");
        assertThat(smtp.isOpen()).isFalse();
    }

    @Test
    void aRefusedTokenGetsTheErrorStatusAs334ThenTheDummyResponseGets535() throws Exception {
        smtp = EmbeddedSmtp.start(PLAIN, List.of("AUTH OAUTHBEARER XOAUTH2"), EmbeddedSmtp.Verdict.TOKEN_REFUSED, null);
        smtp.replies();
        smtp.send("EHLO c\r\n");
        String message = "n,a=alice,\u0001auth=Bearer expired\u0001\u0001";
        assertThat(smtp.send("AUTH OAUTHBEARER " + b64(message) + "\r\n"))
                .containsExactly("334 " + b64("{\"status\":\"invalid_token\",\"scope\":\"mail\"}"));
        assertThat(smtp.send("AQ==\r\n")).containsExactly(SmtpSession.AUTH_INVALID);
        assertThat(smtp.logins).as("the dummy response is no second login").hasSize(1);
        assertThat(smtp.send("NOOP\r\n")).as("back to commands").containsExactly("250 2.0.0 OK");

        assertThat(smtp.send("AUTH XOAUTH2 " + b64("user=alice\u0001auth=Bearer t\u0001\u0001") + "\r\n"))
                .containsExactly("334 " + b64("{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"mail\"}"));
        assertThat(smtp.send("\r\n"))
                .as("Google's clients answer with an empty line")
                .containsExactly(SmtpSession.AUTH_INVALID);
    }

    @Test
    void aRefusedPasswordGetsNoErrorStatus() throws Exception {
        smtp = EmbeddedSmtp.start(PLAIN, null, EmbeddedSmtp.Verdict.TOKEN_REFUSED, null);
        smtp.replies();
        smtp.send("EHLO c\r\n");
        assertThat(smtp.send("AUTH PLAIN " + b64("\0alice\0pw") + "\r\n")).containsExactly(SmtpSession.AUTH_INVALID);
    }
}
