package dev.postern.config;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * A provider that asks the identity provider about each bearer token (XOAUTH2, OAUTHBEARER) by RFC 7662 token
 * introspection: for opaque tokens, which only their issuer can read, or for JWTs that must be checked for
 * revocation. Passwords are not its business: the next provider of the chain is asked.
 *
 * @param name the provider's name
 * @param url the introspection endpoint (http or https)
 * @param clientId Postern's client id at the identity provider (HTTP Basic, RFC 7662 section 2.1)
 * @param clientSecret its secret
 * @param issuer the {@code iss} an answer must carry, if set
 * @param audience the {@code aud} an answer must include, if set
 * @param userClaim the member of the answer that names the user; empty: {@code username}, else {@code sub}
 * @param clockSkew how far {@code exp} and {@code nbf} may be off
 * @param timeout the longest a request may take; then the login gets a temporary error
 * @param tlsVerify check the endpoint's certificate and name (https only)
 * @param cacheTtl an active answer is kept until the token's {@code exp}, at most this long
 * @param negativeTtl an inactive answer is kept this long (a revoked token stays refused without a request)
 * @param bearerError what a client whose token is refused is told (RFC 7628 error status)
 */
public record IntrospectionConfig(
        String name,
        URI url,
        String clientId,
        Secret clientSecret,
        Optional<String> issuer,
        Optional<String> audience,
        Optional<String> userClaim,
        Duration clockSkew,
        Duration timeout,
        boolean tlsVerify,
        Duration cacheTtl,
        Duration negativeTtl,
        BearerErrorConfig bearerError)
        implements AuthProviderConfig {

    public static final Duration DEFAULT_CACHE_TTL = Duration.ofMinutes(5);
    public static final Duration DEFAULT_NEGATIVE_TTL = Duration.ofSeconds(30);

    public IntrospectionConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(clientSecret, "clientSecret");
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(audience, "audience");
        Objects.requireNonNull(userClaim, "userClaim");
        Objects.requireNonNull(clockSkew, "clockSkew");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(cacheTtl, "cacheTtl");
        Objects.requireNonNull(negativeTtl, "negativeTtl");
        Objects.requireNonNull(bearerError, "bearerError");
    }
}
