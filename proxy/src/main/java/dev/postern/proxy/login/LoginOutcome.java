package dev.postern.proxy.login;

import dev.postern.proxy.sasl.OAuthError;
import java.util.Optional;

/** The end of a login attempt, as a front end must answer it. */
public sealed interface LoginOutcome permits LoginOutcome.Success, LoginOutcome.Failure, LoginOutcome.Unavailable {

    /**
     * Logged in on a backend; hand the session over to the relay.
     *
     * @param user the user name
     * @param detail the dialogue's detail for the success reply (IMAP capabilities), or null
     */
    record Success(String user, String detail) implements LoginOutcome {}

    /**
     * Wrong credentials (or refused by policy): the protocol's authentication failure reply.
     *
     * @param tokenError for a refused bearer token, the RFC 7628 error status the client gets first, as a challenge
     */
    record Failure(String reason, Optional<OAuthError> tokenError) implements LoginOutcome {
        public Failure(String reason) {
            this(reason, Optional.empty());
        }
    }

    /** Nothing wrong with the credentials, but no backend could take them now: the protocol's temporary error. */
    record Unavailable(String reason) implements LoginOutcome {}
}
