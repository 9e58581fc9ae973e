package dev.postern.admin;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Why a login of a user would go where it goes.
 *
 * @param user the user asked about
 * @param rule the rule that picks the pool: {@code user}, {@code domain}, {@code listener} or {@code default}; empty
 *     when nothing routes the user (the login would fail)
 * @param key what the rule matched: the user name, the domain pattern, the listener name; empty for {@code default}
 * @param pool the pool chosen; empty when nothing routes the user
 * @param backends the pool's backends in the order a login would try them, each with why it is or is not a candidate
 */
public record Explanation(
        String user, Optional<String> rule, Optional<String> key, Optional<String> pool, List<Candidate> backends) {
    public Explanation {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(pool, "pool");
        backends = List.copyOf(backends);
    }

    /**
     * One backend of the chosen pool.
     *
     * @param id the backend's id
     * @param eligible whether a new session may go there now
     * @param reason why (or why not): {@code active, healthy, 3 sessions}, {@code draining}, {@code unhealthy},
     *     {@code full (100 sessions)}
     */
    public record Candidate(String id, boolean eligible, String reason) {
        public Candidate {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
