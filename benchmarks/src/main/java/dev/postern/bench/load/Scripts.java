package dev.postern.bench.load;

import dev.postern.bench.load.Script.Expect;
import dev.postern.bench.load.Script.Step;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** The dialogue of each scenario, for one user. */
final class Scripts {
    private Scripts() {}

    /** The script of {@code options.scenario()} for virtual user {@code vu}. */
    static Script of(LoadOptions options, int vu) {
        LoadOptions.Credentials user = options.user(vu);
        boolean startTls = options.tls() == TlsMode.STARTTLS;
        return switch (options.scenario()) {
            case IMAP_LOGIN -> imapLogin(user, startTls, options.mailbox());
            case IMAP_FETCH_BIG -> imapFetch(user, startTls, options.mailbox(), options.message());
            case IMAP_IDLE -> imapIdle(user, startTls, options.mailbox());
            case POP3_LOGIN -> pop3Login(user, startTls);
            case SMTP_SUBMIT -> smtpSubmit(
                    user, startTls, options.recipient(), message(options.messageSize(), options.subject()));
        };
    }

    private static List<Step> imapHello(LoadOptions.Credentials user, boolean startTls, String mailbox) {
        List<Step> steps = new ArrayList<>();
        steps.add(Step.of("greeting", null, Expect.IMAP_GREETING));
        if (startTls) {
            steps.add(Step.of("STARTTLS", "s1 STARTTLS", Expect.imapOk("s1")).startingTls());
        }
        steps.add(Step.of(
                "LOGIN", "a1 LOGIN " + quoted(user.user()) + " " + quoted(user.password()), Expect.imapOk("a1")));
        steps.add(Step.of("SELECT", "a2 SELECT " + quoted(mailbox), Expect.imapOk("a2")));
        return steps;
    }

    static Script imapLogin(LoadOptions.Credentials user, boolean startTls, String mailbox) {
        List<Step> steps = imapHello(user, startTls, mailbox);
        steps.add(Step.of("FETCH", "a3 FETCH 1 (FLAGS)", Expect.imapOk("a3")));
        steps.add(Step.of("LOGOUT", "a4 LOGOUT", Expect.imapOk("a4")));
        return new Script(steps, -1);
    }

    static Script imapFetch(LoadOptions.Credentials user, boolean startTls, String mailbox, int message) {
        List<Step> steps = imapHello(user, startTls, mailbox);
        steps.add(Step.of("FETCH", "f1 FETCH " + message + " BODY.PEEK[]", Expect.imapOk("f1"))
                .timedStep());
        return new Script(steps, steps.size() - 1);
    }

    static Script imapIdle(LoadOptions.Credentials user, boolean startTls, String mailbox) {
        List<Step> steps = imapHello(user, startTls, mailbox);
        steps.add(Step.of("IDLE", "i1 IDLE", Expect.imapContinuation("i1")));
        return new Script(steps, -1);
    }

    static Script pop3Login(LoadOptions.Credentials user, boolean startTls) {
        List<Step> steps = new ArrayList<>();
        steps.add(Step.of("greeting", null, Expect.POP3_OK));
        if (startTls) {
            steps.add(Step.of("STLS", "STLS", Expect.POP3_OK).startingTls());
        }
        steps.add(Step.of("USER", "USER " + user.user(), Expect.POP3_OK));
        steps.add(Step.of("PASS", "PASS " + user.password(), Expect.POP3_OK));
        steps.add(Step.of("STAT", "STAT", Expect.POP3_OK));
        steps.add(Step.of("QUIT", "QUIT", Expect.POP3_OK));
        return new Script(steps, -1);
    }

    static Script smtpSubmit(LoadOptions.Credentials user, boolean startTls, String recipient, byte[] message) {
        List<Step> steps = new ArrayList<>();
        steps.add(Step.of("greeting", null, Expect.smtp(220)));
        steps.add(Step.of("EHLO", "EHLO load.example.test", Expect.smtp(250)));
        if (startTls) {
            steps.add(Step.of("STARTTLS", "STARTTLS", Expect.smtp(220)).startingTls());
            steps.add(Step.of("EHLO", "EHLO load.example.test", Expect.smtp(250)));
        }
        String plain = Base64.getEncoder()
                .encodeToString(("\0" + user.user() + "\0" + user.password()).getBytes(StandardCharsets.UTF_8));
        steps.add(Step.of("AUTH", "AUTH PLAIN " + plain, Expect.smtp(235)));
        steps.add(Step.of("MAIL", "MAIL FROM:<" + user.user() + ">", Expect.smtp(250)));
        steps.add(Step.of("RCPT", "RCPT TO:<" + recipient + ">", Expect.smtp(250)));
        steps.add(Step.of("DATA", "DATA", Expect.smtp(354)));
        steps.add(new Step("message", message, Expect.smtp(250), false, false));
        steps.add(Step.of("QUIT", "QUIT", Expect.smtp(221)));
        return new Script(steps, -1);
    }

    /** A plain-text message of about {@code size} bytes, ending with the DATA terminator. */
    static byte[] message(int size, String subject) {
        StringBuilder sb = new StringBuilder(size + 128);
        sb.append("From: load@example.test\r\n")
                .append("To: load@example.test\r\n")
                .append("Subject: ")
                .append(subject)
                .append("\r\n")
                .append("Message-ID: <postern-load@example.test>\r\n\r\n");
        String line = "The quick brown fox jumps over the lazy dog. 0123456789 abcdefghijklmnopqrstuvwxyz\r\n";
        while (sb.length() + line.length() <= size) {
            sb.append(line);
        }
        sb.append(".\r\n");
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** An IMAP quoted string. */
    static String quoted(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
