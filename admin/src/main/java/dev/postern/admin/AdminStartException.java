package dev.postern.admin;

/** The admin server could not start; the message is one line naming the cause. */
public final class AdminStartException extends Exception {
    private static final long serialVersionUID = 1L;

    public AdminStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
