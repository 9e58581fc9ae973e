package dev.postern.config;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reads a {@code type: jwt} provider of the {@code auth.providers} list. */
final class JwtProviderReader {
    static final List<String> KEYS = List.of(
            "name",
            "type",
            "jwks",
            "issuer",
            "audience",
            "algorithms",
            "user-claim",
            "clock-skew",
            "timeout",
            "tls-verify",
            "hmac-secret",
            "scope",
            "openid-configuration");

    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(10);

    private JwtProviderReader() {}

    /** The provider; null when invalid (reported). */
    static JwtProviderConfig read(Node element, String name, boolean keysValid) {
        boolean valid = keysValid;
        Node jwksNode = element.get("jwks").required();
        Optional<URI> url = Optional.empty();
        Optional<Path> file = Optional.empty();
        String jwks = jwksNode.string("an https URL or a file");
        if (jwks == null) {
            valid = false;
        } else if (jwks.regionMatches(true, 0, "http://", 0, 7) || jwks.regionMatches(true, 0, "https://", 0, 8)) {
            url = Optional.ofNullable(url(jwksNode, jwks));
            valid &= url.isPresent();
        } else {
            Path path = jwksNode.readableFile();
            file = Optional.ofNullable(path);
            valid &= path != null;
        }
        String issuer = element.get("issuer").required().string("the issuer (iss) tokens must carry");
        String audience = element.get("audience").required().string("the audience (aud) tokens must include");
        List<String> algorithms = algorithms(element.get("algorithms"));
        Node claimNode = element.get("user-claim");
        String claim = claimNode.isPresent() ? claimNode.string("a claim name") : JwtProviderConfig.DEFAULT_USER_CLAIM;
        if (claim != null && claim.isBlank()) {
            claimNode.problem("is empty (a claim name such as email, sub or preferred_username)");
            claim = null;
        }
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
        Node secretNode = element.get("hmac-secret");
        Secret secret = secretNode.isPresent() ? secretNode.secret() : null;
        if (secret != null && secret.reveal().getBytes(StandardCharsets.UTF_8).length < 32) {
            secretNode.problem("is shorter than 32 bytes (HS256 needs a key of at least 256 bits)");
            valid = false;
        }
        if (algorithms != null) {
            boolean hmac = algorithms.stream().anyMatch(JwtProviderConfig::isHmac);
            if (hmac && !secretNode.isPresent()) {
                element.get("algorithms")
                        .problem("an HS algorithm needs hmac-secret (a shared secret configured here); an HMAC key is"
                                + " never taken from the JWKS, where keys are public");
                valid = false;
            } else if (!hmac && secretNode.isPresent()) {
                secretNode.problem("is set but algorithms has no HS algorithm (add HS256, or remove the secret)");
                valid = false;
            }
        }
        BearerErrorConfig bearerError = BearerErrorConfig.read(element);
        if (!valid
                || bearerError == null
                || name == null
                || issuer == null
                || audience == null
                || algorithms == null
                || claim == null
                || skew == null
                || timeout == null
                || verify == null
                || (secretNode.isPresent() && secret == null)) {
            return null;
        }
        return new JwtProviderConfig(
                name,
                url,
                file,
                issuer,
                audience,
                algorithms,
                claim,
                skew,
                timeout,
                verify,
                Optional.ofNullable(secret),
                bearerError);
    }

    private static List<String> algorithms(Node node) {
        if (!node.isPresent()) {
            return JwtProviderConfig.DEFAULT_ALGORITHMS;
        }
        List<String> algorithms = new ArrayList<>();
        boolean valid = true;
        for (Node element : node.nonEmptyList("JWS algorithms, e.g. [RS256, ES256]")) {
            String alg = element.string("a JWS algorithm");
            if (alg == null) {
                valid = false;
            } else if (alg.equalsIgnoreCase("none")) {
                element.problem("'none' accepts unsigned tokens, which anyone can write; never allowed");
                valid = false;
            } else if (alg.equals("EdDSA") || alg.equals("Ed25519")) {
                element.problem("'" + alg + "' is not supported (yet); supported: "
                        + String.join(", ", JwtProviderConfig.KNOWN_ALGORITHMS));
                valid = false;
            } else if (!JwtProviderConfig.KNOWN_ALGORITHMS.contains(alg)) {
                element.problem("'" + alg + "' is not one of " + String.join(", ", JwtProviderConfig.KNOWN_ALGORITHMS));
                valid = false;
            } else if (!algorithms.contains(alg)) {
                algorithms.add(alg);
            }
        }
        return valid && !algorithms.isEmpty() ? algorithms : null;
    }

    private static URI url(Node node, String text) {
        return Urls.parse(
                node,
                text,
                List.of("http", "https"),
                "an http or https URL",
                "has user info (user:password@), which would end up in logs");
    }
}
