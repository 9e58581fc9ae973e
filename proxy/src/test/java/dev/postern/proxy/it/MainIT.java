package dev.postern.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.Processes;
import dev.postern.testkit.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runnable jar as an operator uses it: {@code java -jar proxy/target/postern.jar ...}. */
class MainIT {
    @TempDir
    Path dir;

    private static Path jar() {
        Path jar = DevBackends.repoRoot().resolve("proxy/target/postern.jar");
        assertThat(jar).as("the runnable jar is built by 'mvn package'").exists();
        return jar;
    }

    private static Processes.Result postern(String... args) {
        String[] cmd = new String[args.length + 3];
        cmd[0] = "java";
        cmd[1] = "-jar";
        cmd[2] = jar().toString();
        System.arraycopy(args, 0, cmd, 3, args.length);
        return Processes.run(Duration.ofSeconds(60), cmd);
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    @Test
    void checkAcceptsTheShippedDevConfig() {
        Processes.Result r = postern(
                "--check",
                "--config",
                DevBackends.repoRoot().resolve("config/dev.yaml").toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("dev.yaml: OK");
    }

    @Test
    void checkReportsEveryProblemWithItsPathAndNoStackTrace() throws IOException {
        Path config = write(
                "bad.yaml",
                """
                listeners:
                  - {name: a, protocol: tcp, bind: "127.0.0.1:70000", pool: p}
                  - {name: b, protocl: imap, bind: "127.0.0.1:1143"}
                  - {name: c, protocol: imap, bind: "127.0.0.1:1144", proxy-protocol: {mode: required, trusted: [10.0.0.0/33]}}
                pools:
                  - {name: p, backends: [{address: "127.0.0.1:2143"}]}
                """);
        Processes.Result r = postern("--check", "--config", config.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr())
                .contains("listeners[0].bind: 70000 is not a port (1-65535)")
                .contains("listeners[1].protocl: unknown key (did you mean 'protocol'?)")
                .contains("listeners[2].proxy-protocol.trusted[0]: '10.0.0.0/33' has a bad prefix length (0-32 for this"
                        + " address)")
                .doesNotContain("Exception")
                .doesNotContain("\tat ");
    }

    @Test
    void anUnreadableKeyIsOneLineNamingTheFile() throws IOException {
        Path cert = write("cert.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
        Path key = write("key.pem", "garbage\n");
        Path config = write(
                "tls.yaml",
                """
                listeners:
                  - {name: a, protocol: tcp, bind: "127.0.0.1:%d", tls: implicit, pool: p}
                tls:
                  certificates:
                    - {cert: %s, key: %s}
                pools:
                  - {name: p, backends: [{address: "127.0.0.1:2143"}]}
                """
                        .formatted(FreePorts.next(), cert, key));
        Processes.Result r = postern("--config", config.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        List<String> lines = r.stderr().lines().toList();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).startsWith("postern: ").contains(cert.toString());
    }

    @Test
    void aTakenPortIsOneLineNamingTheListenerAndAddress() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path config = write(
                    "taken.yaml",
                    """
                    listeners:
                      - {name: imaps, protocol: tcp, bind: "127.0.0.1:%d", pool: p}
                    pools:
                      - {name: p, backends: [{address: "127.0.0.1:2143"}]}
                    """
                            .formatted(taken.getLocalPort()));
            Processes.Result r = postern("--config", config.toString());
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.stderr().strip())
                    .isEqualTo("postern: listener 'imaps': cannot bind 127.0.0.1:" + taken.getLocalPort()
                            + ": Address already in use");
        }
    }

    @Test
    void aMissingConfigFileOrArgumentIsAnError() {
        Processes.Result missing = postern("--config", dir.resolve("nope.yaml").toString());
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.stderr()).contains("nope.yaml: no such file");
        Processes.Result none = postern();
        assertThat(none.exitCode()).isEqualTo(1);
        assertThat(none.stderr()).contains("usage: postern");
    }

    @Test
    void sigtermStopsAcceptingAndLetsLiveSessionsFinish() throws Exception {
        DevBackends.ensureStarted();
        int port = FreePorts.next();
        Path config = write(
                "run.yaml",
                """
                listeners:
                  - {name: imap, protocol: tcp, bind: "127.0.0.1:%d", tls: none, pool: imap}
                pools:
                  - {name: imap, backends: [{address: "127.0.0.1:%d"}]}
                timeouts: {shutdown-grace: 30s}
                """
                        .formatted(port, DevBackends.IMAP));
        Process p = new ProcessBuilder("java", "-jar", jar().toString(), "--config", config.toString())
                .redirectErrorStream(true)
                .start();
        List<String> output = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    output.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        reader.start();
        try {
            Await.until("Postern listening", Duration.ofSeconds(30), () -> output.stream()
                    .anyMatch(l -> l.contains("listening: imap tcp on 127.0.0.1:" + port)));
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                s.setSoTimeout(10_000);
                BufferedReader in =
                        new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                OutputStream out = s.getOutputStream();
                assertThat(in.readLine()).startsWith("* OK");

                p.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
                Await.until("new connections refused", Duration.ofSeconds(10), () -> {
                    try (Socket probe = new Socket()) {
                        probe.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
                        return false;
                    } catch (ConnectException e) {
                        return true;
                    } catch (IOException e) {
                        return false;
                    }
                });
                assertThat(p.isAlive()).as("still serving the live session").isTrue();
                out.write("a1 LOGIN alice@example.test alice-pw\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String line;
                do {
                    line = in.readLine();
                } while (line != null && !line.startsWith("a1 "));
                assertThat(line).startsWith("a1 OK");
                out.write("a2 LOGOUT\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            assertThat(p.waitFor(20, TimeUnit.SECONDS))
                    .as("exits once the session ended")
                    .isTrue();
            reader.join(5000);
            assertThat(output).anyMatch(l -> l.contains("shutting down: stopped accepting"));
            assertThat(output).anyMatch(l -> l.contains("session ") && l.contains("closed: listener=imap"));
            assertThat(output).anyMatch(l -> l.contains("stopped"));
        } finally {
            p.destroyForcibly();
        }
    }
}
