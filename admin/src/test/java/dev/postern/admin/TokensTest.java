package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.AdminConfig;
import dev.postern.config.Secret;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokensTest {
    private final Tokens tokens = new Tokens(List.of(
            new AdminConfig.Token("ops", Secret.of("ops-token-0123456789abcdef"), AdminConfig.Access.READ_WRITE),
            new AdminConfig.Token("grafana", Secret.of("grafana-token-0123456789ab"), AdminConfig.Access.READ_ONLY)));

    @Test
    void aBearerTokenNamesItsCallerAndAccess() {
        assertThat(tokens.authenticate("Bearer ops-token-0123456789abcdef"))
                .isEqualTo(new Caller("ops", AdminConfig.Access.READ_WRITE));
        assertThat(tokens.authenticate("bearer  grafana-token-0123456789ab "))
                .isEqualTo(new Caller("grafana", AdminConfig.Access.READ_ONLY));
    }

    @Test
    void anythingElseIsAnonymous() {
        assertThat(tokens.authenticate(null)).isEqualTo(Caller.ANONYMOUS);
        assertThat(tokens.authenticate("")).isEqualTo(Caller.ANONYMOUS);
        assertThat(tokens.authenticate("Bearer")).isEqualTo(Caller.ANONYMOUS);
        assertThat(tokens.authenticate("Bearer ops-token-0123456789abcdeF")).isEqualTo(Caller.ANONYMOUS);
        assertThat(tokens.authenticate("Bearer ops-token-0123456789abcde")).isEqualTo(Caller.ANONYMOUS);
        assertThat(tokens.authenticate("Basic ops-token-0123456789abcdef")).isEqualTo(Caller.ANONYMOUS);
        assertThat(tokens.authenticate("Bearer " + "x".repeat(5000))).isEqualTo(Caller.ANONYMOUS);
        assertThat(Caller.ANONYMOUS.authenticated()).isFalse();
    }

    @Test
    void noTokensAcceptNobody() {
        Tokens none = new Tokens(List.of());

        assertThat(none.isEmpty()).isTrue();
        assertThat(none.authenticate("Bearer ops-token-0123456789abcdef")).isEqualTo(Caller.ANONYMOUS);
    }
}
