package dev.postern.proxy.smtp;

import dev.postern.config.SmtpConfig;

/** What an SMTP listener is for; the listener's {@code smtp.role} chooses. */
public enum SmtpRole {
    /** Message submission (RFC 6409): clients authenticate before any mail transaction; AUTH is offered. */
    SUBMISSION,
    /**
     * The MX edge ("spam firewall", port 25): mail for the local domains without AUTH; Postern stays in the dialogue
     * for the whole session and hands each transaction to a backend of the recipients' pool.
     */
    RELAY;

    public static SmtpRole of(SmtpConfig.Role role) {
        return role == SmtpConfig.Role.RELAY ? RELAY : SUBMISSION;
    }
}
