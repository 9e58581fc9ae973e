package dev.postern.proxy.managesieve;

import dev.postern.proxy.codec.CommandDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a client's bytes into {@link SieveRequest}s before authentication (RFC 5804 section 4): a command name (an
 * atom, any case), then atoms, numbers, quoted strings ({@code \"} and {@code \\} escapes) and literals ({@code
 * {n+}}, and the {@code {n}} some clients send: ManageSieve has no continuation request, so both are on their way at
 * once); a command spans lines when it has literals. After {@link #expectSaslResponse()}, the next "command" is the
 * client's answer to a SASL challenge: exactly one string.
 *
 * <p>Bounds: each line at most {@code lineLength} bytes ({@code saslLineLength} for a line that starts an
 * AUTHENTICATE command and for a SASL answer, which may carry an OAuth token); a longer one is a {@link
 * LineTooLongException}. The literals of one command add up to at most {@code literalSize} bytes: a larger one is a
 * fatal {@link SieveRequest.Malformed}, since its bytes cannot be refused; at most {@link #MAX_ARGS} arguments.
 *
 * <p>At most one request per decode call, and nothing past it consumed, so bytes pipelined after a login or
 * STARTTLS stay raw in the buffer (see {@link CommandDecoder}).
 */
public final class ManageSieveDecoder extends CommandDecoder {
    /** Most arguments of one command (PUTSCRIPT has two; more is not a ManageSieve command). */
    static final int MAX_ARGS = 16;

    /** RFC 5804 section 4: quoted strings are at most 1024 octets; longer values must be literals. */
    static final int MAX_QUOTED = 1024;

    private static final byte[] AUTHENTICATE = "AUTHENTICATE ".getBytes(StandardCharsets.US_ASCII);

    private final int lineLength;
    private final int saslLineLength;
    private final int literalSize;

    private boolean saslMode;
    private boolean inCommand;
    private String name;
    private final List<SieveRequest.Arg> args = new ArrayList<>();
    private String error;
    private int literalBytes;
    /** Bytes of the literal still to come, or -1 when a line comes next. */
    private int literalRemaining = -1;
    /** The literal's bytes are skipped, not kept (the command is already known to be malformed). */
    private boolean skippingLiteral;

    public ManageSieveDecoder(int lineLength, int saslLineLength, int literalSize) {
        super(lineLength);
        this.lineLength = lineLength;
        this.saslLineLength = Math.max(lineLength, saslLineLength);
        this.literalSize = literalSize;
    }

    /** The next request is an answer to a SASL challenge: one string; then commands again. */
    public void expectSaslResponse() {
        saslMode = true;
    }

    /** Forgets a half-read command and SASL mode (after STARTTLS nothing from before counts). */
    public void reset() {
        saslMode = false;
        clearCommand();
    }

    @Override
    protected void decodeCommand(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (literalRemaining >= 0) {
            readLiteral(in);
            if (literalRemaining >= 0) {
                return;
            }
        }
        boolean sasl = saslMode || !inCommand && startsAuthenticate(in);
        maxLineLength(sasl ? saslLineLength : lineLength);
        int lf = findEndOfLine(in);
        if (lf < 0) {
            return;
        }
        String line = takeLine(in, lf);
        SieveRequest request = line(line);
        if (request != null) {
            out.add(request);
        }
    }

    private void readLiteral(ByteBuf in) {
        if (skippingLiteral) {
            int n = Math.min(literalRemaining, in.readableBytes());
            in.skipBytes(n);
            literalRemaining -= n;
        } else if (in.readableBytes() >= literalRemaining) {
            args.add(new SieveRequest.Arg(
                    true,
                    in.readCharSequence(literalRemaining, StandardCharsets.UTF_8)
                            .toString()));
            literalRemaining = 0;
        }
        if (literalRemaining == 0) {
            literalRemaining = -1;
            skippingLiteral = false;
        }
    }

    /** One line of a command: the first, or one that follows a literal. Returns the request when it is complete. */
    private SieveRequest line(String line) {
        int literalStart = literalMarkerStart(line);
        String body = literalStart < 0 ? line : line.substring(0, literalStart);
        int pos = 0;
        if (!inCommand) {
            inCommand = true;
            if (!saslMode) {
                pos = readName(body);
            }
        }
        if (error == null) {
            tokenize(body, pos);
        }
        if (literalStart < 0) {
            SieveRequest request = complete();
            clearCommand();
            return request;
        }
        boolean plus = line.charAt(line.length() - 2) == '+';
        long size = parseSize(line, literalStart + 1, line.length() - (plus ? 2 : 1));
        if (size > literalSize - literalBytes) {
            clearCommand();
            saslMode = false;
            return new SieveRequest.Malformed(size > literalSize ? "Literal too big" : "Literals too big", true);
        }
        literalBytes += (int) size;
        literalRemaining = (int) size;
        if (error == null && args.size() >= MAX_ARGS) {
            error = "Too many arguments";
        }
        skippingLiteral = error != null;
        return null;
    }

    private SieveRequest complete() {
        if (saslMode) {
            saslMode = false;
            if (error == null && args.size() == 1 && args.get(0).string()) {
                return new SieveRequest.SaslResponse(args.get(0).value());
            }
            return new SieveRequest.Malformed(error != null ? error : "Expected one string", false);
        }
        if (error != null) {
            return new SieveRequest.Malformed(error, false);
        }
        return new SieveRequest.Command(name, args);
    }

    /** Reads the command name; returns where the arguments start. Sets {@link #error} when there is none. */
    private int readName(String body) {
        int end = 0;
        while (end < body.length() && isAtomChar(body.charAt(end))) {
            end++;
        }
        if (end == 0) {
            error = body.isEmpty() ? "Empty command line" : "Invalid command name";
            return body.length();
        }
        if (end < body.length() && body.charAt(end) != ' ') {
            error = "Invalid command name";
            return body.length();
        }
        name = body.substring(0, end);
        return end;
    }

    /** Splits arguments: atoms (and numbers) and quoted strings. Sets {@link #error} on bad syntax. */
    private void tokenize(String s, int from) {
        int i = from;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c == ' ') {
                i++;
                continue;
            }
            if (args.size() >= MAX_ARGS) {
                error = "Too many arguments";
                return;
            }
            if (c == '"') {
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
                    } else if (q == '\r' || q == '\n' || q == 0) {
                        error = "Invalid character in quoted string";
                        return;
                    }
                    sb.append(q);
                }
                if (!closed) {
                    error = "Unterminated quoted string";
                    return;
                }
                if (sb.length() > MAX_QUOTED) {
                    error = "Quoted string too long (use a literal)";
                    return;
                }
                args.add(new SieveRequest.Arg(true, sb.toString()));
            } else {
                int start = i;
                while (i < n && isAtomChar(s.charAt(i))) {
                    i++;
                }
                if (i == start || i < n && s.charAt(i) != ' ' && s.charAt(i) != '"') {
                    error = "Invalid characters in atom";
                    return;
                }
                args.add(new SieveRequest.Arg(false, s.substring(start, i)));
            }
        }
    }

    /** An atom's characters: printable ASCII except the specials of RFC 5804's grammar. */
    static boolean isAtomChar(char c) {
        return c > 0x20 && c < 0x7f && c != '"' && c != '{' && c != '}' && c != '(' && c != ')' && c != '\\';
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

    /** True when the buffered line starts with {@code AUTHENTICATE } (any case). */
    private static boolean startsAuthenticate(ByteBuf in) {
        int start = in.readerIndex();
        if (in.readableBytes() < AUTHENTICATE.length) {
            return false;
        }
        for (int i = 0; i < AUTHENTICATE.length; i++) {
            int b = in.getByte(start + i);
            if (b >= 'a' && b <= 'z') {
                b -= 'a' - 'A';
            }
            if (b != AUTHENTICATE[i]) {
                return false;
            }
        }
        return true;
    }

    private void clearCommand() {
        inCommand = false;
        name = null;
        args.clear();
        error = null;
        literalBytes = 0;
        literalRemaining = -1;
        skippingLiteral = false;
    }
}
