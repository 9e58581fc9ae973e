package dev.postern.admin;

import dev.postern.config.AdminConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;

/**
 * Checks bearer tokens. Only SHA-256 hashes of the configured tokens are kept, and a presented token is compared with
 * every one of them in constant time, so neither a token's content nor its position leaks through timing.
 */
final class Tokens {
    /** Longer Authorization values are not tokens of ours; refused before hashing. */
    static final int MAX_TOKEN_LENGTH = 4096;

    private record Entry(String name, AdminConfig.Access access, byte[] hash) {}

    private final List<Entry> entries;

    Tokens(List<AdminConfig.Token> tokens) {
        this.entries = tokens.stream()
                .map(t -> new Entry(t.name(), t.access(), sha256(t.token().reveal())))
                .toList();
    }

    /** The caller an {@code Authorization} header value names; {@link Caller#ANONYMOUS} when it names none. */
    Caller authenticate(String authorization) {
        if (authorization == null) {
            return Caller.ANONYMOUS;
        }
        String value = authorization.trim();
        int space = value.indexOf(' ');
        if (space < 0 || !value.substring(0, space).toLowerCase(Locale.ROOT).equals("bearer")) {
            return Caller.ANONYMOUS;
        }
        String token = value.substring(space + 1).trim();
        if (token.isEmpty() || token.length() > MAX_TOKEN_LENGTH) {
            return Caller.ANONYMOUS;
        }
        byte[] presented = sha256(token);
        Entry found = null;
        for (Entry e : entries) {
            // no early exit: every comparison is made
            if (MessageDigest.isEqual(e.hash(), presented) && found == null) {
                found = e;
            }
        }
        return found == null ? Caller.ANONYMOUS : new Caller(found.name(), found.access());
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always available", e);
        }
    }
}
