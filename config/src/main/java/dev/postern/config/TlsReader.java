package dev.postern.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** Reads the {@code tls} section and its certificates. */
final class TlsReader {
    static final List<String> KEYS =
            List.of("provider", "protocols", "ciphers", "session-cache-size", "session-timeout", "certificates");
    static final List<String> CERTIFICATE_KEYS = List.of("name", "cert", "key", "key-password", "sni", "default");

    private static final List<String> PROTOCOLS = List.of("TLSv1.2", "TLSv1.3");
    private static final Pattern CIPHER = Pattern.compile("[A-Z0-9_]+");
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    private TlsReader() {}

    /** The TLS settings; null when something in them is invalid (reported). */
    static TlsConfig read(Node section) {
        if (!section.isMapping(KEYS)) {
            return TlsConfig.DEFAULTS;
        }
        TlsConfig d = TlsConfig.DEFAULTS;
        Node providerNode = section.get("provider");
        TlsConfig.Provider provider =
                providerNode.isPresent() ? providerNode.oneOf(TlsConfig.Provider.class) : d.provider();
        List<String> protocols = names(section.get("protocols"), d.protocols(), "TLSv1.3, TLSv1.2 or both", true);
        List<String> ciphers = names(section.get("ciphers"), d.ciphers(), "cipher suite names", false);
        Node cacheNode = section.get("session-cache-size");
        Integer cacheSize =
                cacheNode.isPresent() ? cacheNode.integer(0, Integer.MAX_VALUE) : Integer.valueOf(d.sessionCacheSize());
        Node timeoutNode = section.get("session-timeout");
        Duration sessionTimeout = timeoutNode.isPresent() ? timeoutNode.duration(true) : d.sessionTimeout();
        List<CertificateConfig> certificates = certificates(section.get("certificates"));
        if (provider == null
                || protocols == null
                || ciphers == null
                || cacheSize == null
                || sessionTimeout == null
                || certificates == null) {
            return null;
        }
        return new TlsConfig(provider, protocols, ciphers, certificates, cacheSize, sessionTimeout);
    }

    /** A non-empty list of protocol versions or cipher suites without repeats; null when invalid (reported). */
    private static List<String> names(Node node, List<String> fallback, String what, boolean protocols) {
        if (!node.isPresent()) {
            return fallback;
        }
        boolean valid = true;
        List<String> names = new ArrayList<>();
        List<Node> elements = node.nonEmptyList(what);
        if (elements.isEmpty()) {
            return null;
        }
        for (Node element : elements) {
            String name = element.string(protocols ? "a protocol version" : "a cipher suite name");
            if (name == null) {
                valid = false;
            } else if (protocols && !PROTOCOLS.contains(name)) {
                element.problem("'" + name + "' is not one of " + String.join(", ", PROTOCOLS));
                valid = false;
            } else if (!protocols && !CIPHER.matcher(name).matches()) {
                element.problem("'" + name + "' is not a cipher suite name (IANA names such as "
                        + "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)");
                valid = false;
            } else if (names.contains(name)) {
                element.problem("'" + name + "' is listed twice");
                valid = false;
            } else {
                names.add(name);
            }
        }
        return valid ? names : null;
    }

    /** One certificate as read; the default flag is settled once all are known. */
    private record Draft(String name, Path cert, Path key, Optional<Secret> keyPassword, List<String> sni) {}

