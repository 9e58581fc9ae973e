package dev.postern.proxy.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs real client programs (curl, openssl, python3, swaks) with a deadline and captures what they print. */
public final class Processes {
    private Processes() {}

    /**
     * What a finished program printed.
     *
     * @param exitCode its exit code
     * @param stdout standard output
     * @param stderr standard error
     */
    public record Result(int exitCode, String stdout, String stderr) {
        public String all() {
            return stdout + stderr;
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    public static Result run(Duration timeout, String... command) {
        return run(timeout, Map.of(), null, null, command);
    }

    public static Result runWithInput(Duration timeout, String stdin, String... command) {
        return run(timeout, Map.of(), null, stdin, command);
    }

    /** Runs {@code command}; fails the test when it does not end within {@code timeout}. */
    public static Result run(Duration timeout, Map<String, String> env, Path workDir, String stdin, String... command) {
        ProcessBuilder pb = new ProcessBuilder(List.of(command));
        pb.environment().putAll(env);
        if (workDir != null) {
            pb.directory(workDir.toFile());
        }
        try {
            Process p = pb.start();
            if (stdin != null) {
                p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            p.getOutputStream().close();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Thread t1 = pump(p.getInputStream(), out);
            Thread t2 = pump(p.getErrorStream(), err);
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                t1.join(1000);
                t2.join(1000);
                throw new AssertionError("command did not finish within " + timeout + ": " + String.join(" ", command)
                        + "\n--- stdout\n" + out.toString(StandardCharsets.UTF_8) + "\n--- stderr\n"
                        + err.toString(StandardCharsets.UTF_8));
            }
            t1.join();
            t2.join();
            return new Result(
                    p.exitValue(), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static Thread pump(InputStream in, ByteArrayOutputStream sink) {
        Thread t = new Thread(() -> {
            try (in) {
                in.transferTo(sink);
            } catch (IOException ignored) {
                // the process went away; what was read is kept
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Runs a python3 script given as text, with arguments. */
    public static Result python(Duration timeout, String script, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("python3");
        cmd.add("-c");
        cmd.add(script);
        cmd.addAll(List.of(args));
        return run(timeout, cmd.toArray(String[]::new));
    }
}
