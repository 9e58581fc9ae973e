package dev.postern.proxy.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * What the shared throttle counts by, as the nodes name it in Redis: a SHA-256 (its first 128 bits, in hex) of the
 * counted address, of the user name, and of the pair, so that no key or message holds a user name or an address.
 * A plain hash, not a keyed one: the nodes have no secret in common that Redis does not hold too, and an address
 * space is small enough to walk; it keeps names out of key listings, logs and dumps, it does not hide them from a
 * determined reader of Redis.
 *
 * @param address the hash of the counted address (an IPv6 one by prefix)
 * @param user the hash of the lower-cased user name
 * @param pair the hash of both
 */
public record ThrottleIds(String address, String user, String pair) {
    private static final HexFormat HEX = HexFormat.of();
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    });

    /** The ids of a counted address and a user name, as the throttle normalized them. */
    static ThrottleIds of(String address, String user) {
        return new ThrottleIds(hash("a", address, ""), hash("u", user, ""), hash("p", address, user));
    }

    private static String hash(String kind, String first, String second) {
        MessageDigest d = SHA256.get();
        d.update(kind.getBytes(StandardCharsets.US_ASCII));
        d.update((byte) 0);
        d.update(first.getBytes(StandardCharsets.UTF_8));
        d.update((byte) 0);
        d.update(second.getBytes(StandardCharsets.UTF_8));
        return HEX.formatHex(d.digest(), 0, 16);
    }
}
