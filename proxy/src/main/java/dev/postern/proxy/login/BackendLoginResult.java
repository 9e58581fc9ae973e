package dev.postern.proxy.login;

/** How a backend dialogue ended. */
public sealed interface BackendLoginResult
        permits BackendLoginResult.LoggedIn, BackendLoginResult.Refused, BackendLoginResult.Failed {

    /**
     * The backend accepted the login; the channel is ready to be relayed.
     *
     * @param detail protocol data for the client's success reply (IMAP: the post-login capability list), or null
     */
    record LoggedIn(String detail) implements BackendLoginResult {}

    /**
     * The backend refused the credentials.
     *
     * @param reply the backend's reply text, for logs (the client gets the protocol's generic failure)
     * @param temporary the backend said it is a temporary failure (IMAP [UNAVAILABLE], SMTP 4xx, POP3 [SYS/TEMP])
     */
    record Refused(String reply, boolean temporary) implements BackendLoginResult {}

    /**
     * The dialogue broke: bad greeting, TLS failure, unexpected reply, timeout, closed connection.
     *
     * @param reason for logs
     * @param beforeAnyReply the backend never said a thing (closed or failed TLS before its greeting): nothing was
     *     sent to it, so the login may safely go to another backend
     */
    record Failed(String reason, boolean beforeAnyReply) implements BackendLoginResult {
        public Failed(String reason) {
            this(reason, false);
        }
    }
}
