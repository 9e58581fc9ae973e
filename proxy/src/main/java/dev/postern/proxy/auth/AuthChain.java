package dev.postern.proxy.auth;

import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.sasl.Credentials;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;

/**
 * A listener's auth chain: its providers asked in order until one knows the user, behind the shared {@link
 * AuthCache}. When none knows the user the login fails, or, when the chain ends with {@code backend}, the backend
 * decides. Each decision is counted by provider and outcome.
 */
public final class AuthChain implements Authenticator {
    /** The provider label of a pass-through and of a login no provider knew. */
    static final String BACKEND = "backend";

    static final String NONE = "none";

    private final List<AuthProvider> providers;
    private final boolean backendDecidesTheRest;
    private final AuthCache cache;
    private final Metrics metrics;
    private final String name;

    /**
     * @param providers the providers, in order (not {@code backend})
     * @param backendDecidesTheRest the chain ends with {@code backend}: a user no provider knows is left to it
     * @param cache the shared cache, or null for none
     */
    public AuthChain(List<AuthProvider> providers, boolean backendDecidesTheRest, AuthCache cache, Metrics metrics) {
        this.providers = List.copyOf(providers);
        this.backendDecidesTheRest = backendDecidesTheRest;
        this.cache = cache;
        this.metrics = metrics;
        this.name = this.providers.stream().map(AuthProvider::name).collect(Collectors.joining(","))
                + (backendDecidesTheRest ? ",backend" : "");
    }

    @Override
    public CompletionStage<AuthResult> authenticate(AuthRequest request) {
        Credentials credentials = request.credentials();
        if (credentials.isExternal()
                && !credentials.authzid().isEmpty()
                && !credentials.authzid().equals(credentials.user())) {
            // RFC 4422 appendix A: an authzid other than the certificate's user would be acting as someone else
            metrics.authDecision(request.protocol(), credentials.mechanism().wireName(), NONE, "rejected", false);
            return CompletableFuture.completedFuture(
                    new AuthResult.Rejected("authzid is not the certificate's user", false, Duration.ZERO));
        }
        CompletionStage<Decision> decision = cache == null
                ? decide(request)
                : cache.get(name + "/" + request.protocol().configName(), request, this::decide);
        return decision.handle((d, error) -> {
            String mechanism = request.credentials().mechanism().wireName();
            if (error != null) {
                metrics.authDecision(request.protocol(), mechanism, NONE, "error", false);
                throw error instanceof java.util.concurrent.CompletionException ce
                        ? ce
                        : new java.util.concurrent.CompletionException(error);
            }
            if (!(d.result() instanceof AuthResult.PassThrough)) {
                // a pass-through is counted when the backend has answered (LoginFlow)
                metrics.authDecision(request.protocol(), mechanism, d.provider(), d.outcome(), d.cached());
            }
            return d.result();
        });
    }

    /** Asks the providers in order. */
    CompletionStage<Decision> decide(AuthRequest request) {
        return ask(request, 0);
    }

    private CompletionStage<Decision> ask(AuthRequest request, int index) {
        if (index == providers.size()) {
            if (request.credentials().isExternal()) {
                // a backend cannot check a certificate it never saw: a certificate login no provider knows fails
                return CompletableFuture.completedFuture(new Decision(
                        new AuthResult.Rejected("no provider knows the certificate's user", false, Duration.ZERO),
                        NONE));
            }
            return CompletableFuture.completedFuture(
                    backendDecidesTheRest
                            ? new Decision(new AuthResult.PassThrough(), BACKEND)
                            : new Decision(new AuthResult.Rejected("unknown user", false, Duration.ZERO), NONE));
        }
        AuthProvider provider = providers.get(index);
        CompletionStage<Optional<AuthResult>> answer;
        try {
            answer = provider.authenticate(request);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        return answer.thenCompose(result -> result.isPresent()
                ? CompletableFuture.completedFuture(new Decision(result.get(), provider.name()))
                : ask(request, index + 1));
    }

    @Override
    public String toString() {
        return "AuthChain[" + name + "]";
    }
}
