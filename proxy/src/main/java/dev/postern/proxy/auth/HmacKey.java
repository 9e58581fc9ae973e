package dev.postern.proxy.auth;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A random HMAC-SHA256 key that lives as long as its owner and never leaves the process: what the auth cache and the
 * login throttle hash secrets with, so that what they keep in memory (a cache key, a fingerprint) tells equal secrets
 * apart from different ones and reveals nothing else, not even across a restart.
 */
final class HmacKey {
    private static final String ALGORITHM = "HmacSHA256";

    /** A {@link Mac} is stateful and not thread-safe; logins run on many threads, so each gets its own. */
    private final ThreadLocal<Mac> mac;

    private HmacKey(SecretKeySpec spec) {
        this.mac = ThreadLocal.withInitial(() -> {
            try {
                Mac m = Mac.getInstance(ALGORITHM);
                m.init(spec);
                return m;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(ALGORITHM + " is part of every JDK", e);
            }
        });
    }

    /** A new key of 32 random bytes. */
    static HmacKey random() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return new HmacKey(new SecretKeySpec(key, ALGORITHM));
    }

    /**
     * A key of the given bytes: the one the nodes of a cluster share for the throttle's fingerprints (which then
     * does leave the process: it is kept in Redis).
     */
    static HmacKey of(byte[] key) {
        return new HmacKey(new SecretKeySpec(key, ALGORITHM));
    }

    /** This thread's {@link Mac} under the key, ready for input ({@link Mac#doFinal()} leaves it ready again). */
    Mac mac() {
        return mac.get();
    }
}
