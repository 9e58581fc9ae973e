package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/** JDK {@link SSLSocket} clients for the TLS tests; every blocking call has a deadline. */
final class TlsClients {
    static final int TIMEOUT_MILLIS = 10_000;

    private TlsClients() {}

    /**
     * Connects to 127.0.0.1:{@code port} and completes the handshake.
     *
     * @param sni the SNI name to send; null sends none
     * @param protocols the protocols to offer; none means the JDK's defaults
     */
    static SSLSocket connect(SSLContext context, int port, String sni, String... protocols) throws IOException {
        return connect(context, port, sni, false, protocols);
    }

    /** Like {@link #connect}, and the certificate must name {@code host} (HTTPS-style endpoint identification). */
    static SSLSocket connectCheckingHostName(SSLContext context, int port, String host) throws IOException {
        return connect(context, port, host, true);
    }

    private static SSLSocket connect(
            SSLContext context, int port, String sni, boolean checkHostName, String... protocols) throws IOException {
        // Connect to loopback, but name the peer as a real client would: the JDK caches sessions by host and port
        // and, when it resumes one, sends that session's SNI name. With every test server on 127.0.0.1, different
        // names under one host would resume each other's sessions and send the wrong name.
        Socket plain = new Socket();
        try {
            plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MILLIS);
            plain.setSoTimeout(TIMEOUT_MILLIS);
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
        return startTls(context, plain, sni, checkHostName, protocols);
    }

    /**
     * Starts TLS over {@code plain}, an already connected socket (STARTTLS), and completes the handshake; closing
     * the returned socket closes {@code plain}.
     */
    static SSLSocket startTls(SSLContext context, Socket plain, String sni, boolean checkHostName, String... protocols)
            throws IOException {
        SSLSocket socket;
        try {
            socket = (SSLSocket) context.getSocketFactory()
                    .createSocket(plain, sni == null ? "127.0.0.1" : sni, plain.getPort(), true);
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
        try {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
            if (checkHostName) {
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
            }
            if (protocols.length > 0) {
                parameters.setProtocols(protocols);
            }
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Sends {@code text} and checks that the echo server sends it back. */
    static void assertEchoes(SSLSocket socket, String text) throws IOException {
        byte[] sent = text.getBytes(StandardCharsets.UTF_8);
        socket.getOutputStream().write(sent);
        socket.getOutputStream().flush();
        byte[] received = new byte[sent.length];
        InputStream in = socket.getInputStream();
        int read = 0;
        while (read < received.length) {
            int n = in.read(received, read, received.length - read);
            if (n < 0) {
                throw new AssertionError("connection closed after " + read + " of " + sent.length + " bytes");
            }
            read += n;
        }
        assertThat(new String(received, StandardCharsets.UTF_8)).isEqualTo(text);
    }

    static X509Certificate peerLeaf(SSLSocket socket) throws IOException {
        return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }

    static Certificate[] peerChain(SSLSocket socket) throws IOException {
        return socket.getSession().getPeerCertificates();
    }

    /** The CN of the certificate the server presented. */
    static String peerCommonName(SSLSocket socket) throws IOException {
        String subject = peerLeaf(socket).getSubjectX500Principal().getName();
        for (String part : subject.split(",")) {
            if (part.startsWith("CN=")) {
                return part.substring(3);
            }
        }
        throw new AssertionError("no CN in " + subject);
    }
}
