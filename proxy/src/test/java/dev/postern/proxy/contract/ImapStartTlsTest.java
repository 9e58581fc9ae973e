package dev.postern.proxy.contract;

/** The IMAP front end's contract on a STARTTLS listener. */
class ImapStartTlsTest extends ImapContract {
    ImapStartTlsTest() {
        super(ListenerMode.STARTTLS);
    }
}
