package dev.postern.proxy.auth;

/**
 * An auth chain's answer and which provider gave it.
 *
 * @param result the answer
 * @param provider the name of the provider that decided; {@code backend} for a pass-through, {@code none} when no
 *     provider knew the user
 * @param cached whether the answer came from the auth cache
 */
record Decision(AuthResult result, String provider, boolean cached) {
    Decision(AuthResult result, String provider) {
        this(result, provider, false);
    }

    Decision fromCache() {
        return new Decision(result, provider, true);
    }

    /** An accepted login: cached for the ttl. */
    boolean positive() {
        return result instanceof AuthResult.Accepted;
    }

    /** A definite refusal (wrong secret, unknown user): cached for the negative ttl. */
    boolean negative() {
        return result instanceof AuthResult.Rejected r && !r.temporary();
    }

    /** The provider could not decide now (it said so): not cached, and a stale accepted answer may stand in. */
    boolean temporary() {
        return result instanceof AuthResult.Rejected r && r.temporary();
    }

    String outcome() {
        if (result instanceof AuthResult.Accepted) {
            return "accepted";
        }
        if (result instanceof AuthResult.Rejected r) {
            return r.temporary() ? "temporary" : "rejected";
        }
        return "passthrough";
    }
}
