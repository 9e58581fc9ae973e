package dev.postern.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;

/** Reads a URL setting: one of the given schemes, with a host, and no user info (it would end up in logs). */
final class Urls {
    private Urls() {}

    /**
     * {@code text} (the value at {@code node}) as a URL of one of {@code schemes}; null when it is not one (reported
     * at {@code node}).
     *
     * @param describe what the schemes are called in a problem ({@code an http or https URL})
     * @param userInfo what to say when the URL carries user info
     */
    static URI parse(Node node, String text, List<String> schemes, String describe, String userInfo) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            node.problem("'" + text + "' is not a URL (" + e.getReason() + ")");
            return null;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!schemes.contains(scheme)) {
            node.problem("'" + text + "' is not " + describe);
            return null;
        }
        if (uri.getHost() == null) {
            node.problem("'" + text + "' has no host");
            return null;
        }
        if (uri.getRawUserInfo() != null) {
            node.problem(userInfo);
            return null;
        }
        return uri;
    }
}
