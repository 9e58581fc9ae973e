package dev.postern.proxy.transport;

/**
 * The names of the handlers in Postern's client and backend pipelines, in one place: the handlers that change a
 * pipeline at a phase boundary (STARTTLS, the hand-over to the relay) find each other by these names.
 *
 * <p>A client pipeline is {@link #PROXY_HEADER} (on a listener with {@code proxy-protocol}, until the header is
 * read), {@link #TLS} (implicit TLS, or added by STARTTLS), {@link #IDLE}, then either a
 * protocol front end's {@link #DECODER} and {@link #SESSION}, or the tcp listener's {@link #TCP_FRONTEND}; after the
 * login, {@link #RELAY}. A backend pipeline is {@link #BACKEND_PREAMBLE} (a PROXY v2 header), {@link #BACKEND_TLS},
 * {@link #BACKEND_DECODER} and {@link #BACKEND_DIALOGUE}; after the login, {@link #RELAY}.
 */
public final class HandlerNames {
    private HandlerNames() {}

    /**
     * Reads the PROXY protocol header before anything else on a client connection, then installs the rest of the
     * pipeline and leaves.
     */
    public static final String PROXY_HEADER = "proxy-header";

    /** The client's TLS (SslHandler or SniHandler). */
    public static final String TLS = "tls";

    /** The idle timer of a client connection. */
    public static final String IDLE = "idle";

    /** A protocol front end's command decoder. */
    public static final String DECODER = "decoder";

    /** A protocol front end's pre-auth session handler. */
    public static final String SESSION = "session";

    /** The tcp listener's handler, which connects the backend and splices at once. */
    public static final String TCP_FRONTEND = "tcp-frontend";

    /** Writes the PROXY v2 header before anything else on a backend connection. */
    public static final String BACKEND_PREAMBLE = "backend-preamble";

    /** TLS towards the backend (implicit, or added by STARTTLS). */
    public static final String BACKEND_TLS = "backend-tls";

    /** The backend dialogue's line decoder. */
    public static final String BACKEND_DECODER = "backend-decoder";

    /** The backend login dialogue. */
    public static final String BACKEND_DIALOGUE = "backend-dialogue";

    /** The byte splice, on both channels of a session after the login. */
    public static final String RELAY = "relay";
}
