package dev.postern.proxy.routing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Weighted rendezvous (highest random weight) hashing on the affinity key: every backend gets a score from a hash of
 * (key, backend id), scaled by its weight as {@code -w / ln(u)}, and the highest score wins. One user's sessions
 * always land on the same backend while it is available; adding or removing a backend moves only the users whose
 * best score it holds, about 1/n of them; weights shift shares in proportion. The rest of the order is the next best
 * scores, so a user's failover backend is stable too. Stateless.
 */
final class RendezvousHash implements Balancer {
    @Override
    public List<BackendRuntime> order(List<BackendRuntime> available, String key) {
        return peek(available, key);
    }

    @Override
    public List<BackendRuntime> peek(List<BackendRuntime> available, String key) {
        if (available.size() <= 1) {
            return List.copyOf(available);
        }
        long keyHash = hash(key == null ? "" : key.toLowerCase(Locale.ROOT), 0x9E3779B97F4A7C15L);
        List<Scored> scored = new ArrayList<>(available.size());
        for (BackendRuntime b : available) {
            scored.add(new Scored(b, score(keyHash, b.id(), b.config().weight())));
        }
        scored.sort(Comparator.comparingDouble(Scored::score).reversed());
        List<BackendRuntime> out = new ArrayList<>(scored.size());
        for (Scored s : scored) {
            out.add(s.backend());
        }
        return out;
    }

    private record Scored(BackendRuntime backend, double score) {}

    /** {@code -weight / ln(u)} with {@code u} uniform in (0, 1) from the combined hash. */
    static double score(long keyHash, String backendId, int weight) {
        long h = mix(keyHash ^ hash(backendId, 0xC2B2AE3D27D4EB4FL));
        double u = ((h >>> 11) + 0.5) / (double) (1L << 53); // never 0 or 1
        return -weight / Math.log(u);
    }

    /** FNV-1a over UTF-8, finished with a strong mixer. */
    static long hash(String s, long seed) {
        long h = 0xcbf29ce484222325L ^ seed;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    /** SplitMix64's finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
