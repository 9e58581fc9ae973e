package dev.postern.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A position in the YAML tree, with its path ({@code listeners[0].bind}), and readers that turn the value there into a
 * typed one or report a problem that names the path and the value.
 *
 * <p>A reader returns null when the value is absent or invalid; in the invalid case it has reported why. Callers go on
 * reading so that every problem is collected, and build records only from non-null values. Nothing null escapes the
 * loader: it throws whenever a problem was reported.
 */
final class Node {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]*");

    private final JsonNode json;
    private final String path;
    private final Context context;

    /** What every node of one load shares. */
    record Context(Problems problems, Interpolator interpolator, Path baseDir) {}

    /**
     * A scalar value ready for parsing.
     *
     * @param text the value, references already replaced
     * @param quoted the value as a message shows something that is not what it should be: {@code 'imapx'}, {@code 1.5}
     * @param plain the value as a message shows a well-formed value that is out of range: {@code 70000}, {@code 0s}
     * @param fromReference whether {@code text} came from {@code ${env:...}} or {@code ${file:...}}
     */
    private record Scalar(String text, String quoted, String plain, boolean fromReference) {}

    private Node(JsonNode json, String path, Context context) {
        this.json = json == null || json.isNull() || json.isMissingNode() ? null : json;
        this.path = path;
        this.context = context;
    }

    static Node root(JsonNode json, Context context) {
        return new Node(json, "", context);
    }

    String path() {
        return path;
    }

    boolean isPresent() {
        return json != null;
    }

    Path baseDir() {
        return context.baseDir();
    }

    void problem(String message) {
        context.problems().add(path, message);
    }

    /** The value under {@code key} of this mapping (absent when this is not a mapping). */
    Node get(String key) {
        JsonNode child = json != null && json.isObject() ? json.get(key) : null;
        return new Node(child, path.isEmpty() ? key : path + "." + key, context);
    }

    /** Reports that this value is required when it is absent; returns this for chaining. */
    Node required() {
        if (json == null) {
            problem("is required");
        }
        return this;
    }

    /**
     * Whether this is a mapping to read keys from. Reports every key not in {@code keys} (suggesting the closest known
     * one) and a value that is not a mapping. Absent is not a mapping, and not a problem either.
     */
    boolean isMapping(List<String> keys) {
        if (json == null) {
            return false;
        }
        if (!json.isObject()) {
            problem(describe(json) + " is not a mapping");
            return false;
        }
        for (Iterator<String> names = json.fieldNames(); names.hasNext(); ) {
            String key = names.next();
            if (!keys.contains(key)) {
                String hint = Suggestions.closest(key, keys)
                        .map(s -> "did you mean '" + s + "'?")
                        .orElseGet(() -> "known keys: " + String.join(", ", keys));
                get(key).problem("unknown key (" + hint + ")");
            }
        }
        return true;
    }

    /** The elements of a list that must not be empty; reports an empty one, saying what belongs in it. */
    List<Node> nonEmptyList(String what) {
        if (json != null && json.isArray() && json.isEmpty()) {
            problem("is empty (" + what + ")");
        }
        return list();
    }

    /** Whether this says {@code off}: YAML 1.1 reads a bare {@code off} as false; quoted it stays text. */
    boolean isOff() {
        return json != null && (json.isBoolean() ? !json.booleanValue() : "off".equals(json.textValue()));
    }

    /** Whether this is present and a list. */
    boolean isList() {
        return json != null && json.isArray();
    }

    /** The elements of a list; empty (after a problem) when this is not a list, empty when absent. */
    List<Node> list() {
        if (json == null) {
            return List.of();
        }
        if (!json.isArray()) {
            problem(describe(json) + " is not a list");
            return List.of();
        }
        List<Node> elements = new ArrayList<>(json.size());
        for (int i = 0; i < json.size(); i++) {
            elements.add(new Node(json.get(i), path + "[" + i + "]", context));
        }
        return elements;
    }

    /** The entries of a mapping with free-form keys; empty when absent or (after a problem) not a mapping. */
    List<Map.Entry<String, Node>> entries() {
        if (json == null) {
            return List.of();
        }
        if (!json.isObject()) {
            problem(describe(json) + " is not a mapping");
            return List.of();
        }
        List<Map.Entry<String, Node>> entries = new ArrayList<>();
        json.fieldNames().forEachRemaining(key -> entries.add(Map.entry(key, get(key))));
        return entries;
    }

    /** Any scalar as text, references replaced; {@code what} names the expected thing in the problem. */
    String string(String what) {
        Scalar s = scalar(what);
        return s == null ? null : s.text();
    }

    /** A name of a listener or pool: {@code [a-z0-9][a-z0-9_-]*}. */
    String name() {
        Scalar s = scalar("a name");
        if (s == null) {
            return null;
        }
        if (!NAME.matcher(s.text()).matches()) {
            problem(s.quoted() + " is not a valid name (lowercase letters, digits, '-' and '_', starting with a letter"
                    + " or digit)");
            return null;
        }
        return s.text();
    }

    /** A whole number between {@code min} and {@code max}. */
    Integer integer(long min, long max) {
        Scalar s = scalar("a whole number");
        if (s == null) {
            return null;
        }
        Long value = parseLong(s);
        if (value == null) {
            problem(s.quoted() + " is not a whole number");
            return null;
        }
        if (value < min || value > max) {
            problem(s.plain() + " " + range(min, max));
            return null;
        }
        return value.intValue();
    }

    /** A TCP port, 1-65535. */
    Integer port() {
        Scalar s = scalar("a port (1-65535)");
        if (s == null) {
            return null;
        }
        Long value = parseLong(s);
        if (value == null || value < 1 || value > 65535) {
            problem((value == null ? s.quoted() : s.plain()) + " is not a port (1-65535)");
            return null;
        }
        return value.intValue();
    }

    Boolean bool() {
        Scalar s = scalar("true or false");
        if (s == null) {
            return null;
        }
        if (json.isBoolean() || s.text().equals("true") || s.text().equals("false")) {
            return Boolean.parseBoolean(s.text());
        }
        problem(s.quoted() + " is not true or false");
        return null;
    }

    /** One of the constants of {@code type}, written in lowercase with hyphens ({@code PROXY_V2} is {@code proxy-v2}). */
    <E extends Enum<E>> E oneOf(Class<E> type) {
        String expected =
                List.of(type.getEnumConstants()).stream().map(ConfigNames::of).collect(Collectors.joining(", "));
        Scalar s = scalar("one of " + expected);
        if (s == null) {
            return null;
        }
        // YAML 1.1 reads a bare off/no (on/yes) as a boolean: for an enum with an OFF (ON) constant that is the one.
        String text = json.isBoolean() ? (json.booleanValue() ? "on" : "off") : s.text();
        for (E constant : type.getEnumConstants()) {
            if (ConfigNames.of(constant).equals(text)
                    || ConfigNames.of(constant).equals(s.text())) {
                return constant;
            }
        }
        problem(s.quoted() + " is not one of " + expected);
        return null;
    }

    /** A duration; {@code positive} refuses zero (negative ones never parse). */
    Duration duration(boolean positive) {
        Scalar s = scalar("a duration");
        if (s == null) {
            return null;
        }
        Optional<Duration> d = Units.parseDuration(s.text());
        if (d.isEmpty()) {
            Long bare = parseLong(s);
            if (bare != null && bare < 0) {
                problem(s.plain() + " must be > 0");
                return null;
            }
            String hint = Units.unitOf(s.text())
                    .map(u -> "unit '" + u + "' is not one of " + Units.DURATION_UNITS)
                    .orElse("a number with ms, s, m, h or d, e.g. 30s; a bare number is seconds");
            problem(s.quoted() + " is not a duration (" + hint + ")");
            return null;
        }
        if (positive && d.get().isZero()) {
            problem(s.plain() + " must be > 0");
            return null;
        }
        return d.get();
    }

    /** A size in bytes between {@code min} and {@code max}. */
    Integer size(long min, long max) {
        Scalar s = scalar("a size");
        if (s == null) {
            return null;
        }
        OptionalLong bytes = Units.parseSize(s.text());
        if (bytes.isEmpty()) {
            String hint = Units.unitOf(s.text())
                    .map(u -> "unit '" + u + "' is not one of " + Units.SIZE_UNITS + "; sizes use binary units")
                    .orElse("bytes, or a number with KiB, MiB or GiB, e.g. 64KiB");
            problem(s.quoted() + " is not a size (" + hint + ")");
            return null;
        }
        long value = bytes.getAsLong();
        if (value > Integer.MAX_VALUE && max == Integer.MAX_VALUE) {
            problem(s.plain() + " is too large (at most " + Units.formatSize(max) + ")");
            return null;
        }
        if (value < min || value > max) {
            problem(s.plain()
                    + (max == Integer.MAX_VALUE
                            ? " must be >= " + Units.formatSize(min)
                            : " must be between " + Units.formatSize(min) + " and " + Units.formatSize(max)));
            return null;
        }
        return (int) value;
    }

    /** A {@code host:port}, {@code [v6]:port} or {@code *:port}. */
    HostPort hostPort() {
        Scalar s = scalar("host:port");
        if (s == null) {
            return null;
        }
        try {
            return HostPort.parse(s.text());
        } catch (IllegalArgumentException e) {
            // HostPort's message quotes the text: fine for a literal, not for a value that came from a reference.
            problem(s.fromReference() ? s.quoted() + " is not host:port ([v6]:port for IPv6)" : e.getMessage());
            return null;
        }
    }

    /** A file path; a relative one is relative to the configuration's directory. */
    Path filePath() {
        String text = string("a file path");
        if (text == null) {
            return null;
        }
        if (text.isBlank()) {
            problem("is empty (a file path)");
            return null;
        }
        return baseDir().resolve(text).normalize();
    }

    /** A file that must exist and be readable; a relative path is relative to the configuration's directory. */
    Path readableFile() {
        Path file = filePath();
        return file == null ? null : readable(file);
    }

    /** {@code file} (this node's value) when it exists and can be read. */
    Path readable(Path file) {
        if (!Files.exists(file)) {
            problem(file + " does not exist");
        } else if (!Files.isRegularFile(file)) {
            problem(file + " is not a regular file");
        } else if (!Files.isReadable(file)) {
            problem(file + " is not readable");
        } else {
            return file;
        }
        return null;
    }

    /** A secret: never shown in a message. */
    Secret secret() {
        Scalar s = scalar("a secret");
        return s == null ? null : Secret.of(s.text());
    }

    static String range(long min, long max) {
        return max == Integer.MAX_VALUE ? "must be >= " + min : "must be between " + min + " and " + max;
    }

    private Scalar scalar(String what) {
        if (json == null) {
            return null;
        }
        if (!json.isValueNode()) {
            problem(describe(json) + " is not " + what);
            return null;
        }
        if (!json.isTextual()) {
            String text = json.asText();
            return new Scalar(text, text, text, false);
        }
        String raw = json.textValue();
        Interpolator.Resolved resolved = context.interpolator().resolve(raw, path, context.problems());
        if (resolved == null) {
            return null;
        }
        if (resolved.substituted()) {
            // The value may be a secret: messages show where it came from instead.
            String shown = "the value of '" + raw + "'";
            return new Scalar(resolved.value(), shown, shown, true);
        }
        // Shown as written: a $${ escape is easier to find in the file that way.
        return new Scalar(resolved.value(), "'" + raw + "'", raw, false);
    }

    private Long parseLong(Scalar s) {
        if (json.isIntegralNumber()) {
            return json.canConvertToLong() ? json.longValue() : null;
        }
        if (json.isTextual() && s.text().matches("[-+]?\\d{1,18}")) {
            return Long.parseLong(s.text());
        }
        return null;
    }

    private static String describe(JsonNode node) {
        if (node.isObject()) {
            return "a mapping";
        }
        if (node.isArray()) {
            return "a list";
        }
        return node.isTextual() ? "'" + node.textValue() + "'" : node.asText();
    }
}
