package dev.postern.proxy.transport;

import java.net.InetSocketAddress;

/**
 * A PROXY protocol header a balancer sent before the client's first byte (haproxy's proxy-protocol.txt).
 *
 * @param version 1 (text) or 2 (binary)
 * @param source the client's address; null when the header names none (v1 {@code UNKNOWN}, v2 {@code LOCAL}, or a
 *     v2 {@code AF_UNSPEC}/{@code AF_UNIX} block): the connection then stands for itself
 * @param destination the address the client connected to (the balancer's front); null exactly when {@code source} is
 * @param tls what a v2 {@code PP2_TYPE_SSL} TLV says about the client's side of the balancer; null without one
 */
public record ProxyHeader(int version, InetSocketAddress source, InetSocketAddress destination, Tls tls) {

    public ProxyHeader {
        if (version != 1 && version != 2) {
            throw new IllegalArgumentException("version " + version + " must be 1 or 2");
        }
        if ((source == null) != (destination == null)) {
            throw new IllegalArgumentException("source and destination: both or neither");
        }
    }

    /** Whether the header names the client (otherwise the connection's own addresses stay). */
    public boolean hasAddresses() {
        return source != null;
    }

    /**
     * The {@code PP2_TYPE_SSL} TLV: the balancer's TLS with the client.
     *
     * @param client the {@code PP2_CLIENT_*} bits ({@code 0x01} TLS, {@code 0x02} certificate on this connection,
     *     {@code 0x04} certificate on this TLS session)
     * @param verified the balancer verified the client's certificate (or asked for none): {@code verify} was 0
     * @param version {@code PP2_SUBTYPE_SSL_VERSION} ({@code TLSv1.3}); null without it
     * @param cipher {@code PP2_SUBTYPE_SSL_CIPHER}; null without it
     * @param commonName {@code PP2_SUBTYPE_SSL_CN}, the client certificate's CN; null without it
     */
    public record Tls(int client, boolean verified, String version, String cipher, String commonName) {
        public static final int CLIENT_SSL = 0x01;

        /** Whether the client's connection to the balancer used TLS at all. */
        public boolean clientSsl() {
            return (client & CLIENT_SSL) != 0;
        }
    }
}
