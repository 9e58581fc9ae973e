package dev.postern.admin;

import dev.postern.config.AdminConfig;
import java.util.Objects;

/**
 * Who made a request: the name of the token presented (never the token) and what it may do.
 *
 * @param name the token's name; {@code -} when none was presented or it was not valid
 * @param access what the token may do; null for no valid token
 */
record Caller(String name, AdminConfig.Access access) {
    static final Caller ANONYMOUS = new Caller("-", null);

    Caller {
        Objects.requireNonNull(name, "name");
    }

    boolean authenticated() {
        return access != null;
    }

    boolean mayWrite() {
        return access == AdminConfig.Access.READ_WRITE;
    }
}
