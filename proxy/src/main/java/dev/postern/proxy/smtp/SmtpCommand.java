package dev.postern.proxy.smtp;

import java.util.Locale;

/**
 * One SMTP command line as the pre-authentication session sees it: the verb, upper-cased, and the rest of the line.
 * Unknown verbs are values like any other; the session decides what to refuse.
 *
 * @param verb the command word in upper case ({@code EHLO}, {@code MAIL}, ...), empty for an empty line
 * @param argument what follows the verb and its separating space, or {@code ""}
 */
public record SmtpCommand(String verb, String argument) {

    /** Splits {@code line} (without its line ending) at the first space. */
    public static SmtpCommand parse(String line) {
        int space = line.indexOf(' ');
        String verb = space < 0 ? line : line.substring(0, space);
        String argument = space < 0 ? "" : line.substring(space + 1);
        return new SmtpCommand(verb.toUpperCase(Locale.ROOT), argument);
    }

    public boolean hasArgument() {
        return !argument.isBlank();
    }
}
