package dev.postern.proxy.sasl;

/**
 * How one protocol frames the server's side of a SASL exchange, its "profile" in the words of RFC 4422 section 4:
 * the continuation line that carries a challenge, the reply to an exchange the client cancelled, and the replies to
 * a malformed response and to a mechanism that is not offered. The rest of an exchange is the same everywhere and
 * lives in {@link SaslDriver}.
 *
 * @param challengePrefix what precedes the base64 challenge on a continuation line
 * @param cancelled the reply when the client answers a challenge with {@code *}
 * @param invalidPrefix what precedes the reason on the reply to a malformed response
 * @param unsupported the reply to a mechanism Postern does not offer
 */
public record SaslProfile(String challengePrefix, String cancelled, String invalidPrefix, String unsupported) {

    /** RFC 5034. */
    public static final SaslProfile POP3 = new SaslProfile(
            "+ ",
            "-ERR Authentication cancelled",
            "-ERR Invalid SASL response: ",
            "-ERR Unsupported authentication mechanism");

    /** RFC 4954. */
    public static final SaslProfile SMTP = new SaslProfile(
            "334 ",
            "501 5.0.0 Authentication cancelled",
            "501 5.5.2 ",
            "504 5.5.4 Unrecognized authentication mechanism");

    /** RFC 9051 section 6.2.2, for the AUTHENTICATE command tagged {@code tag}: every final reply carries the tag. */
    public static SaslProfile imap(String tag) {
        return new SaslProfile(
                "+ ",
                tag + " BAD Authentication cancelled",
                tag + " BAD ",
                tag + " NO Unsupported authentication mechanism");
    }

    /** The continuation line carrying {@code base64} (which may be empty). */
    public String challenge(String base64) {
        return challengePrefix + base64;
    }

    /** The reply to a malformed response; {@code reason} comes from {@link SaslServerExchange.Failed}. */
    public String invalid(String reason) {
        return invalidPrefix + reason;
    }
}