    private static List<CertificateConfig> certificates(Node node) {
        List<Draft> drafts = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        Map<String, String> sniOwners = new HashMap<>();
        String defaultPath = null;
        int defaultIndex = 0;
        boolean valid = true;
        List<Node> elements = node.list();
        for (int i = 0; i < elements.size(); i++) {
            Node element = elements.get(i);
            if (!element.isMapping(CERTIFICATE_KEYS)) {
                if (!element.isPresent()) {
                    element.problem("is empty (a certificate needs at least cert and key)");
                }
                valid = false;
                continue;
            }
            Node certNode = element.get("cert").required();
            Path certPath = certNode.filePath();
            Path cert = certPath == null ? null : certNode.readable(certPath);
            Path key = element.get("key").required().readableFile();
            String name = name(element, certPath, names);
            Optional<Secret> keyPassword = Optional.empty();
            if (element.get("key-password").isPresent()) {
                Secret secret = element.get("key-password").secret();
                keyPassword = Optional.ofNullable(secret);
                valid &= secret != null;
            }
            List<String> sni = sni(element.get("sni"), element.path(), sniOwners);
            Node defaultNode = element.get("default");
            Boolean isDefault = defaultNode.isPresent() ? defaultNode.bool() : Boolean.FALSE;
            if (Boolean.TRUE.equals(isDefault)) {
                if (defaultPath != null) {
                    defaultNode.problem(defaultPath + " is already the default (at most one certificate can be)");
                    valid = false;
                } else {
                    defaultPath = element.path();
                    defaultIndex = i;
                }
            }
            if (cert == null || key == null || name == null || sni == null || isDefault == null) {
                valid = false;
            } else {
                drafts.add(new Draft(name, cert, key, keyPassword, sni));
            }
        }
        if (!valid) {
            return null;
        }
        // Without an explicit default the first certificate is the one for clients that send no (or an unknown) SNI.
        List<CertificateConfig> certificates = new ArrayList<>();
        for (int i = 0; i < drafts.size(); i++) {
            Draft d = drafts.get(i);
            certificates.add(
                    new CertificateConfig(d.name(), d.cert(), d.key(), d.keyPassword(), d.sni(), i == defaultIndex));
        }
        return certificates;
    }

    /** The given name, or the cert's file name without its extension; unique. */
    private static String name(Node element, Path certPath, Map<String, String> names) {
        Node nameNode = element.get("name");
        String name;
        if (nameNode.isPresent()) {
            name = nameNode.string("a name");
            if (name != null && name.isBlank()) {
                nameNode.problem("is empty");
                return null;
            }
        } else if (certPath != null && certPath.getFileName() != null) {
            String file = certPath.getFileName().toString();
            int dot = file.lastIndexOf('.');
            name = dot > 0 ? file.substring(0, dot) : file;
        } else {
            return null;
        }
        if (name == null) {
            return null;
        }
        String previous = names.putIfAbsent(name, element.path());
        if (previous != null) {
            if (nameNode.isPresent()) {
                nameNode.problem("'" + name + "' is already used by " + previous);
            } else {
                element.problem("name '" + name + "' (from the cert file name) is already used by " + previous
                        + "; give each certificate a name");
            }
            return null;
        }
        return name;
    }

    /** Host names in lowercase, each served by one certificate only; null when invalid (reported). */
    private static List<String> sni(Node node, String certificatePath, Map<String, String> owners) {
        List<String> names = new ArrayList<>();
        boolean valid = true;
        for (Node element : node.list()) {
            String text = element.string("a host name");
            if (text == null) {
                valid = false;
                continue;
            }
            String name = text.toLowerCase(Locale.ROOT);
            if (!isSniName(name)) {
                element.problem("'" + text + "' is not a DNS name or *.domain");
                valid = false;
                continue;
            }
            String owner = owners.putIfAbsent(name, certificatePath);
            if (owner != null) {
                element.problem("'" + text + "' is already served by " + owner);
                valid = false;
                continue;
            }
            names.add(name);
        }
        return valid ? names : null;
    }

    /** A DNS name, or {@code *.} followed by one: the wildcard may only be the whole first label. */
    static boolean isSniName(String name) {
        String host = name.startsWith("*.") ? name.substring(2) : name;
        if (host.isEmpty() || host.length() > 253) {
            return false;
        }
        for (String label : host.split("\\.", -1)) {
            if (!DNS_LABEL.matcher(label).matches()) {
                return false;
            }
        }
        return true;
    }
}
