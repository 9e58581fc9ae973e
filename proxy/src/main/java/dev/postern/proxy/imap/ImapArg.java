package dev.postern.proxy.imap;

import java.util.Objects;

/**
 * One argument of a client command, as the decoder read it. A literal's or quoted string's content may be a
 * password, so {@link #toString()} shows only the kind and the length.
 *
 * @param kind how it was written
 * @param value the argument's text (for strings without quotes or escapes; empty for parentheses)
 */
public record ImapArg(Kind kind, String value) {

    /** How an argument was written. */
    public enum Kind {
        /** A bare word ({@code NIL} is one). */
        ATOM,
        /** {@code "..."} with {@code \"} and {@code \\} escapes. */
        QUOTED,
        /** {@code {n}} or {@code {n+}} followed by n bytes. */
        LITERAL,
        /** {@code (}. */
        LIST_START,
        /** {@code )}. */
        LIST_END
    }

    public ImapArg {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(value, "value");
    }

    public static ImapArg atom(String value) {
        return new ImapArg(Kind.ATOM, value);
    }

    public static ImapArg quoted(String value) {
        return new ImapArg(Kind.QUOTED, value);
    }

    public static ImapArg literal(String value) {
        return new ImapArg(Kind.LITERAL, value);
    }

    /** A string in the RFC's sense: quoted or literal. */
    public boolean isString() {
        return kind == Kind.QUOTED || kind == Kind.LITERAL;
    }

    /** An astring: an atom or a string. */
    public boolean isAstring() {
        return kind == Kind.ATOM || isString();
    }

    public boolean isNil() {
        return kind == Kind.ATOM && value.equalsIgnoreCase("NIL");
    }

    @Override
    public String toString() {
        return switch (kind) {
            case LIST_START -> "(";
            case LIST_END -> ")";
            default -> kind + "[" + value.length() + " chars]";
        };
    }
}
