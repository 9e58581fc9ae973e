package dev.postern.proxy.imap;

import dev.postern.proxy.codec.CommandDecoder;
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
    private final int literalSize;

    private boolean saslMode;

    // the command being read (it spans lines when it has literals)
    private boolean inCommand;
    private String tag;
    private String name;
    private final List<ImapArg> args = new ArrayList<>();
    private String error;
    private int literalBytes;
    /** Bytes of the literal still to come, or -1 when a line comes next. */
    private int literalRemaining = -1;
    /** The literal's bytes are skipped, not kept (the command is already known to be malformed). */
    private boolean skippingLiteral;

    public ImapDecoder(int lineLength, int saslLineLength, int literalSize) {
        super(lineLength);
        this.lineLength = lineLength;
        this.saslLineLength = Math.max(lineLength, saslLineLength);
        this.literalSize = literalSize;
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
        if (literalRemaining >= 0) {
            readLiteral(in);
            if (literalRemaining >= 0) {
                return;
            }
            // the literal is complete (or was empty): the rest of the command line may already be here
        }
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

    private void readLiteral(ByteBuf in) {
        if (skippingLiteral) {
            int n = Math.min(literalRemaining, in.readableBytes());
            in.skipBytes(n);
            literalRemaining -= n;
        } else if (in.readableBytes() >= literalRemaining) {
            args.add(ImapArg.literal(in.readCharSequence(literalRemaining, StandardCharsets.UTF_8)
                    .toString()));
            literalRemaining = 0;
        }
        if (literalRemaining == 0) {
            literalRemaining = -1;
            skippingLiteral = false;
        }
    }

    /** One line of a command: the first (tag and name), or one that follows a literal. */
    private void commandLine(String line, List<Object> out) {
        int length = line.length();
        int literalStart = literalMarkerStart(line);
        String body = literalStart < 0 ? line : line.substring(0, literalStart);
        int pos = 0;
        if (!inCommand) {
            inCommand = true;
            pos = readTagAndName(body);
        }
        if (error == null) {
            tokenize(body, pos);
        }
        if (literalStart < 0) {
            out.add(error == null ? new ImapRequest.Command(tag, name, args) : malformed(error, false));
            clearCommand();
            return;
        }
        boolean sync = line.charAt(length - 2) != '+';
        long size = parseSize(line, literalStart + 1, sync ? length - 1 : length - 2);
        if (size > literalSize - literalBytes) {
            out.add(malformed(size > literalSize ? "Literal too big" : "Literals too big", !sync));
            clearCommand();
            return;
        }
        if (error != null && sync) {
            // the client waits for a continuation that will not come: the tagged BAD ends the command for it
            out.add(malformed(error, false));
            clearCommand();
            return;
        }
        literalBytes += (int) size;
        literalRemaining = (int) size;
        skippingLiteral = error != null;
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
                StringBuilder sb = new StringBuilder();
                i++;
                boolean closed = false;
                while (i < n) {
                    char q = s.charAt(i++);
                    if (q == '"') {
                        closed = true;
                        break;
                    }
                    if (q == '\\') {
                        char e = i < n ? s.charAt(i++) : 0;
                        if (e != '"' && e != '\\') {
                            error = "Invalid escape in quoted string";
                            return;
                        }
                        q = e;
                    } else if (q < 0x20 || q == 0x7f) {
                        error = "Invalid character in quoted string";
                        return;
                    }
                    sb.append(q);
                }
                if (!closed) {
                    error = "Unterminated quoted string";
                    return;
                }
                args.add(ImapArg.quoted(sb.toString()));
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

    /** Where a {@code {n}} or {@code {n+}} ending the line starts, or -1. */
    static int literalMarkerStart(String line) {
        int end = line.length() - 1;
        if (end < 2 || line.charAt(end) != '}') {
            return -1;
        }
        int i = end - 1;
        if (line.charAt(i) == '+') {
            i--;
        }
        int digitsEnd = i;
        while (i >= 0 && line.charAt(i) >= '0' && line.charAt(i) <= '9') {
            i--;
        }
        if (i < 0 || i == digitsEnd || line.charAt(i) != '{') {
            return -1;
        }
        return i;
    }

    /** The literal's size; {@link Long#MAX_VALUE} when it does not fit a long (certainly too big). */
    private static long parseSize(String line, int from, int to) {
        if (to - from > 18) {
            return Long.MAX_VALUE;
        }
        return Long.parseLong(line.substring(from, to));
    }

    private void clearCommand() {
        inCommand = false;
        tag = null;
        name = null;
        args.clear();
        error = null;
        literalBytes = 0;
        literalRemaining = -1;
        skippingLiteral = false;
    }
}
