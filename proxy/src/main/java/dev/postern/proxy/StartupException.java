package dev.postern.proxy;

/** Postern cannot start; the message is one line that names the thing at fault (a file, a port, a key). */
public final class StartupException extends Exception {
    private static final long serialVersionUID = 1L;

    public StartupException(String message, Throwable cause) {
        super(message, cause);
    }

    public StartupException(String message) {
        super(message);
    }
}
