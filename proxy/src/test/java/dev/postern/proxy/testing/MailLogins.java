package dev.postern.proxy.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

/**
 * One login with Python's own mail clients (imaplib, poplib, smtplib) on a plain-text loopback port, for tests that
 * only care how a login ends: the answer is one line, {@code OK} (after IMAP {@code SELECT INBOX}, POP3 {@code STAT},
 * SMTP AUTH) or {@code ERR} and the server's refusal as the client saw it.
 */
public final class MailLogins {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String IMAP =
            """
            import imaplib, sys
            m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]), timeout=30)
            try:
                # quoted: imaplib sends the user name as it is, which may be no IMAP atom
                m.login(m._quote(sys.argv[3]), sys.argv[4])
                typ, data = m.select('INBOX')
                print('OK', typ)
                m.logout()
            except imaplib.IMAP4.error as e:
                print('ERR', e)
                m.shutdown()
            """;
    private static final String IMAP_LIST =
            """
            import imaplib, sys
            m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]), timeout=30)
            try:
                m.login(m._quote(sys.argv[3]), sys.argv[4])
                typ, data = m.list()
                print('OK', ' '.join(line.decode('utf-8', 'replace').split(' ')[-1] for line in data))
                m.logout()
            except imaplib.IMAP4.error as e:
                print('ERR', e)
                m.shutdown()
            """;
    private static final String POP3 =
            """
            import poplib, sys
            p = poplib.POP3(sys.argv[1], int(sys.argv[2]), timeout=30)
            try:
                p.user(sys.argv[3])
                p.pass_(sys.argv[4])
                count, size = p.stat()
                print('OK', count >= 0)
                p.quit()
            except poplib.error_proto as e:
                print('ERR', e.args[0].decode('utf-8', 'replace'))
                p.close()
            """;
    private static final String SUBMISSION =
            """
            import smtplib, sys
            s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=30)
            s.ehlo('client.example.test')
            try:
                s.login(sys.argv[3], sys.argv[4])
                print('OK')
                s.quit()
            except smtplib.SMTPAuthenticationError as e:
                print('ERR', e.smtp_code, e.smtp_error.decode('utf-8', 'replace'))
                s.close()
            """;

    private MailLogins() {}

    /** IMAP LOGIN then SELECT INBOX: {@code OK OK}, or {@code ERR} and the tagged answer. */
    public static String imap(int port, String user, String password) {
        return run(IMAP, port, user, password);
    }

    /** IMAP LOGIN then LIST: {@code OK} and the mailbox names, so a test can tell whose mailbox it reached. */
    public static String imapMailboxes(int port, String user, String password) {
        return run(IMAP_LIST, port, user, password);
    }

    /** POP3 USER/PASS then STAT: {@code OK True}, or {@code ERR} and the {@code -ERR} line. */
    public static String pop3(int port, String user, String password) {
        return run(POP3, port, user, password);
    }

    /** SMTP EHLO then AUTH (PLAIN or LOGIN, as smtplib picks): {@code OK}, or {@code ERR}, the code and its text. */
    public static String submission(int port, String user, String password) {
        return run(SUBMISSION, port, user, password);
    }

    private static String run(String script, int port, String user, String password) {
        Processes.Result r = Processes.python(TIMEOUT, script, "127.0.0.1", "" + port, user, password);
        assertThat(r.exitCode()).as("%s", r).isZero();
        return r.stdout().trim();
    }
}
