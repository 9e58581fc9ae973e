package dev.postern.proxy.imap;

import java.util.Locale;

/**
 * One response line from a backend, split into its parts: {@code tag status [code] text}.
 *
 * @param tag {@code *} for an untagged response, {@code +} for a continuation request, else the command's tag
 * @param status the word after the tag, upper case ({@code OK}, {@code NO}, {@code BAD}, {@code BYE}, {@code
 *     PREAUTH}, {@code CAPABILITY}, ...); empty for a continuation request
 * @param code the response code inside {@code [...]} right after the status, or null
 * @param text what follows (after the code, if any)
 */
public record ImapReply(String tag, String status, String code, String text) {

    public static ImapReply parse(String line) {
        if (line.startsWith("+")) {
            return new ImapReply("+", "", null, line.length() > 1 ? line.substring(line.charAt(1) == ' ' ? 2 : 1) : "");
        }
        int sp = line.indexOf(' ');
        if (sp <= 0) {
            return new ImapReply(line, "", null, "");
        }
        String tag = line.substring(0, sp);
        int end = line.indexOf(' ', sp + 1);
        String status = (end < 0 ? line.substring(sp + 1) : line.substring(sp + 1, end)).toUpperCase(Locale.ROOT);
        String rest = end < 0 ? "" : line.substring(end + 1);
        String code = null;
        if (rest.startsWith("[")) {
            int close = rest.indexOf(']');
            if (close > 0) {
                code = rest.substring(1, close);
                rest = rest.substring(close + 1).stripLeading();
            }
        }
        return new ImapReply(tag, status, code, rest);
    }

    public boolean isUntagged() {
        return tag.equals("*");
    }

    public boolean isContinuation() {
        return tag.equals("+");
    }

    /** The code's first word, upper case ({@code CAPABILITY}, {@code UNAVAILABLE}), or empty. */
    public String codeName() {
        if (code == null) {
            return "";
        }
        int sp = code.indexOf(' ');
        return (sp < 0 ? code : code.substring(0, sp)).toUpperCase(Locale.ROOT);
    }

    /** The code's arguments ({@code CAPABILITY}'s list), or empty. */
    public String codeArguments() {
        if (code == null) {
            return "";
        }
        int sp = code.indexOf(' ');
        return sp < 0 ? "" : code.substring(sp + 1);
    }
}
