package dev.postern.bench.load;

import java.util.Locale;

/**
 * What one run measured; printed as one JSON line.
 *
 * @param scenario the scenario's command-line name
 * @param label the run's label (the target's name)
 * @param tls the TLS mode
 * @param concurrency the virtual users
 * @param elapsedSeconds from the first connection attempt to the last operation's end
 * @param ops operations completed without error
 * @param latency their latencies
 * @param errors operations or sessions that failed
 * @param firstError the first failure's description, or null
 * @param bytes payload bytes received (imap-fetch-big: message literals), 0 where it does not apply
 * @param held imap-idle: sessions held in IDLE at the end of the hold; else 0
 */
public record RunResult(
        String scenario,
        String label,
        String tls,
        int concurrency,
        double elapsedSeconds,
        long ops,
        Latencies.Summary latency,
        long errors,
        String firstError,
        long bytes,
        long held) {

    public double opsPerSecond() {
        return elapsedSeconds <= 0 ? 0 : ops / elapsedSeconds;
    }

    /** Megabytes (10^6 bytes) of payload per second. */
    public double megabytesPerSecond() {
        return elapsedSeconds <= 0 ? 0 : bytes / elapsedSeconds / 1e6;
    }

    /** One line of JSON, keys in a fixed order; latencies in milliseconds. */
    public String toJson() {
        StringBuilder sb = new StringBuilder(320);
        sb.append('{');
        field(sb, "scenario").append(string(scenario)).append(',');
        field(sb, "label").append(string(label)).append(',');
        field(sb, "tls").append(string(tls)).append(',');
        field(sb, "concurrency").append(concurrency).append(',');
        field(sb, "elapsed_s").append(number(elapsedSeconds)).append(',');
        field(sb, "ops").append(ops).append(',');
        field(sb, "ops_per_s").append(number(opsPerSecond())).append(',');
        field(sb, "latency_ms").append('{');
        field(sb, "p50").append(millis(latency.p50())).append(',');
        field(sb, "p90").append(millis(latency.p90())).append(',');
        field(sb, "p99").append(millis(latency.p99())).append(',');
        field(sb, "max").append(millis(latency.max())).append("},");
        field(sb, "errors").append(errors).append(',');
        field(sb, "first_error")
                .append(firstError == null ? "null" : string(firstError))
                .append(',');
        field(sb, "bytes").append(bytes).append(',');
        field(sb, "mb_per_s").append(number(megabytesPerSecond())).append(',');
        field(sb, "held").append(held);
        return sb.append('}').toString();
    }

    private static StringBuilder field(StringBuilder sb, String name) {
        return sb.append('"').append(name).append("\":");
    }

    private static String millis(long nanos) {
        return number(nanos / 1e6);
    }

    private static String number(double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return "null";
        }
        return String.format(Locale.ROOT, "%.3f", d);
    }

    /** A JSON string literal. */
    static String string(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
