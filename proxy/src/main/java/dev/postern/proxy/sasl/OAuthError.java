package dev.postern.proxy.sasl;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;

/**
 * Why a bearer token was refused, as the server tells an OAuth client before it fails the exchange: RFC 7628 section
 * 3.2.2's JSON error status for OAUTHBEARER, and Google's form of it for XOAUTH2. {@link SaslDriver#refuse} sends it
 * as a challenge; the client answers with a dummy response and the exchange ends with the protocol's failure reply.
 *
 * @param status the RFC 6750 error code: {@code invalid_token} (expired, revoked, bad signature, another audience),
 *     {@code insufficient_scope} or {@code invalid_request}
 * @param scope the scope a token needs here (space separated), if the provider says
 * @param openidConfiguration where the client finds the issuer's discovery document, if the provider says
 */
public record OAuthError(String status, Optional<String> scope, Optional<String> openidConfiguration) {
    public static final String INVALID_TOKEN = "invalid_token";

    public OAuthError {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(openidConfiguration, "openidConfiguration");
    }

    /** An {@code invalid_token} status with the provider's scope and discovery URL. */
    public static OAuthError invalidToken(Optional<String> scope, Optional<String> openidConfiguration) {
        return new OAuthError(INVALID_TOKEN, scope, openidConfiguration);
    }

    /** The error status in {@code mechanism}'s form, as JSON. */
    public String json(SaslMechanism mechanism) {
        StringBuilder json = new StringBuilder("{\"status\":");
        if (mechanism == SaslMechanism.XOAUTH2) {
            // Google's XOAUTH2 answers with the HTTP status a bearer request would get, and the scheme
            quote(json, httpStatus()).append(",\"schemes\":\"bearer\"");
        } else {
            quote(json, status);
        }
        scope.ifPresent(s -> quote(json.append(",\"scope\":"), s));
        if (mechanism == SaslMechanism.OAUTHBEARER) {
            openidConfiguration.ifPresent(u -> quote(json.append(",\"openid-configuration\":"), u));
        }
        return json.append('}').toString();
    }

    /** The error status as the base64 challenge {@link SaslDriver#refuse} sends. */
    public String challenge(SaslMechanism mechanism) {
        return Base64.getEncoder().encodeToString(json(mechanism).getBytes(StandardCharsets.UTF_8));
    }

    private String httpStatus() {
        return switch (status) {
            case "insufficient_scope" -> "403";
            case "invalid_request" -> "400";
            default -> "401";
        };
    }

    private static StringBuilder quote(StringBuilder json, String value) {
        json.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                json.append('\\').append(c);
            } else if (c < 0x20) {
                json.append(String.format("\\u%04x", (int) c));
            } else {
                json.append(c);
            }
        }
        return json.append('"');
    }
}
