package dev.postern.proxy.auth;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * The TLS sockets of one directory server, for LDAPS and for StartTLS, that check the server's certificate against
 * the name in the configured URL during the handshake (the JDK's RFC 6125 check for LDAP, endpoint identification
 * {@code LDAPS}), whatever the SDK does.
 *
 * <p>Why not the SDK's {@code HostNameSSLSocketVerifier}: it accepts any certificate from a loopback address
 * ({@code ldaps://127.0.0.1} with a certificate for another name passes), following the W3C's "secure contexts", and
 * for LDAPS the SDK connects an unconnected socket to a resolved address, so the JDK alone would check the name the
 * resolver kept rather than the one configured. Here every TLS socket is layered over a connected plain socket with
 * the configured host name, so the name checked is exactly the one the operator wrote: a DNS name against the
 * certificate's DNS names (its CN only when it has none), an IP literal against its IP addresses.
 *
 * <p>With {@code tls-verify: false} the context trusts anything and no name is checked: an explicit opt-out.
 */
final class LdapTlsSockets extends SSLSocketFactory {
    private final SSLSocketFactory delegate;
    private final String host;
    private final boolean verifyHost;
    private final int connectTimeoutMillis;

    private LdapTlsSockets(SSLContext context, String host, boolean verifyHost, int connectTimeoutMillis) {
        this.delegate = context.getSocketFactory();
        this.host = host;
        this.verifyHost = verifyHost;
        this.connectTimeoutMillis = connectTimeoutMillis;
    }

    /**
     * The sockets for the server at {@code host} (as configured: a name or an IP literal).
     *
     * @param verifyHost check the certificate's names against {@code host} (false only with {@code tls-verify: false})
     */
    static LdapTlsSockets forServer(SSLContext context, String host, boolean verifyHost, int connectTimeoutMillis) {
        return new LdapTlsSockets(context, host, verifyHost, connectTimeoutMillis);
    }

    /** The host name the certificate is checked against. */
    String host() {
        return host;
    }

    /**
     * Refused, so that the SDK falls back to {@link #createSocket(InetAddress, int)}, which connects the plain socket
     * first and then layers TLS with the configured name (an unconnected TLS socket would take its name from the
     * resolved address).
     */
    @Override
    public Socket createSocket() throws IOException {
        throw new SocketException("only connected sockets");
    }

    /** LDAPS: connects to {@code address} (resolved from the configured host), then layers TLS for that host. */
    @Override
    public Socket createSocket(InetAddress address, int port) throws IOException {
        Socket plain = new Socket();
        try {
            plain.connect(new InetSocketAddress(address, port), connectTimeoutMillis);
            // bounds the handshake too; the SDK sets its own read timeout once connected
            plain.setSoTimeout(connectTimeoutMillis);
            return layer(plain, port);
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    @Override
    public Socket createSocket(String requestedHost, int port) throws IOException {
        return createSocket(InetAddress.getByName(requestedHost), port);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        throw new SocketException("no local address binding for the directory");
    }

    @Override
    public Socket createSocket(String requestedHost, int port, InetAddress localAddress, int localPort)
            throws IOException {
        throw new SocketException("no local address binding for the directory");
    }

    /**
     * StartTLS: TLS over the connection the SDK already has. The name checked is the configured one, not whatever the
     * caller passes.
     */
    @Override
    public Socket createSocket(Socket plain, String requestedHost, int port, boolean autoClose) throws IOException {
        if (!autoClose) {
            throw new SocketException("the TLS layer owns the connection");
        }
        return layer(plain, port);
    }

    private SSLSocket layer(Socket plain, int port) throws IOException {
        SSLSocket tls = (SSLSocket) delegate.createSocket(plain, host, port, true);
        if (verifyHost) {
            SSLParameters parameters = tls.getSSLParameters();
            // the JDK's trust manager then checks the certificate against host (RFC 6125, LDAP's rules) in the
            // handshake; the handshake fails on a mismatch, before a byte of LDAP is sent
            parameters.setEndpointIdentificationAlgorithm("LDAPS");
            tls.setSSLParameters(parameters);
        }
        return tls;
    }

    @Override
    public String[] getDefaultCipherSuites() {
        return delegate.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return delegate.getSupportedCipherSuites();
    }
}
