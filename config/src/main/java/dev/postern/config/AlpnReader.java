package dev.postern.config;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads a listener's {@code tls-alpn}: {@code strict} (the listener's own protocol id, the default for mail
 * listeners), {@code off} (no check, the default for {@code tcp}), or a list of the ALPN protocol ids accepted.
 */
final class AlpnReader {
    /** RFC 7301 ids are 1 to 255 bytes; the registered ones are printable ASCII, which is all we accept. */
    private static final Pattern ID = Pattern.compile("[!-~]{1,255}");

    /** The words; a bare {@code off} reaches us as YAML 1.1's false, which {@link Node#oneOf} reads as off. */
    private enum Mode {
        STRICT,
        OFF
    }

    private AlpnReader() {}

    /** The accepted ids (empty: not enforced); null when invalid (reported). */
    static List<String> read(Node node, Protocol protocol) {
        if (protocol == null) {
            return null;
        }
        if (!node.isPresent()) {
            return ListenerConfig.defaultAlpn(protocol);
        }
        if (node.isList()) {
            List<String> ids = new ArrayList<>();
            boolean valid = true;
            for (Node element : node.nonEmptyList("ALPN protocol ids, or 'off'")) {
                String id = element.string("an ALPN protocol id");
                if (id == null) {
                    valid = false;
                } else if (!ID.matcher(id).matches()) {
                    element.problem("'" + id + "' is not an ALPN protocol id (1 to 255 printable ASCII characters,"
                            + " no spaces)");
                    valid = false;
                } else if (!ids.contains(id)) {
                    ids.add(id);
                }
            }
            return valid && !ids.isEmpty() ? ids : null;
        }
        Mode mode = node.oneOf(Mode.class);
        if (mode == null) {
            return null;
        }
        if (mode == Mode.OFF) {
            return List.of();
        }
        if (protocol == Protocol.TCP) {
            node.problem("'strict' needs the listener's own protocol, and a tcp listener has none: list the ALPN ids"
                    + " it accepts (for example [h2, http/1.1]) or leave it off");
            return null;
        }
        return ListenerConfig.defaultAlpn(protocol);
    }
}
