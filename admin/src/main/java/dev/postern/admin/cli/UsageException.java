package dev.postern.admin.cli;

/** A command line that does not fit a command. */
final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message, null, false, false);
    }
}
