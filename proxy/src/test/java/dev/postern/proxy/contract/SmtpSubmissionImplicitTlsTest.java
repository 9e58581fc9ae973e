package dev.postern.proxy.contract;

/** The SMTP submission front end's contract on an implicit-TLS listener (465). */
class SmtpSubmissionImplicitTlsTest extends SmtpSubmissionContract {
    SmtpSubmissionImplicitTlsTest() {
        super(ListenerMode.IMPLICIT_TLS);
    }
}
