package dev.postern.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class HmacKeyTest {
    private static final byte[] SECRET = "alice-pw".getBytes(StandardCharsets.UTF_8);

    @Test
    void oneKeyHashesTheSameInputTheSameWayEveryTimeAndOnEveryThread() throws Exception {
        HmacKey key = HmacKey.random();
        byte[] first = key.mac().doFinal(SECRET);
        assertThat(key.mac().doFinal(SECRET)).isEqualTo(first);
        byte[] elsewhere =
                CompletableFuture.supplyAsync(() -> key.mac().doFinal(SECRET)).get();
        assertThat(elsewhere).isEqualTo(first);
    }

    @Test
    void twoKeysHashTheSameInputDifferently() {
        assertThat(HmacKey.random().mac().doFinal(SECRET))
                .isNotEqualTo(HmacKey.random().mac().doFinal(SECRET))
                .hasSize(32);
    }

    @Test
    void eachThreadHasItsOwnMac() throws Exception {
        HmacKey key = HmacKey.random();
        assertThat(CompletableFuture.supplyAsync(key::mac).get()).isNotSameAs(key.mac());
    }
}
