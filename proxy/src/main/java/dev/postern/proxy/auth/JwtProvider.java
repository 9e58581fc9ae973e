package dev.postern.proxy.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.postern.config.BearerErrorConfig;
import dev.postern.config.JwtProviderConfig;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.OAuthError;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Validates OAuth 2.0 bearer tokens that are JWTs (XOAUTH2, OAUTHBEARER): the algorithm is on the allow-list ({@code
 * none} never is; HMAC only with a configured secret, never with a key from the JWKS), the signature checks out with a
 * key of the JWKS (refetched, rate-limited, when the key id is new), and issuer, audience, expiry and not-before hold
 * within the clock skew; the user is the configured claim, which must match the SASL user. Passwords and tokens that
 * are not JWTs are left to the next provider. The answer holds only until the token expires ({@link
 * AuthResult.Accepted#validFor}).
 *
 * <p>An accepted login goes on to the backend as any verified one: with the backend's master user when it has one,
 * else with the client's own token message.
 */
public final class JwtProvider implements AuthProvider {
    /** At most one JWKS fetch per this time, however many unknown key ids arrive. */
    static final Duration MIN_REFETCH = Duration.ofSeconds(30);

    /** The longest an accepted token is cached, whatever its expiry says. */
    private static final Duration MAX_VALID_FOR = Duration.ofDays(1);

    private final JwtProviderConfig config;
    private final JwkCache keys;
    private final Clock clock;
    private final List<JWSAlgorithm> allowed;
    private final MACVerifier hmac;
    private final OAuthError tokenError;

    /**
     * @param source the key set's source ({@link JwksFetcher#of})
     * @param clock the time tokens are checked against; also paces refetches
     */
    JwtProvider(JwtProviderConfig config, Supplier<CompletionStage<JWKSet>> source, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.keys = new JwkCache(config.name(), source, clock, MIN_REFETCH);
        this.allowed = config.algorithms().stream().map(JWSAlgorithm::parse).toList();
        this.tokenError = tokenError(config.bearerError());
        try {
            this.hmac = config.hmacSecret().isPresent()
                    ? new MACVerifier(config.hmacSecret().get().reveal().getBytes(StandardCharsets.UTF_8))
                    : null;
        } catch (JOSEException e) {
            throw new IllegalArgumentException("auth provider " + config.name() + ": hmac-secret: " + e.getMessage());
        }
    }

    /** The provider for {@code config}, fetching its key set on {@code executor}. */
    public static JwtProvider create(JwtProviderConfig config, Executor executor) {
        return new JwtProvider(config, JwksFetcher.of(config, executor), Clock.systemUTC());
    }

    @Override
    public String name() {
        return config.name();
    }

    @Override
    public CompletionStage<Optional<AuthResult>> authenticate(AuthRequest request) {
        Credentials credentials = request.credentials();
        if (!credentials.isToken()) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        JWT jwt;
        try {
            jwt = JWTParser.parse(credentials.secret());
        } catch (ParseException e) {
            // an opaque token: not ours to judge (an introspection provider or the backend may know it)
            return CompletableFuture.completedFuture(Optional.empty());
        }
        if (jwt instanceof PlainJWT) {
            return refused("unsigned token (alg none)");
        }
        if (!(jwt instanceof SignedJWT signed)) {
            return refused("encrypted tokens are not supported");
        }
        JWSHeader header = signed.getHeader();
        JWSAlgorithm algorithm = header.getAlgorithm();
        if (!allowed.contains(algorithm)) {
            return refused("algorithm " + algorithm + " is not allowed");
        }
        if (JWSAlgorithm.Family.HMAC_SHA.contains(algorithm)) {
            // the shared secret only: an HS token "signed" with a public key from the JWKS proves nothing
            return CompletableFuture.completedFuture(Optional.of(verified(signed, hmac, request)));
        }
        return keys.select(header).handle((candidates, error) -> {
            if (error != null) {
                return Optional.of(new AuthResult.Rejected("JWKS unavailable", true, Duration.ZERO));
            }
            if (candidates.isEmpty()) {
                return Optional.of(rejected("no key " + (header.getKeyID() == null ? "" : header.getKeyID() + " ")
                        + "in the JWKS for " + algorithm));
            }
            for (JWK key : candidates) {
                JWSVerifier verifier = verifier(key);
                if (verifier != null && verifies(signed, verifier)) {
                    return Optional.of(claims(signed, request));
                }
            }
            return Optional.of(rejected("bad signature"));
        });
    }

    private AuthResult verified(SignedJWT signed, JWSVerifier verifier, AuthRequest request) {
        return verifier != null && verifies(signed, verifier) ? claims(signed, request) : rejected("bad signature");
    }

    private static JWSVerifier verifier(JWK key) {
        try {
            if (key instanceof RSAKey rsa) {
                return new RSASSAVerifier(rsa);
            }
            if (key instanceof ECKey ec) {
                return new ECDSAVerifier(ec);
            }
        } catch (JOSEException e) {
            return null;
        }
        return null;
    }

    private static boolean verifies(SignedJWT signed, JWSVerifier verifier) {
        try {
            return signed.verify(verifier);
        } catch (JOSEException | IllegalStateException e) {
            return false;
        }
    }

    private AuthResult claims(SignedJWT signed, AuthRequest request) {
        JWTClaimsSet claims;
        try {
            claims = signed.getJWTClaimsSet();
        } catch (ParseException e) {
            return rejected("claims are not JSON");
        }
        Instant now = clock.instant();
        Duration skew = config.clockSkew();
        if (!config.issuer().equals(claims.getIssuer())) {
            return rejected("wrong issuer");
        }
        if (claims.getAudience() == null || !claims.getAudience().contains(config.audience())) {
            return rejected("wrong audience");
        }
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            return rejected("no expiry (exp)");
        }
        Instant until = exp.toInstant().plus(skew);
        if (!now.isBefore(until)) {
            return rejected("expired");
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && now.plus(skew).isBefore(nbf.toInstant())) {
            return rejected("not yet valid (nbf)");
        }
        Object value = claims.getClaim(config.userClaim());
        if (!(value instanceof String user) || user.isEmpty()) {
            return rejected("no " + config.userClaim() + " claim");
        }
        String named = request.credentials().user();
        boolean caseless = config.userClaim().equals("email");
        if (!named.isEmpty() && !(caseless ? named.equalsIgnoreCase(user) : named.equals(user))) {
            return rejected("the token is for another user");
        }
        Duration validFor = Duration.between(now, until);
        return new AuthResult.Accepted(
                user,
                Optional.empty(),
                Optional.empty(),
                Optional.of(validFor.compareTo(MAX_VALID_FOR) > 0 ? MAX_VALID_FOR : validFor));
    }

    /** The RFC 7628 error status of a provider's refusals, with the scope and discovery URL it is configured with. */
    static OAuthError tokenError(BearerErrorConfig config) {
        return OAuthError.invalidToken(
                config.scope(), config.openidConfiguration().map(URI::toString));
    }

    /** RFC 6750's word for every one of these: the client learns no more than that. */
    private AuthResult rejected(String why) {
        return AuthResult.Rejected.token("invalid_token: " + why, tokenError);
    }

    private CompletionStage<Optional<AuthResult>> refused(String why) {
        return CompletableFuture.completedFuture(Optional.of(rejected(why)));
    }
}
