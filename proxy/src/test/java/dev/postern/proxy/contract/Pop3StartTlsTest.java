package dev.postern.proxy.contract;

/** The POP3 front end's contract on a STARTTLS listener. */
class Pop3StartTlsTest extends Pop3Contract {
    Pop3StartTlsTest() {
        super(ListenerMode.STARTTLS);
    }
}
