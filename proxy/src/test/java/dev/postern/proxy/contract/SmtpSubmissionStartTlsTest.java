package dev.postern.proxy.contract;

/** The SMTP submission front end's contract on a STARTTLS listener (587). */
class SmtpSubmissionStartTlsTest extends SmtpSubmissionContract {
    SmtpSubmissionStartTlsTest() {
        super(ListenerMode.STARTTLS);
    }
}
