package dev.postern.config;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Replaces references in string values: {@code ${env:NAME}} by an environment variable and {@code ${file:PATH}} by a
 * file's content (one trailing newline stripped; a relative path is relative to the configuration's directory).
 * <code>$${</code> stands for a literal <code>${</code>. Problems name the variable or the file, never the value read, because
 * that is where secrets come from.
 */
final class Interpolator {
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final String HOW = "use ${env:NAME} or ${file:PATH}, or $${ for a literal ${";

    private final Function<String, String> env;
    private final Path baseDir;

    Interpolator(Function<String, String> env, Path baseDir) {
        this.env = Objects.requireNonNull(env, "env");
        this.baseDir = Objects.requireNonNull(baseDir, "baseDir");
    }

    /**
     * A string with its references replaced.
     *
     * @param value the result
     * @param substituted whether any reference was replaced (the value may then be a secret)
     */
    record Resolved(String value, boolean substituted) {}

    /** Resolves every reference in {@code raw}; null after reporting each one that cannot be resolved. */
    Resolved resolve(String raw, String path, Problems problems) {
        if (raw.indexOf('$') < 0) {
            return new Resolved(raw, false);
        }
        StringBuilder out = new StringBuilder(raw.length());
        boolean substituted = false;
        boolean failed = false;
        int i = 0;
        while (i < raw.length()) {
            char c = raw.charAt(i);
            if (raw.startsWith("$${", i)) {
                out.append("${");
                i += 3;
                continue;
            }
            if (!raw.startsWith("${", i)) {
                out.append(c);
                i++;
                continue;
            }
            int close = raw.indexOf('}', i + 2);
            if (close < 0) {
                problems.add(path, "'" + raw.substring(i) + "' is not closed by '}' (" + HOW + ")");
                return null;
            }
            String reference = raw.substring(i, close + 1);
            String body = raw.substring(i + 2, close);
            String value = lookUp(reference, body, path, problems);
            if (value == null) {
                failed = true;
            } else {
                out.append(value);
                substituted = true;
            }
            i = close + 1;
        }
        return failed ? null : new Resolved(out.toString(), substituted);
    }

    private String lookUp(String reference, String body, String path, Problems problems) {
        if (body.startsWith("env:")) {
            String name = body.substring(4);
            if (!ENV_NAME.matcher(name).matches()) {
                problems.add(
                        path, "'" + reference + "' does not name an environment variable ([A-Za-z_][A-Za-z0-9_]*)");
                return null;
            }
            String value = env.apply(name);
            if (value == null) {
                problems.add(path, "environment variable " + name + " is not set");
            }
            return value;
        }
        if (body.startsWith("file:")) {
            String name = body.substring(5);
            if (name.isBlank()) {
                problems.add(path, "'" + reference + "' does not name a file");
                return null;
            }
            return readFile(baseDir.resolve(name).normalize(), path, problems);
        }
        problems.add(path, "'" + reference + "' is not a reference (" + HOW + ")");
        return null;
    }

    private static String readFile(Path file, String path, Problems problems) {
        if (!Files.exists(file)) {
            problems.add(path, "file " + file + " does not exist");
            return null;
        }
        if (!Files.isRegularFile(file)) {
            problems.add(path, "file " + file + " is not a regular file");
            return null;
        }
        if (!Files.isReadable(file)) {
            problems.add(path, "file " + file + " is not readable");
            return null;
        }
        String content;
        try {
            content = Files.readString(file, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            problems.add(path, "file " + file + " is not UTF-8 text");
            return null;
        } catch (IOException e) {
            // The exception names the file and the cause (permissions, I/O), never the content.
            problems.add(
                    path, "file " + file + " cannot be read (" + e.getClass().getSimpleName() + ")");
            return null;
        }
        if (content.endsWith("\r\n")) {
            return content.substring(0, content.length() - 2);
        }
        if (content.endsWith("\n")) {
            return content.substring(0, content.length() - 1);
        }
        return content;
    }
}
