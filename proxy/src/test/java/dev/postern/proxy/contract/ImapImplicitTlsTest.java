package dev.postern.proxy.contract;

/** The IMAP front end's contract on an implicit-TLS listener. */
class ImapImplicitTlsTest extends ImapContract {
    ImapImplicitTlsTest() {
        super(ListenerMode.IMPLICIT_TLS);
    }
}
