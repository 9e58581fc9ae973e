package dev.postern.proxy.cluster;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;

/**
 * A Lua script run by its SHA-1 ({@code EVALSHA}), so that a call sends the keys and arguments only; when Redis does
 * not have it (its first use after a restart or a {@code SCRIPT FLUSH}), it is sent once more whole ({@code EVAL}),
 * which loads it for the calls after.
 */
final class RedisScript {
    private final String name;
    private final String text;
    private final String sha;

    /** @param name the metric word of the calls */
    RedisScript(String name, String text) {
        this.name = name;
        this.text = text;
        this.sha = sha1(text);
    }

    /** Runs the script; fails as {@link ClusterClient#command} does. */
    <T> CompletableFuture<T> run(ClusterClient client, ScriptOutputType type, String[] keys, String... args) {
        CompletableFuture<T> first = client.command(name, c -> c.<T>evalsha(sha, type, keys, args));
        return first.exceptionallyCompose(e -> RedisErrors.unwrap(e) instanceof RedisNoScriptException
                ? client.<T>command(name, c -> c.<T>eval(text, type, keys, args))
                : CompletableFuture.failedFuture(e));
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is part of every JDK", e);
        }
    }
}
