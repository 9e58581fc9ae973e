package dev.postern.proxy.sasl;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The server side of one SASL exchange with a client: turns the client's base64 responses into {@link Credentials}.
 * Protocol-neutral: {@link SaslDriver} wraps challenges in the protocol's continuation lines and handles {@code *}
 * (cancel). Not thread-safe; one per exchange.
 */
public final class SaslServerExchange {
    /** The LOGIN mechanism's traditional challenges. */
    static final String USERNAME_CHALLENGE = b64("Username:");

    static final String PASSWORD_CHALLENGE = b64("Password:");

    /** What to do next. */
    public sealed interface Step permits Challenge, Done, Failed {}

    /** Send this challenge (base64, possibly empty) and feed the client's answer to {@link #respond}. */
    public record Challenge(String base64) implements Step {}

    /** The exchange is complete. */
    public record Done(Credentials credentials) implements Step {}

    /** The client's message is malformed; {@code reason} is safe to show (never contains the secret). */
    public record Failed(String reason) implements Step {}

    private final SaslMechanism mechanism;
    private String loginUser;
    private boolean started;

    private SaslServerExchange(SaslMechanism mechanism) {
        this.mechanism = mechanism;
    }

    public static SaslServerExchange start(SaslMechanism mechanism) {
        return new SaslServerExchange(mechanism);
    }

    public SaslMechanism mechanism() {
        return mechanism;
    }

    /**
     * Begins the exchange.
     *
     * @param initialResponse the base64 initial response (SASL-IR), {@code ""} for an explicitly empty one (sent as
     *     {@code =}), or null when the client sent none
     */
    public Step begin(String initialResponse) {
        if (started) {
            throw new IllegalStateException("already started");
        }
        started = true;
        if (initialResponse == null) {
            return new Challenge(mechanism == SaslMechanism.LOGIN ? USERNAME_CHALLENGE : "");
        }
        return respond(initialResponse);
    }

    /** Handles one base64 line from the client. */
    public Step respond(String base64) {
        byte[] message;
        try {
            message = Base64.getDecoder().decode(base64.trim());
        } catch (IllegalArgumentException e) {
            return new Failed("invalid base64");
        }
        return switch (mechanism) {
            case PLAIN -> plain(message);
            case LOGIN -> login(message);
            case XOAUTH2 -> xoauth2(message);
            case OAUTHBEARER -> oauthBearer(message);
            case EXTERNAL -> external(message);
        };
    }

    private Step plain(byte[] message) {
        String s = new String(message, StandardCharsets.UTF_8);
        int first = s.indexOf('\0');
        int second = first < 0 ? -1 : s.indexOf('\0', first + 1);
        if (first < 0 || second < 0 || s.indexOf('\0', second + 1) >= 0) {
            return new Failed("malformed PLAIN message");
        }
        String authzid = s.substring(0, first);
        String user = s.substring(first + 1, second);
        String password = s.substring(second + 1);
        if (user.isEmpty()) {
            return new Failed("empty user name");
        }
        return new Done(new Credentials(SaslMechanism.PLAIN, authzid, user, password, null));
    }

    /**
     * The message is the authzid, empty for "the certificate's user"; the user and the certificate are the front
     * end's to add ({@link Credentials#external}), which knows the TLS session.
     */
    private Step external(byte[] message) {
        String authzid = new String(message, StandardCharsets.UTF_8);
        if (authzid.indexOf('\0') >= 0) {
            return new Failed("malformed EXTERNAL message");
        }
        return new Done(new Credentials(SaslMechanism.EXTERNAL, authzid, "", "", null));
    }

    private Step login(byte[] message) {
        String s = new String(message, StandardCharsets.UTF_8);
        if (loginUser == null) {
            if (s.isEmpty()) {
                return new Failed("empty user name");
            }
            loginUser = s;
            return new Challenge(PASSWORD_CHALLENGE);
        }
        return new Done(Credentials.password(SaslMechanism.LOGIN, loginUser, s));
    }

    /** {@code user=U ^A auth=Bearer T ^A ^A}. */
    private Step xoauth2(byte[] message) {
        String s = new String(message, StandardCharsets.UTF_8);
        String user = null;
        String token = null;
        for (String field : s.split("\u0001")) {
            if (field.startsWith("user=")) {
                user = field.substring(5);
            } else if (field.startsWith("auth=")) {
                token = bearer(field.substring(5));
            }
        }
        if (user == null || user.isEmpty() || token == null) {
            return new Failed("malformed XOAUTH2 message");
        }
        return new Done(new Credentials(SaslMechanism.XOAUTH2, "", user, token, message));
    }

    /** RFC 7628: {@code n,a=U, ^A host=H ^A port=P ^A auth=Bearer T ^A ^A}. */
    private Step oauthBearer(byte[] message) {
        String s = new String(message, StandardCharsets.UTF_8);
        int sep = s.indexOf('\u0001');
        if (sep < 0) {
            return new Failed("malformed OAUTHBEARER message");
        }
        String gs2 = s.substring(0, sep);
        String user = null;
        String[] gs2Parts = gs2.split(",", -1);
        if (gs2Parts.length < 3 || !(gs2Parts[0].equals("n") || gs2Parts[0].equals("y"))) {
            return new Failed("malformed OAUTHBEARER GS2 header");
        }
        if (gs2Parts[1].startsWith("a=")) {
            user = gs2Parts[1].substring(2).replace("=2C", ",").replace("=3D", "=");
        }
        String token = null;
        for (String field : s.substring(sep + 1).split("\u0001")) {
            if (field.startsWith("auth=")) {
                token = bearer(field.substring(5));
            }
        }
        if (user == null || user.isEmpty() || token == null) {
            return new Failed("malformed OAUTHBEARER message");
        }
        return new Done(new Credentials(SaslMechanism.OAUTHBEARER, "", user, token, message));
    }

    private static String bearer(String value) {
        return value.regionMatches(true, 0, "Bearer ", 0, 7) ? value.substring(7) : null;
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
