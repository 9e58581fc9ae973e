package dev.postern.proxy.smtp;

/**
 * What an SMTP listener is for. Only submission exists today; the relay ("spam firewall", port 25) role will accept
 * mail for local domains without AUTH and hand the session to the backend at {@code MAIL FROM}.
 */
public enum SmtpRole {
    /** Message submission (RFC 6409): clients authenticate before any mail transaction; AUTH is offered. */
    SUBMISSION
}
