package dev.postern.proxy.imap;

import dev.postern.proxy.codec.CommandDecoder;
import dev.postern.proxy.codec.CommandLiterals;
import dev.postern.proxy.codec.QuotedStrings;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a client's bytes into {@link ImapRequest}s before authentication: tagged command lines with atoms, quoted
 * strings ({@code \"} and {@code \\} escapes), parenthesized lists and literals ({@code {n}} synchronizing,
 * {@code {n+}} non-synchronizing per RFC 7888), a command spanning several lines when it has literals; or, after
 * {@link #expectSaslResponse()}, one SASL response line.
 *
 * <p>Bounds: each line of a command is at most {@code lineLength} bytes (a first line that starts an AUTHENTICATE
 * command may reach {@code saslLineLength}, since an initial response carries an OAuth token), a SASL line at most
 * {@code saslLineLength}; a longer line is a {@link LineTooLongException}. The literals of one command add up to at
 * most {@code literalSize} bytes: a synchronizing one beyond is refused before the client sends it ({@link
 * ImapRequest.Malformed}), a non-synchronizing one is fatal, since its bytes are on their way.
 *
 * <p>At most one request is produced per decode call and nothing past it is consumed, so bytes a client pipelines
 * after a login or STARTTLS stay raw in the buffer (see {@link CommandDecoder}).
 */
public final class ImapDecoder extends CommandDecoder {
    private final int lineLength;
    private final int saslLineLength;
    private final CommandLiterals literals;

    private boolean saslMode;

    // the command being read (it spans lines when it has literals)
    private boolean inCommand;
    private String tag;
    private String name;
    private final List<ImapArg> args = new ArrayList<>();
    private String error;

    public ImapDecoder(int lineLength, int saslLineLength, int literalSize) {
        super(lineLength);
        this.lineLength = lineLength;
        this.saslLineLength = Math.max(lineLength, saslLineLength);
        this.literals = new CommandLiterals(literalSize);
    }

    /** The next line is a SASL response, bounded by {@code saslLineLength}; then commands again. */
    public void expectSaslResponse() {
        saslMode = true;
        maxLineLength(saslLineLength);
    }

    /** Forgets a half-read command and SASL mode (after STARTTLS, nothing from before counts). */
    public void reset() {
        saslMode = false;
        maxLineLength(lineLength);
        clearCommand();
    }

    /**
     * Drops the command whose synchronizing literal the session refused with a tagged reply: the client sends no
     * literal then, and its next bytes start a new command.
     */
    public void abandonCommand() {
        clearCommand();
    }

    @Override
    protected void decodeCommand(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (literals.awaiting(in, literal -> args.add(ImapArg.literal(literal)))) {
            return;
        }
        // any literal is complete (or was empty): the rest of the command line may already be here
        if (saslMode) {
            String line = readLine(in);
            if (line != null) {
                saslMode = false;
                maxLineLength(lineLength);
                out.add(new ImapRequest.SaslResponse(line));
            }
            return;
        }
        int lf = endOfCommandLine(in);
        if (lf >= 0) {
            commandLine(takeLine(in, lf), out);
        }
    }

    /** Like {@link #findEndOfLine}, with the longer bound for the first line of an AUTHENTICATE command. */
    private int endOfCommandLine(ByteBuf in) {
        int start = in.readerIndex();
        int readable = in.readableBytes();
        int lf = in.indexOf(start, start + Math.min(readable, saslLineLength), (byte) '\n');
        int limit = !inCommand && mayStartAuthenticate(in, lf) ? saslLineLength : lineLength;
        if (lf >= 0 ? lf - start >= limit : readable >= limit) {
            in.skipBytes(readable);
            clearCommand();
            throw new LineTooLongException(limit);
        }
        return lf;
    }

    private static final byte[] AUTHENTICATE = " AUTHENTICATE ".getBytes(StandardCharsets.US_ASCII);
    /** Tags are short: the space after one is looked for in this many first bytes. */
    private static final int TAG_WINDOW = 64 + AUTHENTICATE.length;

    /**
     * True when the line is {@code tag AUTHENTICATE ...}, or, while its end ({@code lf}) has not arrived, when the
     * bytes so far could still begin one: the decision, and so the line's bound, must not depend on how the bytes
     * were cut into reads. Only the line itself counts, never what follows its LF.
     */
    private static boolean mayStartAuthenticate(ByteBuf in, int lf) {
        int start = in.readerIndex();
        int available = lf >= 0 ? lf : in.writerIndex();
        int sp = in.indexOf(start, Math.min(available, start + TAG_WINDOW), (byte) ' ');
        if (sp < 0) {
            return lf < 0 && available - start < TAG_WINDOW;
        }
        if (sp == start) {
            return false;
        }
        for (int i = 0; i < AUTHENTICATE.length; i++) {
            if (sp + i >= available) {
                return lf < 0;
            }
            int b = in.getByte(sp + i);
            if (b >= 'a' && b <= 'z') {
                b -= 'a' - 'A';
            }
            if (b != AUTHENTICATE[i]) {
                return false;
            }
        }
        return true;
    }

    /** One line of a command: the first (tag and name), or one that follows a literal. */
    private void commandLine(String line, List<Object> out) {
        CommandLiterals.Marker literal = CommandLiterals.Marker.find(line);
        String body = literal == null ? line : line.substring(0, literal.start());
        int pos = 0;
        if (!inCommand) {
            inCommand = true;
            pos = readTagAndName(body);
        }
        if (error == null) {
            tokenize(body, pos);
        }
        if (literal == null) {
            out.add(error == null ? new ImapRequest.Command(tag, name, args) : malformed(error, false));
            clearCommand();
            return;
        }
        boolean sync = !literal.plus();
        String refusal = literals.refusal(literal.size());
        if (refusal != null) {
            out.add(malformed(refusal, !sync));
            clearCommand();
            return;
        }
        if (error != null && sync) {
            // the client waits for a continuation that will not come: the tagged BAD ends the command for it
            out.add(malformed(error, false));
            clearCommand();
            return;
        }
        literals.expect((int) literal.size(), error != null);
        if (sync) {
            out.add(new ImapRequest.LiteralWanted(tag, name));
        }
    }

    private ImapRequest.Malformed malformed(String reason, boolean fatal) {
        return new ImapRequest.Malformed(tag, reason, fatal);
    }

    /** Reads {@code tag SP name}; returns where the arguments start. Sets {@link #error} when they are not valid. */
    private int readTagAndName(String body) {
        if (body.isEmpty()) {
            error = "Empty command line";
            return 0;
        }
        int sp = body.indexOf(' ');
        String t = sp < 0 ? body : body.substring(0, sp);
        if (!isValidTag(t)) {
            error = "Invalid tag";
            return body.length();
        }
        tag = t;
        if (sp < 0) {
            error = "Missing command";
            return body.length();
        }
        int start = sp + 1;
        int end = start;
        while (end < body.length() && isAtomChar(body.charAt(end))) {
            end++;
        }
        if (end == start || end < body.length() && body.charAt(end) != ' ') {
            error = "Invalid command name";
            return body.length();
        }
        name = body.substring(start, end);
        return end;
    }

    /** Splits arguments: atoms, quoted strings, parentheses. Sets {@link #error} on bad syntax. */
    private void tokenize(String s, int from) {
        int i = from;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c == ' ') {
                i++;
            } else if (c == '(') {
                args.add(new ImapArg(ImapArg.Kind.LIST_START, ""));
                i++;
            } else if (c == ')') {
                args.add(new ImapArg(ImapArg.Kind.LIST_END, ""));
                i++;
            } else if (c == '"') {
                QuotedStrings.Quoted quoted = QuotedStrings.read(s, i, ImapDecoder::forbiddenInQuoted);
                if (quoted.error() != null) {
                    error = quoted.error();
                    return;
                }
                args.add(ImapArg.quoted(quoted.value()));
                i = quoted.end();
            } else {
                int start = i;
                while (i < n && isAtomChar(s.charAt(i))) {
                    i++;
                }
                if (i == start || i < n && " ()\"".indexOf(s.charAt(i)) < 0) {
                    error = "Invalid characters in atom";
                    return;
                }
                args.add(ImapArg.atom(s.substring(start, i)));
            }
        }
    }

    /**
     * ATOM-CHAR plus {@code ]} (ASTRING-CHAR), {@code %} and {@code *} (list wildcards); 8-bit characters are
     * accepted, since clients send UTF-8 user names unquoted.
     */
    static boolean isAtomChar(char c) {
        return c > 0x20 && c != 0x7f && c != '(' && c != ')' && c != '{' && c != '"' && c != '\\';
    }

    /** A tag: ASTRING-CHARs except {@code +}, and none of the list wildcards (RFC 9051 section 9). */
    static boolean isValidTag(String t) {
        if (t.isEmpty()) {
            return false;
        }
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c > 0x7e || !isAtomChar(c) || c == '+' || c == '%' || c == '*') {
                return false;
            }
        }
        return true;
    }

    /** Raw characters a quoted string may not hold: controls (CR and LF among them) and DEL; 8-bit ones pass. */
    static boolean forbiddenInQuoted(int c) {
        return c < 0x20 || c == 0x7f;
    }

    private void clearCommand() {
        inCommand = false;
        tag = null;
        name = null;
        args.clear();
        error = null;
        literals.clear();
    }
}
