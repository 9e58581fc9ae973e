package dev.postern.bench.load;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The client's side of one session: steps, each an optional command and the reply it must get.
 *
 * @param steps in order; the first usually sends nothing and expects the greeting
 * @param repeatFrom when the session's owner asks for more, the steps from this index on run again; -1: never
 */
record Script(List<Step> steps, int repeatFrom) {
    Script {
        steps = List.copyOf(steps);
        if (repeatFrom >= steps.size()) {
            throw new IllegalArgumentException("repeatFrom " + repeatFrom + " past the last step");
        }
    }

    /**
     * One step.
     *
     * @param name for error messages ("LOGIN")
     * @param send the command bytes with line ending (null: send nothing, e.g. wait for the greeting)
     * @param expect what the reply must be
     * @param startTls after a good reply, start TLS before the next step
     * @param timed this step's latency is an operation of its own (imap-fetch-big)
     */
    record Step(String name, byte[] send, Expect expect, boolean startTls, boolean timed) {
        static Step of(String name, String line, Expect expect) {
            return new Step(name, line == null ? null : bytes(line + "\r\n"), expect, false, false);
        }

        Step startingTls() {
            return new Step(name, send, expect, true, timed);
        }

        Step timedStep() {
            return new Step(name, send, expect, startTls, true);
        }
    }

    /** What a reply must look like. */
    record Expect(Kind kind, String tag, int code) {
        static final Expect IMAP_GREETING = new Expect(Kind.IMAP_GREETING, null, 0);
        static final Expect POP3_OK = new Expect(Kind.POP3_OK, null, 0);

        static Expect imapOk(String tag) {
            return new Expect(Kind.IMAP_TAGGED_OK, tag, 0);
        }

        static Expect imapContinuation(String tag) {
            return new Expect(Kind.IMAP_CONTINUATION, tag, 0);
        }

        static Expect smtp(int code) {
            return new Expect(Kind.SMTP_CODE, null, code);
        }
    }

    /** The reply shapes the scenarios need. */
    enum Kind {
        /** {@code * OK ...}. */
        IMAP_GREETING,
        /** Untagged lines, then {@code TAG OK ...}. */
        IMAP_TAGGED_OK,
        /** Untagged lines, then {@code + ...} (IDLE). */
        IMAP_CONTINUATION,
        /** {@code +OK ...}. */
        POP3_OK,
        /** {@code ddd-...} lines, then {@code ddd ...} with the expected code. */
        SMTP_CODE
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
