package dev.postern.bench.load;

import java.util.Arrays;
import java.util.stream.Collectors;

/** What one run of the load generator does; see {@link LoadMain} for each scenario's dialogue. */
public enum Scenario {
    /** Connect, greeting, LOGIN, SELECT INBOX, FETCH 1 (FLAGS), LOGOUT; one operation per session. */
    IMAP_LOGIN("imap-login", Protocol.IMAP),
    /** One login per virtual user, then FETCH of one (large) message again and again; one operation per FETCH. */
    IMAP_FETCH_BIG("imap-fetch-big", Protocol.IMAP),
    /** Open N logged-in sessions in IDLE and hold them; one operation per session brought to IDLE. */
    IMAP_IDLE("imap-idle", Protocol.IMAP),
    /** Connect, greeting, USER, PASS, STAT, QUIT; one operation per session. */
    POP3_LOGIN("pop3-login", Protocol.POP3),
    /** Connect, greeting, EHLO, AUTH PLAIN, MAIL, RCPT, DATA (about 10 KB), QUIT; one operation per session. */
    SMTP_SUBMIT("smtp-submit", Protocol.SMTP);

    /** The mail protocol a scenario speaks. */
    public enum Protocol {
        IMAP,
        POP3,
        SMTP
    }

    private final String cliName;
    private final Protocol protocol;

    Scenario(String cliName, Protocol protocol) {
        this.cliName = cliName;
        this.protocol = protocol;
    }

    public String cliName() {
        return cliName;
    }

    public Protocol protocol() {
        return protocol;
    }

    /** The scenario named {@code name} on the command line. */
    public static Scenario of(String name) {
        for (Scenario s : values()) {
            if (s.cliName.equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown scenario '" + name + "' (one of "
                + Arrays.stream(values()).map(Scenario::cliName).collect(Collectors.joining(", ")) + ")");
    }
}
