package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.config.CertificateConfig;
import dev.postern.config.Secret;
import dev.postern.config.TlsConfig.Provider;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import dev.postern.testkit.TestCertificates.Leaf;
import io.netty.channel.EventLoopGroup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ReloadTest {
    private static final String HOST = "mail.example.test";

    private static EventLoopGroup group;
    private static TestCertificates ca;
    private static SSLContext client;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        group = TlsTesting.newGroup();
        ca = TestCertificates.newAuthority();
        // One client for all connections: a new connection after a reload offers to resume the old session.
        client = ca.clientSslContext();
    }

    @AfterAll
    static void stop() {
        TlsTesting.shutdown(group);
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void liveConnectionsKeepTheirCertificateWhileNewOnesGetTheReloadedOne(Provider provider) throws Exception {
        Leaf before = ca.issue(KeyType.EC_P256, "before.example.test", HOST);
        CertificateConfig config = TlsTesting.certificate(before.write(dir, "mail", KeyFormat.PKCS8, null));
        TlsManager tls = TlsManager.create(TlsTesting.config(provider, config), TlsTesting.HANDSHAKE_TIMEOUT);

        try (TlsTestServer server = TlsTestServer.start(group, tls);
                SSLSocket live = TlsClients.connect(client, server.port(), HOST)) {
            TlsClients.assertEchoes(live, "a1 SELECT INBOX\r\n");
            assertThat(TlsClients.peerCommonName(live)).isEqualTo("before.example.test");

            Leaf after = ca.issue(KeyType.RSA_2048, "after.example.test", HOST);
            after.write(dir, "mail", KeyFormat.PKCS8, null);
            tls.reload();

            TlsClients.assertEchoes(live, "a2 FETCH 1 BODY[]\r\n");
            assertThat(TlsClients.peerCommonName(live)).isEqualTo("before.example.test");
            try (SSLSocket fresh = TlsClients.connect(client, server.port(), HOST)) {
                TlsClients.assertEchoes(fresh, "b1 NOOP\r\n");
                assertThat(TlsClients.peerLeaf(fresh)).isEqualTo(after.certificate());
            }
            TlsClients.assertEchoes(live, "a3 LOGOUT\r\n");
            assertThat(tls.certificates()).singleElement().satisfies(info -> assertThat(info.subject())
                    .startsWith("CN=after.example.test"));
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void aFailedReloadKeepsTheServedCertificateAndSaysWhy(Provider provider) throws Exception {
        Leaf served = ca.issue(KeyType.EC_P256, "served.example.test", HOST);
        CertificateConfig config = TlsTesting.certificate(served.write(dir, "mail", KeyFormat.PKCS8, null));
        TlsManager tls = TlsManager.create(TlsTesting.config(provider, config), TlsTesting.HANDSHAKE_TIMEOUT);
        List<CertificateInfo> infoBefore = tls.certificates();

        try (TlsTestServer server = TlsTestServer.start(group, tls)) {
            Files.writeString(config.key(), "garbage, not a key\n");
            assertThatThrownBy(tls::reload)
                    .isInstanceOf(TlsSetupException.class)
                    .hasMessage("no private key in " + config.key());
            assertServes(server, served);

            served.writeKey(config.key(), KeyFormat.PKCS8, null);
            ca.issue(KeyType.EC_P256, "other.example.test", HOST).writeChain(config.cert());
            assertThatThrownBy(tls::reload)
                    .isInstanceOf(TlsSetupException.class)
                    .hasMessage(config.cert() + ": private key does not match the certificate");
            assertServes(server, served);

            Files.write(config.cert(), new byte[0]);
            assertThatThrownBy(tls::reload).hasMessage(config.cert() + ": no certificate");
            assertServes(server, served);
            assertThat(tls.certificates()).isEqualTo(infoBefore);

            served.writeChain(config.cert());
            tls.reload();
            assertServes(server, served);
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void reloadWithANewConfigAddsCertificatesForNewConnections(Provider provider) throws Exception {
        Leaf mail = ca.issue(KeyType.EC_P256, HOST, HOST);
        CertificateConfig mailConfig = TlsTesting.certificate(mail.write(dir, "mail", KeyFormat.PKCS8, null));
        TlsManager tls = TlsManager.create(TlsTesting.config(provider, mailConfig), TlsTesting.HANDSHAKE_TIMEOUT);
        Leaf smtp = ca.issue(KeyType.RSA_2048, "smtp.example.test", "smtp.example.test");
        CertificateConfig smtpConfig =
                TlsTesting.certificate(smtp.write(dir, "smtp", KeyFormat.ENCRYPTED_PKCS8, "right"));

        try (TlsTestServer server = TlsTestServer.start(group, tls)) {
            CertificateConfig wrongPassword = new CertificateConfig(
                    "smtp", smtpConfig.cert(), smtpConfig.key(), Optional.of(Secret.of("wrong")), List.of(), false);
            assertThatThrownBy(() -> tls.reload(TlsTesting.config(provider, mailConfig, wrongPassword)))
                    .hasMessage(smtpConfig.key() + ": wrong key-password");
            try (SSLSocket socket = TlsClients.connect(client, server.port(), "smtp.example.test")) {
                assertThat(TlsClients.peerLeaf(socket)).as("default, as before").isEqualTo(mail.certificate());
            }

            tls.reload(TlsTesting.config(provider, mailConfig, smtpConfig));

            try (SSLSocket socket = TlsClients.connect(client, server.port(), "smtp.example.test")) {
                assertThat(TlsClients.peerLeaf(socket)).isEqualTo(smtp.certificate());
            }
            assertServes(server, mail);
            assertThat(tls.certificates()).extracting(CertificateInfo::name).containsExactly("mail", "smtp");
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Provider.class,
            names = {"OPENSSL", "JDK"})
    void reloadMaySwitchTheProvider(Provider provider) throws Exception {
        CertificateConfig config =
                TlsTesting.certificate(ca.issue(KeyType.EC_P256, HOST, HOST).write(dir, "mail", KeyFormat.PKCS8, null));
        TlsManager tls = TlsManager.create(TlsTesting.config(provider, config), TlsTesting.HANDSHAKE_TIMEOUT);
        Provider other = provider == Provider.JDK ? Provider.OPENSSL : Provider.JDK;

        tls.reload(TlsTesting.config(other, config));

        assertThat(tls.provider()).isEqualTo(other);
        assertThat(tls.certificates())
                .singleElement()
                .extracting(CertificateInfo::provider)
                .isEqualTo(other);
        try (TlsTestServer server = TlsTestServer.start(group, tls);
                SSLSocket socket = TlsClients.connect(client, server.port(), HOST)) {
            TlsClients.assertEchoes(socket, "x");
        }
    }

    private static void assertServes(TlsTestServer server, Leaf leaf) throws Exception {
        try (SSLSocket socket = TlsClients.connect(client, server.port(), HOST)) {
            TlsClients.assertEchoes(socket, "ping");
            assertThat(TlsClients.peerLeaf(socket)).isEqualTo(leaf.certificate());
        }
    }
}
