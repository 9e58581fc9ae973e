package dev.postern.proxy.managesieve;

import dev.postern.proxy.codec.CommandDecoder;
import dev.postern.proxy.codec.CommandLiterals;
import dev.postern.proxy.codec.QuotedStrings;
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
    private final CommandLiterals literals;

    private boolean saslMode;
    private boolean inCommand;
    private String name;
    private final List<SieveRequest.Arg> args = new ArrayList<>();
    private String error;

    public ManageSieveDecoder(int lineLength, int saslLineLength, int literalSize) {
        super(lineLength);
        this.lineLength = lineLength;
        this.saslLineLength = Math.max(lineLength, saslLineLength);
        this.literals = new CommandLiterals(literalSize);
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
        if (literals.awaiting(in, literal -> args.add(new SieveRequest.Arg(true, literal)))) {
            return;
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

    /** One line of a command: the first, or one that follows a literal. Returns the request when it is complete. */
    private SieveRequest line(String line) {
        CommandLiterals.Marker literal = CommandLiterals.Marker.find(line);
        String body = literal == null ? line : line.substring(0, literal.start());
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
        if (literal == null) {
            SieveRequest request = complete();
            clearCommand();
            return request;
        }
        String refusal = literals.refusal(literal.size());
        if (refusal != null) {
            clearCommand();
            saslMode = false;
            return new SieveRequest.Malformed(refusal, true);
        }
        if (error == null && args.size() >= MAX_ARGS) {
            error = "Too many arguments";
        }
        literals.expect((int) literal.size(), error != null);
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
                QuotedStrings.Quoted quoted = QuotedStrings.read(s, i, ManageSieveDecoder::forbiddenInQuoted);
                if (quoted.error() != null) {
                    error = quoted.error();
                    return;
                }
                if (quoted.value().length() > MAX_QUOTED) {
                    error = "Quoted string too long (use a literal)";
                    return;
                }
                args.add(new SieveRequest.Arg(true, quoted.value()));
                i = quoted.end();
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

    /** RFC 5804's QUOTED-CHAR: any character but CR, LF and NUL. */
    static boolean forbiddenInQuoted(int c) {
        return c == '\r' || c == '\n' || c == 0;
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
        literals.clear();
    }
}
