package dev.postern.proxy.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the {@code openssl} command line tool, with a deadline, for tests that want a real external client. */
final class OpenSslCli {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private OpenSslCli() {}

    /**
     * The exit code and everything the tool printed.
     *
     * @param exitCode the process's exit code
     * @param output stdout and stderr, interleaved
     */
    record Result(int exitCode, String output) {}

    static boolean available() {
        try {
            return run(List.of("version"), "").exitCode() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** Runs {@code openssl ARGS}, feeding {@code stdin} and closing it. */
    static Result run(List<String> arguments, String stdin) throws IOException {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(arguments);
        Path output = Files.createTempFile("openssl", ".out");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            process.getOutputStream().close();
            boolean exited;
            try {
                exited = process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                exited = false;
            }
            if (!exited) {
                process.destroyForcibly();
                throw new AssertionError("openssl did not finish within " + TIMEOUT + ": " + command);
            }
            return new Result(process.exitValue(), Files.readString(output, StandardCharsets.ISO_8859_1));
        } finally {
            Files.deleteIfExists(output);
        }
    }

    /** Like {@link #run}, failing the test unless the tool exits with 0. */
    static String runOk(String... arguments) throws IOException {
        Result result = run(List.of(arguments), "");
        if (result.exitCode() != 0) {
            throw new AssertionError("openssl " + String.join(" ", arguments) + " failed: " + result.output());
        }
        return result.output();
    }
}
