package dev.postern.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reads the {@code client-certificates} block of a listener. */
final class ClientCertificatesReader {
    static final List<String> KEYS = List.of("mode", "ca", "crl", "user-from");

    private ClientCertificatesReader() {}

    /** The block; {@link ClientCertificatesConfig#OFF} when absent, null when invalid (reported). */
    static ClientCertificatesConfig read(Node node, TlsMode tls) {
        if (!node.isPresent()) {
            return ClientCertificatesConfig.OFF;
        }
        if (!node.isMapping(KEYS)) {
            return null;
        }
        Node modeNode = node.get("mode");
        if (!modeNode.isPresent()) {
            modeNode.problem("is required (off, optional or required): without it the block does nothing");
            return null;
        }
        ClientCertificatesConfig.Mode mode = modeNode.oneOf(ClientCertificatesConfig.Mode.class);
        boolean valid = mode != null;
        if (mode != null && mode != ClientCertificatesConfig.Mode.OFF && tls == TlsMode.NONE) {
            modeNode.problem("'" + mode.configName() + "' needs TLS on the listener (tls: implicit or starttls):"
                    + " a certificate comes with the handshake");
            valid = false;
        }
        Node caNode = node.get("ca");
        Optional<Path> ca = Optional.empty();
        if (caNode.isPresent()) {
            Path path = caNode.readableFile();
            valid &= path != null;
            ca = Optional.ofNullable(path);
        } else if (mode != null && mode != ClientCertificatesConfig.Mode.OFF) {
            caNode.problem("is required when mode is " + mode.configName()
                    + " (the PEM bundle of the CAs that issue client certificates)");
            valid = false;
        }
        Node crlNode = node.get("crl");
        Optional<Path> crl = Optional.empty();
        if (crlNode.isPresent()) {
            Path path = crlNode.readableFile();
            valid &= path != null;
            crl = Optional.ofNullable(path);
        }
        List<ClientCertificatesConfig.UserField> userFrom = userFrom(node.get("user-from"));
        if (!valid || userFrom == null) {
            return null;
        }
        return new ClientCertificatesConfig(mode, ca, crl, userFrom);
    }

    /** One field or a list of them, without repeats; null when invalid (reported). */
    private static List<ClientCertificatesConfig.UserField> userFrom(Node node) {
        if (!node.isPresent()) {
            return ClientCertificatesConfig.DEFAULT_USER_FROM;
        }
        List<Node> elements = node.isList() ? node.nonEmptyList("certificate fields") : List.of(node);
        if (elements.isEmpty()) {
            return null;
        }
        List<ClientCertificatesConfig.UserField> fields = new ArrayList<>();
        boolean valid = true;
        for (Node element : elements) {
            ClientCertificatesConfig.UserField field = element.oneOf(ClientCertificatesConfig.UserField.class);
            if (field == null) {
                valid = false;
            } else if (fields.contains(field)) {
                element.problem("'" + field.configName() + "' is listed twice");
                valid = false;
            } else {
                fields.add(field);
            }
        }
        return valid ? fields : null;
    }
}
