package dev.postern.proxy.pop3;

import java.util.Locale;

/**
 * One POP3 command line as the client sent it: a keyword and what follows it. Vocabulary stays open: an unknown
 * keyword is a value like any other, which the session refuses by policy.
 *
 * @param keyword the command keyword, upper case ({@code USER}, {@code AUTH}, or anything the client sent)
 * @param argument everything after the first space, unchanged (a password may contain spaces); empty when none
 * @param hasArgument whether a space followed the keyword ({@code AUTH =} differs from {@code AUTH})
 */
public record Pop3Command(String keyword, String argument, boolean hasArgument) {
    /** RFC 2449: keywords are 3 or 4 characters; longer ones are bogus, and kept short so logs stay bounded. */
    static final int MAX_KEYWORD = 16;

    /** Splits a line (without its line ending) into keyword and argument. */
    public static Pop3Command parse(String line) {
        int space = line.indexOf(' ');
        String keyword = space < 0 ? line : line.substring(0, space);
        if (keyword.length() > MAX_KEYWORD) {
            keyword = keyword.substring(0, MAX_KEYWORD);
        }
        return new Pop3Command(
                keyword.toUpperCase(Locale.ROOT), space < 0 ? "" : line.substring(space + 1), space >= 0);
    }

    /** For logs: the keyword only, never the argument (it may be a password or a SASL payload). */
    @Override
    public String toString() {
        return "Pop3Command[" + keyword + "]";
    }
}
