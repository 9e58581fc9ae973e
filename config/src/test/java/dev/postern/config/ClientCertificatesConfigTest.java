package dev.postern.config;

import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static dev.postern.config.ConfigTexts.withListener;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.postern.config.ClientCertificatesConfig.Mode;
import dev.postern.config.ClientCertificatesConfig.UserField;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientCertificatesConfigTest {
    private static final String IMAPS = "name: imaps\nprotocol: imap\nbind: 127.0.0.1:1993\ntls: implicit\n";

    @TempDir
    Path dir;

    @BeforeEach
    void files() throws Exception {
        Files.writeString(dir.resolve("ca.pem"), "not parsed by the loader");
        Files.writeString(dir.resolve("ca.crl"), "not parsed by the loader");
    }

    private ClientCertificatesConfig read(String listener) throws ConfigException {
        return parse(withListener(listener), dir, Map.of()).listeners().get(0).clientCertificates();
    }

    private java.util.List<String> problemsOf(String listener) {
        return problems(withListener(listener), dir, name -> null);
    }

    @Test
    void readsTheWholeBlockWithPathsRelativeToTheConfig() throws Exception {
        ClientCertificatesConfig c = read(IMAPS
                + "client-certificates: {mode: required, ca: ca.pem, crl: ca.crl, user-from: [subject-cn, san-dns]}");

        assertThat(c.mode()).isEqualTo(Mode.REQUIRED);
        assertThat(c.ca()).contains(dir.resolve("ca.pem"));
        assertThat(c.crl()).contains(dir.resolve("ca.crl"));
        assertThat(c.userFrom()).containsExactly(UserField.SUBJECT_CN, UserField.SAN_DNS);
    }

    @Test
    void isOffWithoutTheBlockAndTheUserComesFromTheSanEmailThenTheCn() throws Exception {
        assertThat(read(IMAPS)).isEqualTo(ClientCertificatesConfig.OFF);
        ClientCertificatesConfig c = read(IMAPS + "client-certificates: {mode: optional, ca: ca.pem}");
        assertThat(c.mode()).isEqualTo(Mode.OPTIONAL);
        assertThat(c.crl()).isEqualTo(Optional.empty());
        assertThat(c.userFrom()).containsExactly(UserField.SAN_EMAIL, UserField.SUBJECT_CN);
        assertThat(read(IMAPS + "client-certificates: {mode: optional, ca: ca.pem, user-from: subject-email}")
                        .userFrom())
                .containsExactly(UserField.SUBJECT_EMAIL);
    }

    @Test
    void aCaBundleIsRequiredUnlessOff() throws Exception {
        assertThat(problemsOf(IMAPS + "client-certificates: {mode: optional}"))
                .containsExactly("listeners[0].client-certificates.ca: is required when mode is optional (the PEM"
                        + " bundle of the CAs that issue client certificates)");
        assertThat(read(IMAPS + "client-certificates: {mode: off}").enabled()).isFalse();
    }

    @Test
    void aListenerWithoutTlsCannotAskForCertificates() {
        assertThat(problemsOf("name: imap\nprotocol: imap\nbind: 127.0.0.1:1143\n"
                        + "client-certificates: {mode: required, ca: ca.pem}"))
                .containsExactly("listeners[0].client-certificates.mode: 'required' needs TLS on the listener (tls:"
                        + " implicit or starttls): a certificate comes with the handshake");
    }

    @Test
    void everyBadValueIsReportedWithItsPath() {
        assertThat(problemsOf(IMAPS
                        + "client-certificates: {mode: sometimes, ca: missing.pem, crl: gone.crl,"
                        + " user-from: [subject-cn, subject-cn, uid]}"))
                .containsExactlyInAnyOrder(
                        "listeners[0].client-certificates.mode: 'sometimes' is not one of off, optional, required",
                        "listeners[0].client-certificates.ca: " + dir.resolve("missing.pem") + " does not exist",
                        "listeners[0].client-certificates.crl: " + dir.resolve("gone.crl") + " does not exist",
                        "listeners[0].client-certificates.user-from[1]: 'subject-cn' is listed twice",
                        "listeners[0].client-certificates.user-from[2]: 'uid' is not one of san-email, san-dns,"
                                + " subject-cn, subject-email");
        assertThat(problemsOf(IMAPS + "client-certificates: {mode: optional, ca: ca.pem, pem: x}"))
                .singleElement()
                .asString()
                .startsWith("listeners[0].client-certificates.pem: unknown key");
    }

    @Test
    void theConfigViewShowsTheBlockOnlyWhereCertificatesAreAskedFor() throws Exception {
        PosternConfig config = parse(
                "listeners:\n  - {name: imaps, protocol: imap, bind: \"127.0.0.1:1993\", tls: implicit,"
                        + " client-certificates: {mode: required, ca: ca.pem, user-from: subject-cn}}\n"
                        + "  - {name: plain, protocol: imap, bind: \"127.0.0.1:1143\"}\n"
                        + ConfigTexts.POOLS,
                dir,
                Map.of());

        JsonNode listeners = ConfigJson.toTree(config).get("listeners");

        assertThat(listeners.get(0).get("client-certificates").toString())
                .isEqualTo("{\"mode\":\"required\",\"ca\":\"" + dir.resolve("ca.pem")
                        + "\",\"user-from\":[\"subject-cn\"]}");
        assertThat(listeners.get(1).has("client-certificates")).isFalse();
    }
}
