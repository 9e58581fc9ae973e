package dev.postern.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A provider that validates OAuth 2.0 bearer tokens (XOAUTH2, OAUTHBEARER) that are JWTs, against the keys of a JWKS:
 * signature, algorithm, issuer, audience, expiry and not-before, and the user named by a claim. Password logins and
 * tokens that are not JWTs are not its business: the next provider of the chain is asked.
 *
 * @param name the provider's name
 * @param jwksUrl where the key set is fetched (http or https), or empty with {@code jwksFile}
 * @param jwksFile a local key set, read at start and again when an unknown key id turns up, or empty with {@code
 *     jwksUrl}
 * @param issuer the {@code iss} a token must carry
 * @param audience the {@code aud} a token must include
 * @param algorithms the JWS algorithms accepted; never {@code none}; HMAC ones only with {@code hmacSecret}
 * @param userClaim the claim that names the user (matched against the SASL user; case-insensitively for {@code
 *     email})
 * @param clockSkew how far {@code exp} and {@code nbf} may be off
 * @param timeout the longest a key set fetch may take
 * @param tlsVerify check the JWKS server's certificate and name (https only)
 * @param hmacSecret the shared secret for HS256/384/512, if those are allowed; never a key from the JWKS
 * @param bearerError what a client whose token is refused is told (RFC 7628 error status)
 */
public record JwtProviderConfig(
        String name,
        Optional<URI> jwksUrl,
        Optional<Path> jwksFile,
        String issuer,
        String audience,
        List<String> algorithms,
        String userClaim,
        Duration clockSkew,
        Duration timeout,
        boolean tlsVerify,
        Optional<Secret> hmacSecret,
        BearerErrorConfig bearerError)
        implements AuthProviderConfig {

    /** Asymmetric algorithms a JWKS serves keys for: RSA PKCS#1, RSA-PSS and ECDSA (P-256). */
    public static final List<String> DEFAULT_ALGORITHMS = List.of("RS256", "ES256", "PS256");

    /** Every algorithm name the provider knows. */
    public static final List<String> KNOWN_ALGORITHMS = List.of(
            "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512");

    public static final String DEFAULT_USER_CLAIM = "email";
    public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);

    public JwtProviderConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(jwksUrl, "jwksUrl");
        Objects.requireNonNull(jwksFile, "jwksFile");
        if (jwksUrl.isPresent() == jwksFile.isPresent()) {
            throw new IllegalArgumentException("exactly one of jwksUrl and jwksFile");
        }
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(audience, "audience");
        algorithms = List.copyOf(algorithms);
        Objects.requireNonNull(userClaim, "userClaim");
        Objects.requireNonNull(clockSkew, "clockSkew");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(hmacSecret, "hmacSecret");
        Objects.requireNonNull(bearerError, "bearerError");
    }

    /** A provider whose refusals carry the bare {@code invalid_token} status. */
    public JwtProviderConfig(
            String name,
            Optional<URI> jwksUrl,
            Optional<Path> jwksFile,
            String issuer,
            String audience,
            List<String> algorithms,
            String userClaim,
            Duration clockSkew,
            Duration timeout,
            boolean tlsVerify,
            Optional<Secret> hmacSecret) {
        this(
                name,
                jwksUrl,
                jwksFile,
                issuer,
                audience,
                algorithms,
                userClaim,
                clockSkew,
                timeout,
                tlsVerify,
                hmacSecret,
                BearerErrorConfig.NONE);
    }

    /** Whether {@code algorithm} is an HMAC one (a shared secret, not a public key). */
    public static boolean isHmac(String algorithm) {
        return algorithm.startsWith("HS");
    }
}
