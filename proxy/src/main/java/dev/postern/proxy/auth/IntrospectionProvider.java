package dev.postern.proxy.auth;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.postern.config.IntrospectionConfig;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.OAuthError;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * Validates bearer tokens (XOAUTH2, OAUTHBEARER) by asking their issuer, RFC 7662 token introspection: a token is good
 * while the endpoint says {@code active}, within {@code exp} and {@code nbf} (with the clock skew), for the configured
 * issuer and audience, and for the SASL user (the configured member, else {@code username}, else {@code sub}).
 *
 * <p>Answers are cached by an HMAC of the token under a per-process key ({@link HmacKey}), never by the token itself:
 * an active one until the token's {@code exp}, at most {@code cache-ttl}; an inactive one for {@code negative-ttl}.
 * Concurrent logins with one token share one request. An endpoint that is down, slow or answers other than 200 is a
 * temporary failure (completed exceptionally, so the auth cache may answer from a stale entry), never a refusal.
 */
public final class IntrospectionProvider implements AuthProvider {
    /** The longest an accepted token is cached by the auth cache, whatever its expiry says. */
    private static final Duration MAX_VALID_FOR = Duration.ofDays(1);

    private final IntrospectionConfig config;
    private final Function<String, CompletionStage<Map<String, Object>>> endpoint;
    private final Clock clock;
    private final AsyncCache<String, Answer> answers;
    private final HmacKey key = HmacKey.random();
    private final OAuthError tokenError;

    /**
     * @param endpoint asks the introspection endpoint about a token ({@link IntrospectionClient#of}); completes on its
     *     own thread
     * @param clock the time tokens are checked against, and the cache's clock
     */
    IntrospectionProvider(
            IntrospectionConfig config, Function<String, CompletionStage<Map<String, Object>>> endpoint, Clock clock) {
        this.config = config;
        this.endpoint = endpoint;
        this.clock = clock;
        this.tokenError = JwtProvider.tokenError(config.bearerError());
        this.answers = Caffeine.newBuilder()
                .maximumSize(100_000)
                .ticker(() -> nanos(clock.instant()))
                .executor(Runnable::run)
                .expireAfter(new Expiry<String, Answer>() {
                    @Override
                    public long expireAfterCreate(String k, Answer answer, long currentTime) {
                        return answer.left(currentTime);
                    }

                    @Override
                    public long expireAfterUpdate(String k, Answer answer, long currentTime, long current) {
                        return answer.left(currentTime);
                    }

                    @Override
                    public long expireAfterRead(String k, Answer answer, long currentTime, long current) {
                        return current;
                    }
                })
                .buildAsync();
    }

    /** The provider for {@code config}, asking its endpoint on {@code executor}. */
    public static IntrospectionProvider create(IntrospectionConfig config, Executor executor) {
        return new IntrospectionProvider(config, IntrospectionClient.of(config, executor), Clock.systemUTC());
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
        String token = credentials.secret();
        String key = fingerprint(token);
        CompletableFuture<Answer> answer = answers.get(
                key,
                (k, executor) -> endpoint.apply(token).toCompletableFuture().thenApply(this::arrived));
        return answer.handle((arrived, error) -> {
            if (error != null) {
                // gone before the caller hears of it, so a retry asks again (Caffeine's own removal may come later)
                answers.asMap().remove(key, answer);
                throw error instanceof CompletionException ce ? ce : new CompletionException(error);
            }
            return Optional.of(judge(arrived.members(), credentials));
        });
    }

    /**
     * An endpoint's answer with the moment (on the cache's ticker) it stops being reused, fixed once when the answer
     * arrived: Caffeine asks for an entry's expiry more than once (at creation, again when the future completes, on
     * updates), each time at its own moment, so a lifetime recomputed from "now" at each of them would drift from the
     * token's own expiry.
     */
    private record Answer(Map<String, Object> members, long keepUntilNanos) {
        long left(long currentTime) {
            return Math.max(0, keepUntilNanos - currentTime);
        }
    }

    private Answer arrived(Map<String, Object> members) {
        Instant now = clock.instant();
        return new Answer(members, nanos(now) + keepFor(members, now).toNanos());
    }

    private static long nanos(Instant instant) {
        return instant.toEpochMilli() * 1_000_000L;
    }

    /** How long an answer is kept: an active token until it expires (at most cache-ttl), an inactive one briefly. */
    private Duration keepFor(Map<String, Object> answer, Instant now) {
        if (!Boolean.TRUE.equals(answer.get("active"))) {
            return config.negativeTtl();
        }
        Instant exp = instant(answer.get("exp"));
        if (exp == null) {
            return config.cacheTtl();
        }
        Duration left = Duration.between(now, exp.plus(config.clockSkew()));
        return left.isNegative() ? Duration.ZERO : left.compareTo(config.cacheTtl()) > 0 ? config.cacheTtl() : left;
    }

    private AuthResult judge(Map<String, Object> answer, Credentials credentials) {
        if (!Boolean.TRUE.equals(answer.get("active"))) {
            return rejected("not active");
        }
        Instant now = clock.instant();
        Duration skew = config.clockSkew();
        Instant exp = instant(answer.get("exp"));
        if (exp != null && !now.isBefore(exp.plus(skew))) {
            return rejected("expired");
        }
        Instant nbf = instant(answer.get("nbf"));
        if (nbf != null && now.plus(skew).isBefore(nbf)) {
            return rejected("not yet valid (nbf)");
        }
        if (config.issuer().isPresent() && !config.issuer().get().equals(answer.get("iss"))) {
            return rejected("wrong issuer");
        }
        if (config.audience().isPresent()
                && !audiences(answer.get("aud"), config.audience().get())) {
            return rejected("wrong audience");
        }
        String claim = config.userClaim().orElse(answer.get("username") instanceof String ? "username" : "sub");
        if (!(answer.get(claim) instanceof String user) || user.isEmpty()) {
            return rejected("no " + claim + " in the answer");
        }
        String named = credentials.user();
        boolean caseless = claim.equals("email");
        if (!named.isEmpty() && !(caseless ? named.equalsIgnoreCase(user) : named.equals(user))) {
            return rejected("the token is for another user");
        }
        Duration validFor = exp == null ? config.cacheTtl() : Duration.between(now, exp.plus(skew));
        return new AuthResult.Accepted(
                user,
                Optional.empty(),
                Optional.empty(),
                Optional.of(validFor.compareTo(MAX_VALID_FOR) > 0 ? MAX_VALID_FOR : validFor));
    }

    /** RFC 7662 section 2.2: {@code aud} is a string or an array of them. */
    private static boolean audiences(Object aud, String wanted) {
        if (aud instanceof String s) {
            return s.equals(wanted);
        }
        return aud instanceof Collection<?> list && list.contains(wanted);
    }

    /** Seconds since the epoch (RFC 7662 section 2.2); null when absent or not a number. */
    private static Instant instant(Object value) {
        return value instanceof Number n ? Instant.ofEpochSecond(n.longValue()) : null;
    }

    /** What the cache keys by: the token's HMAC, which tells equal tokens apart and reveals nothing else. */
    private String fingerprint(String token) {
        return HexFormat.of().formatHex(key.mac().doFinal(token.getBytes(StandardCharsets.UTF_8)));
    }

    private AuthResult rejected(String why) {
        return AuthResult.Rejected.token("invalid_token: " + why, tokenError);
    }
}
