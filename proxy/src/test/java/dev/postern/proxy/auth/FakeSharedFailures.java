package dev.postern.proxy.auth;

import dev.postern.config.ThrottleConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The cluster's store of failures in the test's JVM, for any number of throttles (nodes): it counts distinct
 * fingerprints per id and blocks at the limit as the Redis script does (without windows: the tests that use it do
 * not reach them), broadcasts each block to every node, and can be switched off or made to fail its answers.
 */
final class FakeSharedFailures implements SharedFailures {
    /** How the store answers a failure. */
    enum Mode {
        COUNT,
        FAIL
    }

    volatile boolean available = true;
    volatile byte[] key = "a cluster's fingerprint key ....".getBytes(StandardCharsets.US_ASCII);
    volatile Mode mode = Mode.COUNT;
    /** Every call, in order: {@code failed <ids> <print>} or {@code succeeded <ids>}. */
    final List<String> calls = new CopyOnWriteArrayList<>();

    final List<ThrottleIds> failedIds = new CopyOnWriteArrayList<>();
    final List<String> prints = new CopyOnWriteArrayList<>();
    private final List<Consumer<Block>> listeners = new CopyOnWriteArrayList<>();
    private final Map<String, Set<String>> windows = new HashMap<>();
    private final Set<String> blocks = new HashSet<>();
    private final Map<String, Set<String>> goodPairs = new HashMap<>();

    @Override
    public boolean available() {
        return available;
    }

    @Override
    public byte[] fingerprintKey() {
        return key;
    }

    @Override
    public synchronized CompletionStage<Tally> failed(ThrottleIds ids, String fingerprint, ThrottleConfig limits) {
        calls.add("failed");
        failedIds.add(ids);
        prints.add(fingerprint);
        if (mode == Mode.FAIL) {
            return CompletableFuture.failedFuture(new IllegalStateException("no answer"));
        }
        String[] scopes = {LoginThrottle.ADDRESS, LoginThrottle.USER, LoginThrottle.USER_ADDRESS};
        String[] idOf = {ids.address(), ids.user(), ids.pair()};
        int[] max = {limits.maxFailuresPerAddress(), limits.maxFailuresPerUser(), limits.maxFailuresPerUserAddress()};
        int[] counts = new int[3];
        List<Block> inForce = new ArrayList<>();
        List<Block> made = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String key = scopes[i] + " " + idOf[i];
            Set<String> w = windows.computeIfAbsent(key, k -> new HashSet<>());
            w.add(fingerprint);
            counts[i] = w.size();
            Map<String, Duration> good = new HashMap<>();
            if (i == 1) {
                goodPairs.getOrDefault(ids.user(), Set.of()).forEach(p -> good.put(p, limits.window()));
            }
            if (counts[i] >= max[i]) {
                w.clear();
                blocks.add(key);
                made.add(new Block(scopes[i], idOf[i], limits.block(), good));
            }
            if (blocks.contains(key)) {
                inForce.add(new Block(scopes[i], idOf[i], limits.block(), good));
            }
        }
        made.forEach(this::broadcast);
        return CompletableFuture.completedFuture(new Tally(counts[0], counts[1], counts[2], inForce));
    }

    @Override
    public synchronized void succeeded(ThrottleIds ids, ThrottleConfig limits) {
        calls.add("succeeded");
        windows.remove(LoginThrottle.USER_ADDRESS + " " + ids.pair());
        goodPairs.computeIfAbsent(ids.user(), k -> new HashSet<>()).add(ids.pair());
    }

    @Override
    public void onBlocked(Consumer<Block> listener) {
        listeners.add(listener);
    }

    /** A block as another node's broadcast brings it. */
    void broadcast(Block b) {
        listeners.forEach(l -> l.accept(b));
    }

    int failedCalls() {
        return (int) calls.stream().filter("failed"::equals).count();
    }
}
