package dev.postern.proxy.metrics;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Keeps label values bounded, so that no free-form value can blow up the number of series. */
final class LabelValues {
    /** Distinct values one label may take; past that, {@code other}. */
    static final int MAX_VALUES = 64;

    private final ConcurrentHashMap<String, Set<String>> seen = new ConcurrentHashMap<>();

    /**
     * A free-form value as a label value that cannot blow up the number of series: reduced to {@code [A-Za-z0-9._-]}
     * (up to 48 characters), and {@code other} once the label has {@value #MAX_VALUES} distinct values.
     */
    String bounded(String label, String value) {
        if (value == null || value.isEmpty()) {
            return "none";
        }
        String v = value.length() > 48 ? value.substring(0, 48) : value;
        StringBuilder clean = new StringBuilder(v.length());
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            clean.append(plain || c == '.' || c == '_' || c == '-' ? c : '_');
        }
        String s = clean.toString();
        Set<String> values = seen.computeIfAbsent(label, k -> ConcurrentHashMap.newKeySet());
        if (values.contains(s)) {
            return s;
        }
        synchronized (values) {
            if (values.size() >= MAX_VALUES && !values.contains(s)) {
                return "other";
            }
            values.add(s);
        }
        return s;
    }
}
