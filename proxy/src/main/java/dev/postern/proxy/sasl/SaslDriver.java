package dev.postern.proxy.sasl;

import java.util.Collection;
import java.util.Objects;
import java.util.Optional;

/**
 * Drives a client's SASL exchanges for a front end (IMAP AUTHENTICATE, POP3 AUTH, SMTP AUTH): looks the mechanism up
 * among those offered, reads the initial response ({@code =} is an empty one), writes each challenge on the
 * protocol's continuation line, ends the exchange on {@code *} or on a malformed response with the protocol's reply,
 * and hands the credentials over when the exchange is complete.
 *
 * <p>What differs between protocols is the {@link SaslProfile} an exchange starts with; what the front end does on
 * each event (its state, its decoder's SASL mode, how it counts an error, the login) is its {@link Host}. One driver
 * per session, used on the session's event loop; one exchange at a time.
 */
public final class SaslDriver {

    /**
     * The front end a driver works for. Once it has called {@link #write}, {@link #error} or {@link #authenticated},
     * the driver touches nothing of its own, so the host may go on to the client's next command from inside the call
     * (a login that completes at once resumes the decoder, which hands over what the client pipelined).
     */
    public interface Host {
        /** The client chose {@code mechanism}, which is offered; the exchange begins right after this returns. */
        default void started(SaslMechanism mechanism) {}

        /** Writes a line that is not an error: a continuation, or the reply to a cancelled exchange. */
        void write(String line);

        /**
         * Writes an error reply and counts it as a bad command, in the protocol's own order (some protocols drop the
         * reply when the count closes the connection).
         */
        void error(String reply);

        /**
         * The client's next line answers a challenge ({@code true}), or the exchange is over ({@code false}): the
         * front end's state and its decoder's SASL mode follow. {@code true} comes before every challenge, {@code
         * false} once at the end of an exchange that began, before its reply or {@link #authenticated}.
         */
        void exchanging(boolean on);

        /** The exchange is complete; the front end logs in with {@code credentials}. */
        void authenticated(Credentials credentials);

        /**
         * The client answered the error status of {@link #refuse}: the front end writes its authentication failure
         * reply and counts the failed login, as it does for a login refused without one.
         */
        void refused();
    }

    private final Host host;
    private SaslProfile profile;
    private SaslServerExchange exchange;
    private boolean refusing;

    public SaslDriver(Host host) {
        this.host = Objects.requireNonNull(host, "host");
    }

    /**
     * Starts an exchange for the client's command.
     *
     * @param profile how this protocol (and, for IMAP, this command's tag) frames the exchange
     * @param mechanism the mechanism's name as the client sent it (any case)
     * @param initialResponse the initial response as sent: base64, {@code =} for an empty one (RFC 4959, 5034,
     *     4954), or null when the client sent none
     * @param offered the mechanisms the client may choose from now
     * @return false when the mechanism is not offered: the host got the profile's {@link SaslProfile#unsupported()
     *     reply} as an error and no exchange began
     */
    public boolean start(
            SaslProfile profile, String mechanism, String initialResponse, Collection<SaslMechanism> offered) {
        Objects.requireNonNull(profile, "profile");
        Optional<SaslMechanism> known = SaslMechanism.parse(mechanism).filter(offered::contains);
        if (known.isEmpty()) {
            host.error(profile.unsupported());
            return false;
        }
        host.started(known.get());
        this.profile = profile;
        exchange = SaslServerExchange.start(known.get());
        step(exchange.begin("=".equals(initialResponse) ? "" : initialResponse));
        return true;
    }

    /** Handles the client's answer to the last challenge: a base64 line, or {@code *} to cancel the exchange. */
    public void respond(String line) {
        if (refusing) {
            // RFC 7628 section 3.2.3: the client's answer to the error status (%x01, or a cancel) ends the exchange
            end();
            host.refused();
            return;
        }
        if (exchange == null) {
            throw new IllegalStateException("no SASL exchange in progress");
        }
        if (line.equals("*")) {
            host.write(end().cancelled());
            return;
        }
        step(exchange.respond(line));
    }

    /**
     * Refuses a bearer token the way OAuth clients expect (RFC 7628 section 3.2.2): after the login failed, the error
     * status goes to the client as one more challenge, and the client's answer ends the exchange with the host's
     * {@link Host#refused} (never with credentials). For an exchange that {@link Host#authenticated} ended.
     *
     * @param profile the exchange's profile (for IMAP, its command's tag)
     * @param errorStatus the base64 error status ({@link OAuthError#challenge})
     */
    public void refuse(SaslProfile profile, String errorStatus) {
        this.profile = Objects.requireNonNull(profile, "profile");
        exchange = null;
        refusing = true;
        host.exchanging(true);
        host.write(profile.challenge(errorStatus));
    }

    /** Forgets the exchange in progress, if any, without a word to the host (after STARTTLS nothing carries over). */
    public void reset() {
        exchange = null;
        profile = null;
        refusing = false;
    }

    private void step(SaslServerExchange.Step step) {
        if (step instanceof SaslServerExchange.Challenge challenge) {
            host.exchanging(true);
            host.write(profile.challenge(challenge.base64()));
        } else if (step instanceof SaslServerExchange.Done done) {
            end();
            host.authenticated(done.credentials());
        } else if (step instanceof SaslServerExchange.Failed failed) {
            host.error(end().invalid(failed.reason()));
        }
    }

    /** Ends the exchange; returns its profile for the last reply. */
    private SaslProfile end() {
        SaslProfile ended = profile;
        reset();
        host.exchanging(false);
        return ended;
    }
}
