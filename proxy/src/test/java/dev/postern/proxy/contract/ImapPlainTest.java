package dev.postern.proxy.contract;

/** The IMAP front end's contract on a plain listener that allows plaintext logins. */
class ImapPlainTest extends ImapContract {
    ImapPlainTest() {
        super(ListenerMode.PLAIN);
    }
}
