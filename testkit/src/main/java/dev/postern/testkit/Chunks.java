package dev.postern.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Cuts a fuzz input into the pieces a network could deliver it in, and feeds them to an {@link EmbeddedChannel} one
 * write at a time, the way a decoder meets TCP segments and TLS records. The fuzz tests of the decoders feed each
 * input whole, one byte at a time, and in {@link #plan pieces chosen by the input}, and require the same decoded
 * sequence every way; {@link Feed#assertReleased()} then checks every buffer written was released, whoever held it.
 */
public final class Chunks {
    private Chunks() {}

    /** How an input is cut. */
    public enum Way {
        WHOLE,
        BYTES,
        /** Pieces of 1 to 64 bytes whose lengths follow from the input's own content (so a finding replays). */
        PLAN
    }

    /** {@code input} cut the {@code way} said. */
    public static List<byte[]> cut(byte[] input, Way way) {
        return switch (way) {
            case WHOLE -> List.of(input);
            case BYTES -> cut(input, new SplittableRandom(0), 1);
            case PLAN -> cut(input, new SplittableRandom(Arrays.hashCode(input)), 64);
        };
    }

    private static List<byte[]> cut(byte[] input, SplittableRandom random, int maxPiece) {
        List<byte[]> pieces = new ArrayList<>();
        int at = 0;
        while (at < input.length) {
            int n = Math.min(input.length - at, 1 + random.nextInt(maxPiece));
            pieces.add(Arrays.copyOfRange(input, at, at + n));
            at += n;
        }
        return pieces;
    }

    /**
     * Writes {@code pieces} to {@code channel} one at a time, each as a fresh buffer; {@code onError} gets what a
     * write threw (and feeding stops there). The channel is finished and its leftovers released at the end (what the close throws is ignored).
     */
    public static Feed feed(EmbeddedChannel channel, List<byte[]> pieces, Consumer<RuntimeException> onError) {
        return feed(channel, pieces, onError, () -> {});
    }

    /** Like {@link #feed(EmbeddedChannel, List, Consumer)}, running {@code afterEachWrite} after each piece. */
    public static Feed feed(
            EmbeddedChannel channel, List<byte[]> pieces, Consumer<RuntimeException> onError, Runnable afterEachWrite) {
        Feed feed = new Feed();
        try {
            for (byte[] piece : pieces) {
                ByteBuf buf = Unpooled.buffer(piece.length).writeBytes(piece);
                feed.written.add(buf);
                try {
                    channel.writeInbound(buf);
                    afterEachWrite.run();
                } catch (RuntimeException e) {
                    onError.accept(e);
                    break;
                }
            }
        } finally {
            try {
                channel.finishAndReleaseAll();
            } catch (RuntimeException e) {
                // what a close makes of leftovers (a half-read message) is no part of what is compared; the channel
                // released its buffers before it threw
            }
        }
        return feed;
    }

    /** What one feed wrote. */
    public static final class Feed {
        private final List<ByteBuf> written = new ArrayList<>();

        /** Every buffer written has been released: by the decoder, or by whoever it passed a slice to. */
        public void assertReleased() {
            for (int i = 0; i < written.size(); i++) {
                assertThat(written.get(i).refCnt())
                        .as("reference count of the buffer of write %d", i)
                        .isZero();
            }
        }
    }
}
