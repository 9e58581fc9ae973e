package dev.postern.proxy.codec;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** What the fuzz tests of the line decoders require of the lines they got. */
public final class LineProperties {
    /** The event a decoder's {@link CommandDecoder.LineTooLongException} is recorded as. */
    public static final String LINE_TOO_LONG = "LineTooLong";

    private LineProperties() {}

    /**
     * Each line is shorter than {@code limit} (bytes, the CR counted; checked in characters), and when the decoder did not give up
     * and the input is valid UTF-8, the lines written out again with LF are the input up to its last LF, with each
     * CRLF made LF: nothing is lost, added or reordered.
     */
    public static void assertLinesRebuildInput(byte[] input, List<Object> events, int limit) {
        StringBuilder rebuilt = new StringBuilder();
        for (Object e : events) {
            if (e instanceof String line && !line.equals(LINE_TOO_LONG)) {
                // in characters: an invalid byte becomes one U+FFFD, three bytes in UTF-8
                assertThat(line.length()).isLessThan(limit);
                rebuilt.append(line).append('\n');
            }
        }
        if (events.contains(LINE_TOO_LONG)) {
            return;
        }
        int lastLf = lastIndexOf(input, (byte) '\n');
        String text = utf8(input, lastLf + 1);
        if (text != null) {
            assertThat(rebuilt.toString()).isEqualTo(text.replace("\r\n", "\n"));
        }
    }

    private static int lastIndexOf(byte[] input, byte b) {
        for (int i = input.length - 1; i >= 0; i--) {
            if (input[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /** The first {@code length} bytes as text, or null when they are not valid UTF-8. */
    private static String utf8(byte[] input, int length) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(input, 0, length))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
