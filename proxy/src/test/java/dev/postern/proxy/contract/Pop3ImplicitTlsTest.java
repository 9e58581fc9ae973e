package dev.postern.proxy.contract;

/** The POP3 front end's contract on an implicit-TLS listener. */
class Pop3ImplicitTlsTest extends Pop3Contract {
    Pop3ImplicitTlsTest() {
        super(ListenerMode.IMPLICIT_TLS);
    }
}
