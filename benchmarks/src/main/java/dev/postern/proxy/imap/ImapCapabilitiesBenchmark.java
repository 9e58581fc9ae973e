package dev.postern.proxy.imap;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Splitting a backend's capability list into words, as every IMAP backend login does once or twice: {@link
 * ImapCapabilities#parse} (by hand) beside {@code splitByRegex}, the {@code trim().split(" +")} it replaced, kept
 * here as the baseline. Dovecot 2.3's list after login.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 2,
        jvmArgsAppend = {"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"})
public class ImapCapabilitiesBenchmark {
    public String list = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES"
            + " THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE"
            + " UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH"
            + " LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+"
            + " NOTIFY SPECIAL-USE";

    @Benchmark
    public List<String> parse() {
        return ImapCapabilities.parse(list);
    }

    @Benchmark
    public List<String> splitByRegex() {
        List<String> out = new ArrayList<>();
        for (String word : list.trim().split(" +")) {
            if (!word.isEmpty()) {
                out.add(word);
            }
        }
        return out;
    }
}
