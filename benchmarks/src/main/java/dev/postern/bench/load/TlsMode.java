package dev.postern.bench.load;

/** How the load generator's connections use TLS. */
public enum TlsMode {
    /** TLS from the first byte (IMAPS, POP3S, SMTPS). */
    IMPLICIT,
    /** Plain text, upgraded with STARTTLS / STLS before logging in. */
    STARTTLS,
    /** Plain text throughout. */
    NONE;

    /** The mode named {@code name} on the command line. */
    public static TlsMode of(String name) {
        return switch (name) {
            case "implicit" -> IMPLICIT;
            case "starttls" -> STARTTLS;
            case "none" -> NONE;
            default -> throw new IllegalArgumentException(
                    "unknown TLS mode '" + name + "' (one of implicit, starttls, none)");
        };
    }
}
