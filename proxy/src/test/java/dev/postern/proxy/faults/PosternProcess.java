package dev.postern.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.testkit.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** The runnable jar in a process of its own (as an operator runs it), for faults that need a real process. */
final class PosternProcess implements AutoCloseable {
    final Process process;
    final List<String> output = new CopyOnWriteArrayList<>();

    private PosternProcess(Process process) {
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    output.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code java -jar postern.jar --config <yaml>} behind {@code prefix} (e.g. {@code prlimit --nofile=N}) and
     * waits until every listener in {@code listeners} is listening.
     */
    static PosternProcess start(Path dir, String yaml, List<String> prefix, String... listeners) throws IOException {
        Path jar = DevBackends.repoRoot().resolve("proxy/target/postern.jar");
        assertThat(jar).as("the runnable jar is built by 'mvn package'").exists();
        Path config = Files.writeString(Files.createTempFile(dir, "postern", ".yaml"), yaml);
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of("java", "-jar", jar.toString(), "--config", config.toString()));
        PosternProcess p = new PosternProcess(
                new ProcessBuilder(cmd).redirectErrorStream(true).start());
        for (String listener : listeners) {
            Await.until("Postern listening on " + listener, Duration.ofSeconds(30), () -> p.output.stream()
                    .anyMatch(l -> l.contains("listening: " + listener + " ")));
        }
        return p;
    }

    /** SIGTERM, as an init system stops a service. */
    void terminate() {
        process.toHandle().destroy();
    }

    boolean exited(Duration within) throws InterruptedException {
        return process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
