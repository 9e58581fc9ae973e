package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.config.ClientCertificatesConfig;
import dev.postern.config.ClientCertificatesConfig.Mode;
import dev.postern.config.ClientCertificatesConfig.UserField;
import dev.postern.config.TlsConfig.Provider;
import dev.postern.proxy.session.ClientCertificate;
import dev.postern.proxy.tls.TlsTestServer.ServerHandshake;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import dev.postern.testkit.TestCertificates.Leaf;
import io.netty.channel.EventLoopGroup;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Listeners that ask for client certificates, with real handshakes on both providers: who gets in, who does not, and
 * what the session learns about a certificate.
 */
class ClientCertificateTest {
    private static final String HOST = "mail.example.test";

    private static EventLoopGroup group;
    private static TestCertificates ca;
    private static TestCertificates otherCa;
    private static Leaf server;
    private static Leaf alice;
    private static Leaf mallory;
    private static Leaf revoked;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        group = TlsTesting.newGroup();
        ca = TestCertificates.newAuthority();
        otherCa = TestCertificates.newAuthority();
        server = ca.issue(KeyType.EC_P256, HOST, HOST);
        alice = ca.issue(KeyType.EC_P256, "Alice", "alice@example.test");
        revoked = ca.issue(KeyType.EC_P256, "Revoked", "revoked@example.test");
        mallory = otherCa.issue(KeyType.EC_P256, "Mallory", "alice@example.test");
    }

    @AfterAll
    static void stop() {
        TlsTesting.shutdown(group);
    }

    private ClientCertificatesConfig policy(Mode mode, boolean crl) {
        Path caFile = ca.writeCaCertificate(dir.resolve("clients-ca.pem"));
        Optional<Path> crlFile =
                crl ? Optional.of(ca.writeCrl(dir.resolve("clients.crl"), revoked.certificate())) : Optional.empty();
        return new ClientCertificatesConfig(
                mode, Optional.of(caFile), crlFile, ClientCertificatesConfig.DEFAULT_USER_FROM);
    }

    private TlsTestServer serve(Provider provider, ClientCertificatesConfig policy) throws Exception {
        TlsManager tls = TlsManager.create(
                TlsTesting.config(provider, TlsTesting.certificate(server.write(dir, "mail", KeyFormat.PKCS8, null))),
                TlsTesting.HANDSHAKE_TIMEOUT);
        tls.prepare(policy);
        return TlsTestServer.start(
                group, channel -> tls.newServerHandler(channel.alloc(), false, List.of("imap"), policy));
    }

    /**
     * A client that trusts the server's CA and presents {@code certificate} (none when null) whatever CAs the server
     * names, as openssl s_client does: the JDK's own key manager would keep a certificate of another CA to itself.
     */
    private static SSLContext client(Leaf certificate) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(
                certificate == null ? null : new KeyManager[] {new Insistent(certificate)},
                ca.trustManagerFactory().getTrustManagers(),
                new SecureRandom());
        return context;
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENSSL", "JDK"})
    void aCertificateFromTheCaIsVerifiedAndNamesItsUser(Provider provider) throws Exception {
        ClientCertificatesConfig policy = policy(Mode.REQUIRED, false);
        try (TlsTestServer s = serve(provider, policy);
                SSLSocket socket = TlsClients.connect(client(alice), s.port(), HOST)) {
            TlsClients.assertEchoes(socket, "a1 NOOP\r\n");
            ServerHandshake handshake = s.nextHandshake(TlsTesting.WAIT);
            assertThat(handshake.failure()).isNull();

            ClientCertificate certificate = PeerCertificates.of(handshake.session(), policy);
            assertThat(certificate).isNotNull();
            assertThat(certificate.user()).contains("alice@example.test");
            assertThat(certificate.subject()).isEqualTo("CN=Alice,O=Postern tests");
            assertThat(certificate.issuer())
                    .isEqualTo(ca.caCertificate().getSubjectX500Principal().getName("RFC2253"));
            assertThat(certificate.serial())
                    .isEqualTo(
                            alice.certificate().getSerialNumber().toString(16).toUpperCase());
            assertThat(certificate.sha1())
                    .isEqualTo(HexFormat.of()
                            .formatHex(MessageDigest.getInstance("SHA-1")
                                    .digest(alice.certificate().getEncoded())));
            assertThat(certificate.pem()).startsWith("-----BEGIN CERTIFICATE-----\n");
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENSSL", "JDK"})
    void aRequiredListenerFailsTheHandshakeWithoutACertificate(Provider provider) throws Exception {
        try (TlsTestServer s = serve(provider, policy(Mode.REQUIRED, false));
                SSLSocket socket = TlsClients.connect(client(null), s.port(), HOST)) {
            // with TLS 1.3 the client learns it at its first read: the server's alert follows its Finished
            assertThatThrownBy(() -> TlsClients.assertEchoes(socket, "a1 NOOP\r\n"));
            assertThat(s.nextHandshake(TlsTesting.WAIT).failure()).isNotNull();
        } catch (SSLException refusedEarly) {
            // TLS 1.2 style: the handshake itself failed
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENSSL", "JDK"})
    void anOptionalListenerLetsAClientWithoutACertificateIn(Provider provider) throws Exception {
        ClientCertificatesConfig policy = policy(Mode.OPTIONAL, false);
        try (TlsTestServer s = serve(provider, policy);
                SSLSocket socket = TlsClients.connect(client(null), s.port(), HOST)) {
            TlsClients.assertEchoes(socket, "a1 NOOP\r\n");
            ServerHandshake handshake = s.nextHandshake(TlsTesting.WAIT);
            assertThat(handshake.failure()).isNull();
            assertThat(PeerCertificates.of(handshake.session(), policy)).isNull();
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENSSL", "JDK"})
    void aCertificateFromAnotherCaFailsTheHandshakeEvenWhenOptional(Provider provider) throws Exception {
        assertRefused(provider, policy(Mode.OPTIONAL, false), mallory);
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENSSL", "JDK"})
    void aRevokedCertificateFailsTheHandshakeAndAnotherOneStillPasses(Provider provider) throws Exception {
        ClientCertificatesConfig policy = policy(Mode.REQUIRED, true);
        assertRefused(provider, policy, revoked);
        try (TlsTestServer s = serve(provider, policy);
                SSLSocket socket = TlsClients.connect(client(alice), s.port(), HOST)) {
            TlsClients.assertEchoes(socket, "a1 NOOP\r\n");
            assertThat(s.nextHandshake(TlsTesting.WAIT).failure()).isNull();
        }
    }

    private void assertRefused(Provider provider, ClientCertificatesConfig policy, Leaf certificate) throws Exception {
        try (TlsTestServer s = serve(provider, policy)) {
            try (SSLSocket socket = TlsClients.connect(client(certificate), s.port(), HOST)) {
                assertThatThrownBy(() -> TlsClients.assertEchoes(socket, "a1 NOOP\r\n"));
            } catch (SSLException | java.net.SocketException refusedEarly) {
                // the handshake itself failed (TLS 1.2 style), or the server closed while the client sent Finished
            }
            assertThat(s.nextHandshake(TlsTesting.WAIT).failure()).isNotNull();
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENSSL", "JDK"})
    void aJdkClientKeepsACertificateOfAnotherCaToItselfAndGetsInWithoutOne(Provider provider) throws Exception {
        ClientCertificatesConfig policy = policy(Mode.OPTIONAL, false);
        SSLContext jdkClient = SSLContext.getInstance("TLS");
        jdkClient.init(
                mallory.keyManagerFactory().getKeyManagers(),
                ca.trustManagerFactory().getTrustManagers(),
                null);
        try (TlsTestServer s = serve(provider, policy);
                SSLSocket socket = TlsClients.connect(jdkClient, s.port(), HOST)) {
            TlsClients.assertEchoes(socket, "a1 NOOP\r\n");
            ServerHandshake handshake = s.nextHandshake(TlsTesting.WAIT);
            assertThat(PeerCertificates.of(handshake.session(), policy))
                    .as("nothing verified, so nothing for EXTERNAL")
                    .isNull();
        }
    }

    /** Presents one certificate, whatever the server asks. */
    private static final class Insistent extends X509ExtendedKeyManager {
        private final Leaf leaf;

        Insistent(Leaf leaf) {
            this.leaf = leaf;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return "leaf";
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return "leaf";
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return leaf.chain().toArray(X509Certificate[]::new);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return leaf.privateKey();
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[] {"leaf"};
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return new String[0];
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return null;
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENSSL", "JDK"})
    void aReloadReadsANewCrlForNewConnections(Provider provider) throws Exception {
        Path caFile = ca.writeCaCertificate(dir.resolve("clients-ca.pem"));
        Path crlFile = ca.writeCrl(dir.resolve("clients.crl"));
        ClientCertificatesConfig policy = new ClientCertificatesConfig(
                Mode.REQUIRED, Optional.of(caFile), Optional.of(crlFile), ClientCertificatesConfig.DEFAULT_USER_FROM);
        TlsManager tls = TlsManager.create(
                TlsTesting.config(provider, TlsTesting.certificate(server.write(dir, "mail", KeyFormat.PKCS8, null))),
                TlsTesting.HANDSHAKE_TIMEOUT);
        tls.prepare(policy);
        try (TlsTestServer s = TlsTestServer.start(
                group, channel -> tls.newServerHandler(channel.alloc(), false, List.of(), policy))) {
            try (SSLSocket socket = TlsClients.connect(client(alice), s.port(), HOST)) {
                TlsClients.assertEchoes(socket, "a1 NOOP\r\n");
                assertThat(s.nextHandshake(TlsTesting.WAIT).failure()).isNull();
            }

            ca.writeCrl(crlFile, alice.certificate());
            tls.reload();

            try (SSLSocket socket = TlsClients.connect(client(alice), s.port(), HOST)) {
                assertThatThrownBy(() -> TlsClients.assertEchoes(socket, "a1 NOOP\r\n"));
            } catch (SSLException | java.net.SocketException refusedEarly) {
                // the handshake itself failed (TLS 1.2 style), or the server closed while the client sent Finished
            }
            assertThat(s.nextHandshake(TlsTesting.WAIT).failure())
                    .as("revoked by the reloaded list")
                    .isNotNull();
        }
    }

    @Test
    void aCaFileWithoutCertificatesOrABrokenCrlStopsTheStartWithTheFileNamed() throws Exception {
        TlsManager tls = TlsManager.create(
                TlsTesting.config(
                        Provider.JDK, TlsTesting.certificate(server.write(dir, "mail", KeyFormat.PKCS8, null))),
                TlsTesting.HANDSHAKE_TIMEOUT);
        Path notCa = Files.writeString(dir.resolve("not-a-ca.pem"), "hello\n");
        Path notCrl =
                Files.writeString(dir.resolve("not-a.crl"), "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
        Path caFile = ca.writeCaCertificate(dir.resolve("clients-ca.pem"));

        assertThatThrownBy(() -> tls.prepare(new ClientCertificatesConfig(
                        Mode.REQUIRED,
                        Optional.of(notCa),
                        Optional.empty(),
                        ClientCertificatesConfig.DEFAULT_USER_FROM)))
                .isInstanceOf(TlsSetupException.class)
                .hasMessage(notCa + ": no certificate");
        assertThatThrownBy(() -> tls.prepare(new ClientCertificatesConfig(
                        Mode.REQUIRED,
                        Optional.of(caFile),
                        Optional.of(notCrl),
                        ClientCertificatesConfig.DEFAULT_USER_FROM)))
                .isInstanceOf(TlsSetupException.class)
                .hasMessageStartingWith(notCrl + ": cannot read the certificate revocation lists");
    }

    @Test
    void theUserComesFromTheFirstFieldTheCertificateHas() {
        Leaf cnOnly = ca.issue(KeyType.EC_P256, "bob");
        Leaf dns = ca.issue(KeyType.EC_P256, "device-7", "device-7.example.test");

        assertThat(PeerCertificates.user(alice.certificate(), ClientCertificatesConfig.DEFAULT_USER_FROM))
                .contains("alice@example.test");
        assertThat(PeerCertificates.user(cnOnly.certificate(), ClientCertificatesConfig.DEFAULT_USER_FROM))
                .as("no SAN e-mail: the CN")
                .contains("bob");
        assertThat(PeerCertificates.user(dns.certificate(), List.of(UserField.SAN_DNS)))
                .contains("device-7.example.test");
        assertThat(PeerCertificates.user(dns.certificate(), List.of(UserField.SAN_EMAIL, UserField.SUBJECT_EMAIL)))
                .as("none of the fields: no user, and so no EXTERNAL")
                .isEmpty();
    }
}
