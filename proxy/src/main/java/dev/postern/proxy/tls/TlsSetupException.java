package dev.postern.proxy.tls;

/**
 * TLS could not be set up: a certificate or key file is missing, unreadable or wrong, or the configured provider,
 * protocols or ciphers cannot be used. The message is one line that names the file (or setting) and what is wrong,
 * fit to show to an operator as is; it never contains a password or key material.
 */
public final class TlsSetupException extends Exception {
    private static final long serialVersionUID = 1L;

    public TlsSetupException(String message) {
        super(message);
    }

    public TlsSetupException(String message, Throwable cause) {
        super(message, cause);
    }
}
