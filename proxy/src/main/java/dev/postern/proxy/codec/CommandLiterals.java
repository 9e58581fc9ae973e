package dev.postern.proxy.codec;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * The literals of one command ({@code {n}} or {@code {n+}} at the end of a line, then n bytes), as IMAP and
 * ManageSieve write them: where a line announces one, whether it still fits the command's bound on literal bytes, and
 * reading (or skipping) its bytes as they arrive. The decoder that owns it decides what a marker means for its
 * protocol (a continuation request, a refusal, a close).
 */
public final class CommandLiterals {
    private final int limit;
    private int total;
    /** Bytes of the literal still to come, or -1 when a line comes next. */
    private int remaining = -1;
    /** The literal's bytes are skipped, not kept (the command is already known to be malformed). */
    private boolean skipping;

    /** @param limit the most literal bytes one command may carry, all its literals together */
    public CommandLiterals(int limit) {
        this.limit = limit;
    }

    /**
     * The {@code {n}} or {@code {n+}} that ends a line.
     *
     * @param start the index of its {@code {}
     * @param size n; {@link Long#MAX_VALUE} when it does not fit a long (certainly too big)
     * @param plus true for {@code {n+}} (non-synchronizing: the bytes are on their way)
     */
    public record Marker(int start, long size, boolean plus) {
        /** The marker that ends {@code line}, or null when it ends with none. */
        public static Marker find(String line) {
            int end = line.length() - 1;
            if (end < 2 || line.charAt(end) != '}') {
                return null;
            }
            int i = end - 1;
            boolean plus = line.charAt(i) == '+';
            if (plus) {
                i--;
            }
            int digitsEnd = i;
            while (i >= 0 && line.charAt(i) >= '0' && line.charAt(i) <= '9') {
                i--;
            }
            if (i < 0 || i == digitsEnd || line.charAt(i) != '{') {
                return null;
            }
            int digits = digitsEnd - i;
            long size = digits > 18 ? Long.MAX_VALUE : Long.parseLong(line.substring(i + 1, digitsEnd + 1));
            return new Marker(i, size, plus);
        }
    }

    /** Why a literal of {@code size} bytes cannot be read for this command, or null when it fits. */
    public String refusal(long size) {
        if (size <= limit - total) {
            return null;
        }
        return size > limit ? "Literal too big" : "Literals too big";
    }

    /** The next {@code size} bytes are a literal (within {@link #refusal}); {@code skip} drops them unread. */
    public void expect(int size, boolean skip) {
        total += size;
        remaining = size;
        skipping = skip;
    }

    /**
     * Consumes what has come of a pending literal, and hands its content to {@code sink} once it is all there (a kept
     * literal is read in one piece, so {@code in} accumulates until then; a skipped one reaches no sink). True while
     * the literal's bytes are still awaited, so no line can be read yet.
     */
    public boolean awaiting(ByteBuf in, Consumer<String> sink) {
        if (remaining < 0) {
            return false;
        }
        if (skipping) {
            int n = Math.min(remaining, in.readableBytes());
            in.skipBytes(n);
            remaining -= n;
        } else if (in.readableBytes() >= remaining) {
            sink.accept(in.readCharSequence(remaining, StandardCharsets.UTF_8).toString());
            remaining = 0;
        }
        if (remaining == 0) {
            remaining = -1;
            skipping = false;
        }
        return remaining >= 0;
    }

    /** Forgets the command's literals: the next command starts with the whole bound. */
    public void clear() {
        total = 0;
        remaining = -1;
        skipping = false;
    }
}
