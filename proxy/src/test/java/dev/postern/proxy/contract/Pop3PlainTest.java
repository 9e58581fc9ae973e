package dev.postern.proxy.contract;

/** The POP3 front end's contract on a plain listener that allows plaintext logins. */
class Pop3PlainTest extends Pop3Contract {
    Pop3PlainTest() {
        super(ListenerMode.PLAIN);
    }
}
