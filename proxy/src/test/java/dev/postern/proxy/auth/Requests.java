package dev.postern.proxy.auth;

import dev.postern.config.Protocol;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import java.net.InetSocketAddress;

/** Login attempts for tests. */
final class Requests {
    private Requests() {}

    static AuthRequest login(String user, String password) {
        return login(user, password, "192.0.2.10");
    }

    static AuthRequest login(String user, String password, String clientAddress) {
        return new AuthRequest(
                Credentials.password(SaslMechanism.PLAIN, user, password),
                Protocol.IMAP,
                "imap",
                new InetSocketAddress(clientAddress, 50123),
                new InetSocketAddress("198.51.100.1", 993),
                "TLSv1.3",
                "TLS_AES_128_GCM_SHA256",
                1,
                "s1",
                null);
    }
}
