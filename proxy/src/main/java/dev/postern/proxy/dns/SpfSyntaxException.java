package dev.postern.proxy.dns;

/** A syntax error in an SPF record: the check's result is {@code permerror}. Cheap: no stack trace. */
final class SpfSyntaxException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SpfSyntaxException(String message) {
        super(message, null, false, false);
    }
}
