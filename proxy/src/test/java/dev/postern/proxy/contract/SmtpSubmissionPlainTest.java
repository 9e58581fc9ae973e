package dev.postern.proxy.contract;

/** The SMTP submission front end's contract on a plain listener that allows plaintext logins (2525 on a private network). */
class SmtpSubmissionPlainTest extends SmtpSubmissionContract {
    SmtpSubmissionPlainTest() {
        super(ListenerMode.PLAIN);
    }
}
