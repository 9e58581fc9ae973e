package dev.postern.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Reads a {@code type: oauth2-introspection} provider of the {@code auth.providers} list. */
final class IntrospectionReader {
    static final List<String> KEYS = List.of(
            "name",
            "type",
            "url",
            "client-id",
            "client-secret",
            "issuer",
            "audience",
            "user-claim",
            "clock-skew",
            "timeout",
            "tls-verify",
            "cache-ttl",
            "negative-ttl",
            "scope",
            "openid-configuration");

    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(10);
    private static final Duration MAX_CACHE_TTL = Duration.ofDays(1);

    private IntrospectionReader() {}

    /** The provider; null when invalid (reported). */
    static IntrospectionConfig read(Node element, String name, boolean keysValid) {
        Node urlNode = element.get("url").required();
        String text = urlNode.string("the introspection endpoint's https URL");
        URI url = text == null
                ? null
                : Urls.parse(
                        urlNode,
                        text,
                        List.of("http", "https"),
                        "an http or https URL",
                        "has user info (user:password@); use client-id and client-secret");
        String clientId = element.get("client-id").required().string("Postern's client id");
        Node secretNode = element.get("client-secret").required();
        Secret secret = secretNode.isPresent() ? secretNode.secret() : null;
        Optional<String> issuer = optionalString(element.get("issuer"), "the issuer (iss) answers must carry");
        Optional<String> audience = optionalString(element.get("audience"), "the audience (aud) answers must include");
        Optional<String> claim = optionalString(element.get("user-claim"), "a member name such as username or sub");
        Node skewNode = element.get("clock-skew");
        Duration skew = skewNode.isPresent() ? skewNode.duration(false) : JwtProviderConfig.DEFAULT_CLOCK_SKEW;
        if (skew != null && skew.compareTo(MAX_CLOCK_SKEW) > 0) {
            skewNode.problem(Units.format(skew) + " is more than " + Units.format(MAX_CLOCK_SKEW)
                    + ": an expired token would stay good that long");
            skew = null;
        }
        Node timeoutNode = element.get("timeout");
        Duration timeout = timeoutNode.isPresent() ? timeoutNode.duration(true) : DEFAULT_TIMEOUT;
        Node verifyNode = element.get("tls-verify");
        Boolean verify = verifyNode.isPresent() ? verifyNode.bool() : Boolean.TRUE;
        Duration cacheTtl = ttl(element.get("cache-ttl"), IntrospectionConfig.DEFAULT_CACHE_TTL);
        Duration negativeTtl = ttl(element.get("negative-ttl"), IntrospectionConfig.DEFAULT_NEGATIVE_TTL);
        BearerErrorConfig bearerError = BearerErrorConfig.read(element);
        if (!keysValid
                || name == null
                || url == null
                || clientId == null
                || secret == null
                || issuer == null
                || audience == null
                || claim == null
                || skew == null
                || timeout == null
                || verify == null
                || cacheTtl == null
                || negativeTtl == null
                || bearerError == null) {
            return null;
        }
        return new IntrospectionConfig(
                name,
                url,
                clientId,
                secret,
                issuer,
                audience,
                claim,
                skew,
                timeout,
                verify,
                cacheTtl,
                negativeTtl,
                bearerError);
    }

    /** Empty when absent, null when invalid (reported). */
    private static Optional<String> optionalString(Node node, String what) {
        if (!node.isPresent()) {
            return Optional.empty();
        }
        String value = node.string(what);
        if (value != null && value.isBlank()) {
            node.problem("is empty (" + what + ")");
            return null;
        }
        return value == null ? null : Optional.of(value);
    }

    private static Duration ttl(Node node, Duration fallback) {
        if (!node.isPresent()) {
            return fallback;
        }
        Duration ttl = node.duration(false);
        if (ttl != null && ttl.compareTo(MAX_CACHE_TTL) > 0) {
            node.problem(Units.format(ttl) + " is more than " + Units.format(MAX_CACHE_TTL)
                    + ": a revoked token would stay good that long");
            return null;
        }
        return ttl;
    }
}
