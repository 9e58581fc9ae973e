package dev.postern.proxy.contract;

import dev.postern.testkit.LineClient;
import javax.net.ssl.SSLContext;

/**
 * A way a listener takes connections: the options that configure it, what it promises before a client says anything,
 * and what a client does between connecting and speaking the protocol. Each front end's contract runs once per mode;
 * a new mode (a PROXY header in front, say: its options, and a header written in {@link #open}) is a new constant
 * and one subclass per contract.
 */
enum ListenerMode {
    /** Plain text all the way, plaintext logins allowed: a listener on a private network. */
    PLAIN("allow-plaintext-auth: true", false, false, true),
    /** TLS from the first byte (993, 995, 465). */
    IMPLICIT_TLS("tls: implicit", true, false, false),
    /** Plain text until STARTTLS, and no credentials before it (143, 110, 587). */
    STARTTLS("tls: starttls", false, true, false);

    /** The listener's options, as YAML flow-mapping entries. */
    final String options;
    /** Whether the connection is TLS from the first byte. */
    final boolean implicitTls;
    /** Whether STARTTLS (POP3's STLS) is offered on a new connection. */
    final boolean offersStartTls;
    /** Whether credentials are taken in clear text. */
    final boolean cleartextAuth;

    ListenerMode(String options, boolean implicitTls, boolean offersStartTls, boolean cleartextAuth) {
        this.options = options;
        this.implicitTls = implicitTls;
        this.offersStartTls = offersStartTls;
        this.cleartextAuth = cleartextAuth;
    }

    /** Whether a new connection may log in at once, without STARTTLS first. */
    boolean takesCredentialsAtOnce() {
        return implicitTls || cleartextAuth;
    }

    /** What a client does right after connecting: nothing, or the TLS handshake of an implicit-TLS listener. */
    void open(LineClient client, SSLContext tls) {
        if (implicitTls) {
            client.startTls(tls);
        }
    }
}
