package dev.postern.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.Backend;
import dev.postern.config.TlsMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Balancer properties: weighted distribution, stickiness, and how few users move when the pool changes. */
class BalancerTest {
    static BackendRuntime backend(String id, int weight) {
        return new BackendRuntime(
                "p",
                new Backend(
                        id,
                        "10.0.0.1",
                        143,
                        Map.of(),
                        weight,
                        Backend.State.ACTIVE,
                        0,
                        TlsMode.NONE,
                        true,
                        Backend.Identity.NONE,
                        Optional.empty()));
    }

    private static String first(Balancer b, List<BackendRuntime> backends, String key) {
        return b.order(backends, key).get(0).id();
    }

    @Test
    void smoothRoundRobinInterleavesByWeightLikeNginx() {
        List<BackendRuntime> pool = List.of(backend("a", 5), backend("b", 1), backend("c", 1));
        Balancer rr = new SmoothWeightedRoundRobin();
        String seq = IntStream.range(0, 7).mapToObj(i -> first(rr, pool, null)).collect(Collectors.joining());
        assertThat(seq).isEqualTo("aabacaa");
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 7000; i++) {
            counts.merge(first(rr, pool, null), 1, Integer::sum);
        }
        assertThat(counts).containsEntry("a", 5000).containsEntry("b", 1000).containsEntry("c", 1000);
    }

    @Test
    void roundRobinOrderListsEveryBackendForFailoverAndPeekDoesNotAdvance() {
        List<BackendRuntime> pool = List.of(backend("a", 1), backend("b", 1), backend("c", 1));
        Balancer rr = new SmoothWeightedRoundRobin();
        assertThat(rr.peek(pool, null)).extracting(BackendRuntime::id).containsExactly("a", "b", "c");
        assertThat(rr.peek(pool, null)).extracting(BackendRuntime::id).containsExactly("a", "b", "c");
        assertThat(rr.order(pool, null)).extracting(BackendRuntime::id).containsExactlyInAnyOrder("a", "b", "c");
        assertThat(first(rr, pool, null)).isEqualTo("b");
        assertThat(first(rr, pool, null)).isEqualTo("c");
    }

    @Test
    void leastSessionsPrefersTheEmptiestPerWeight() {
        BackendRuntime a = backend("a", 1);
        BackendRuntime b = backend("b", 2);
        for (int i = 0; i < 3; i++) {
            a.sessionStarted();
            b.sessionStarted();
        }
        b.sessionStarted(); // a: 3 per weight 1, b: 4 per weight 2
        assertThat(new LeastSessions().order(List.of(a, b), null))
                .extracting(BackendRuntime::id)
                .containsExactly("b", "a");
    }

    @Test
    void consistentHashIsStickyPerUserAndCaseInsensitive() {
        List<BackendRuntime> pool = List.of(backend("a", 1), backend("b", 1), backend("c", 1));
        Balancer ch = new RendezvousHash();
        for (int u = 0; u < 200; u++) {
            String user = "user" + u + "@example.com";
            String chosen = first(ch, pool, user);
            assertThat(first(ch, pool, user)).isEqualTo(chosen);
            assertThat(first(ch, pool, user.toUpperCase())).isEqualTo(chosen);
            assertThat(first(ch, List.of(pool.get(2), pool.get(0), pool.get(1)), user))
                    .as("independent of pool order")
                    .isEqualTo(chosen);
        }
    }

    @Test
    void consistentHashSharesFollowWeights() {
        List<BackendRuntime> pool = List.of(backend("a", 1), backend("b", 1), backend("c", 2));
        Balancer ch = new RendezvousHash();
        Map<String, Integer> counts = new HashMap<>();
        int users = 20_000;
        for (int u = 0; u < users; u++) {
            counts.merge(first(ch, pool, "u" + u + "@example.com"), 1, Integer::sum);
        }
        assertThat(counts.get("a") / (double) users).isBetween(0.23, 0.27);
        assertThat(counts.get("b") / (double) users).isBetween(0.23, 0.27);
        assertThat(counts.get("c") / (double) users).isBetween(0.48, 0.52);
    }

    @Test
    void addingABackendMovesAboutOneNthOfUsersAndOnlyToIt() {
        List<BackendRuntime> four = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            four.add(backend("b" + i, 1));
        }
        List<BackendRuntime> five = new ArrayList<>(four);
        five.add(backend("b4", 1));
        Balancer ch = new RendezvousHash();
        int users = 20_000;
        int moved = 0;
        for (int u = 0; u < users; u++) {
            String key = "u" + u + "@example.com";
            String before = first(ch, four, key);
            String after = first(ch, five, key);
            if (!before.equals(after)) {
                moved++;
                assertThat(after).as("a moved user goes to the new backend").isEqualTo("b4");
            }
        }
        assertThat(moved / (double) users).isBetween(0.17, 0.23); // 1/5
    }

    @Test
    void removingABackendMovesOnlyItsUsersAndTheirFailoverIsTheNextBest() {
        List<BackendRuntime> four = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            four.add(backend("b" + i, 1));
        }
        List<BackendRuntime> three = four.subList(0, 3);
        Balancer ch = new RendezvousHash();
        for (int u = 0; u < 5000; u++) {
            String key = "u" + u + "@example.com";
            List<BackendRuntime> order = ch.order(four, key);
            String after = first(ch, three, key);
            if (order.get(0).id().equals("b3")) {
                assertThat(after).isEqualTo(order.get(1).id());
            } else {
                assertThat(after).isEqualTo(order.get(0).id());
            }
        }
    }
}
