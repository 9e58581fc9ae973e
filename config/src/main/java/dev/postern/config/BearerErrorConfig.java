package dev.postern.config;

import java.net.URI;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a token provider tells a client whose bearer token it refused, in the RFC 7628 error status sent before the
 * failure reply: the scope a token needs and the issuer's OpenID discovery document, so that the client can get a
 * better token. Both optional; the status itself ({@code invalid_token}) is always sent.
 *
 * @param scope the {@code scope} key (space-separated scopes)
 * @param openidConfiguration the {@code openid-configuration} key (OAUTHBEARER only)
 */
public record BearerErrorConfig(Optional<String> scope, Optional<URI> openidConfiguration) {
    /** Neither: the error status says {@code invalid_token} only. */
    public static final BearerErrorConfig NONE = new BearerErrorConfig(Optional.empty(), Optional.empty());

    /** The keys of a token provider that fill it in. */
    static final List<String> KEYS = List.of("scope", "openid-configuration");

    public BearerErrorConfig {
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(openidConfiguration, "openidConfiguration");
    }

    /** Reads {@code scope} and {@code openid-configuration} of a provider; null when one is invalid (reported). */
    static BearerErrorConfig read(Node element) {
        Node scopeNode = element.get("scope");
        String scope = null;
        boolean valid = true;
        if (scopeNode.isPresent()) {
            scope = scopeNode.string("scopes separated by spaces");
            if (scope != null && (scope.isBlank() || !scope.chars().allMatch(BearerErrorConfig::scopeChar))) {
                // RFC 6749 section 3.3: scope tokens are printable ASCII without quote or backslash
                scopeNode.problem("'" + scope + "' is not a list of scope tokens (printable ASCII, no \" or \\)");
                scope = null;
            }
            valid = scope != null;
        }
        Node urlNode = element.get("openid-configuration");
        URI url = null;
        if (urlNode.isPresent()) {
            String text = urlNode.string("the https URL of the issuer's .well-known/openid-configuration");
            url = text == null
                    ? null
                    : Urls.parse(
                            urlNode,
                            text,
                            List.of("https", "http"),
                            "an https URL",
                            "has user info (user:password@), which clients would see");
            valid &= url != null;
        }
        return !valid ? null : new BearerErrorConfig(Optional.ofNullable(scope), Optional.ofNullable(url));
    }

    private static boolean scopeChar(int c) {
        return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    }
}
