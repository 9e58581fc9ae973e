package dev.postern.proxy.managesieve;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.proxy.testing.DevBackends;
import dev.postern.proxy.testing.FreePorts;
import dev.postern.proxy.testing.PosternHarness;
import dev.postern.proxy.testing.Processes;
import dev.postern.proxy.testing.TestUsers;
import dev.postern.testkit.Await;
import dev.postern.testkit.TestCertificates;
import dev.postern.testkit.TestCertificates.KeyFormat;
import dev.postern.testkit.TestCertificates.KeyType;
import dev.postern.testkit.TestCertificates.PemFiles;
import dev.postern.testkit.TestTls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Postern's ManageSieve front end between real clients (sieve-connect, openssl s_client, a Python socket client) and
 * the real Dovecot managesieve of {@code scripts/dev-backends.sh}: scripts uploaded through Postern are what doveadm
 * finds in the user's Sieve storage.
 */
class ManageSieveDovecotIT {
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(60);

    private static Path dir;
    private static Path caFile;
    private static PosternHarness postern;
    private static PemFiles aliceCertificate;

    /** A small ManageSieve client on Python's socket and ssl modules: lines, literals, STARTTLS. */
    private static final String PY_PRELUDE =
            """
            import base64, re, socket, ssl, sys
            CA = sys.argv[1]
            PORT = int(sys.argv[2])
            def b64(s):
                return base64.b64encode(s.encode()).decode()
            class Sieve:
                def __init__(self, port=PORT, source=None):
                    self.sock = socket.create_connection(("127.0.0.1", port), 30, (source, 0) if source else None)
                    self.f = self.sock.makefile("rb")
                def send(self, data):
                    self.sock.sendall(data.encode())
                def response(self):
                    lines = []
                    while True:
                        raw = self.f.readline()
                        if not raw:
                            return lines + ["<EOF>"]
                        line = raw.decode().rstrip("\\r\\n")
                        lines.append(line)
                        m = re.search(r"\\{(\\d+)\\+?\\}$", line)
                        if m:
                            lines.append(self.f.read(int(m.group(1))).decode())
                        elif re.match(r"(?i)(OK|NO|BYE)\\b", line):
                            return lines
                def cmd(self, line):
                    self.send(line + "\\r\\n")
                    return self.response()
                def starttls(self, cert=None, key=None):
                    go = self.cmd("STARTTLS")
                    ctx = ssl.create_default_context(cafile=CA)
                    if cert:
                        ctx.load_cert_chain(cert, key)
                    self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")
                    self.f = self.sock.makefile("rb")
                    return go + self.response()
                def literal(self, s):
                    return "{%d+}\\r\\n%s" % (len(s.encode()), s)
            """;

    @BeforeAll
    static void start() throws Exception {
        DevBackends.ensureStarted();
        dir = Files.createTempDirectory("managesieve-it");
        TestTls tls = TestTls.localhost();
        caFile = tls.writeCa(dir.resolve("ca.pem"));
        TestUsers.write(dir);
        TestCertificates clientCa = TestCertificates.newAuthority();
        aliceCertificate =
                clientCa.issue(KeyType.EC_P256, "Alice", DevBackends.ALICE).write(dir, "alice", KeyFormat.PKCS8, null);
        clientCa.writeCaCertificate(dir.resolve("clients-ca.pem"));
        String yaml =
                """
                listeners:
                  - {name: sieve, protocol: managesieve, bind: "127.0.0.1:%d", tls: starttls, pool: dovecot}
                  - {name: plain, protocol: managesieve, bind: "127.0.0.1:%d", pool: xclient, allow-plaintext-auth: true}
                  - {name: be-starttls, protocol: managesieve, bind: "127.0.0.1:%d", pool: be-starttls, allow-plaintext-auth: true}
                  - {name: master, protocol: managesieve, bind: "127.0.0.1:%d", pool: master, allow-plaintext-auth: true, auth: [local]}
                  - {name: cert, protocol: managesieve, bind: "127.0.0.1:%d", tls: starttls, pool: master, auth: [local],
                     client-certificates: {mode: optional, ca: clients-ca.pem}}
                pools:
                  - {name: dovecot, backends: [{address: "127.0.0.1:%d"}]}
                  - {name: xclient, backends: [{address: "127.0.0.1:%d", identity: xclient}]}
                  - {name: be-starttls, backends: [{address: "127.0.0.1:%d", tls: starttls, tls-verify: false}]}
                  - {name: master, backends: [{address: "127.0.0.1:%d", master-user: %s, master-password: %s}]}
                auth:
                  providers:
                    - {name: local, type: static, file: users.txt}
                """
                                .formatted(
                                        FreePorts.next(),
                                        FreePorts.next(),
                                        FreePorts.next(),
                                        FreePorts.next(),
                                        FreePorts.next(),
                                        DevBackends.SIEVE,
                                        DevBackends.SIEVE,
                                        DevBackends.SIEVE,
                                        DevBackends.SIEVE,
                                        DevBackends.MASTER_USER,
                                        DevBackends.MASTER_PASSWORD)
                        + PosternHarness.tlsYaml(tls.write(dir));
        postern = PosternHarness.start(yaml, dir);
    }

    @AfterAll
    static void stop() {
        if (postern != null) {
            postern.close();
        }
    }

    private static Processes.Result python(String listener, String body, String... more) {
        String[] args = new String[2 + more.length];
        args[0] = caFile.toString();
        args[1] = String.valueOf(postern.port(listener));
        System.arraycopy(more, 0, args, 2, more.length);
        Processes.Result r = Processes.python(CLIENT_TIMEOUT, PY_PRELUDE + body, args);
        assertThat(r.exitCode()).as("python client\n%s", r).isZero();
        return r;
    }

    private static String uniqueName() {
        return "postern-it-" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    }

    private static String doveadmSieve(String... args) {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "sieve";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Processes.Result r = DevBackends.doveadm(cmd);
        assertThat(r.exitCode()).as("doveadm sieve\n%s", r).isZero();
        return r.stdout();
    }

    @Test
    void sieveConnectUploadsActivatesListsAndDownloadsAScriptThatDoveadmFinds() throws Exception {
        String name = uniqueName();
        String script =
                "require \"fileinto\";\nif header :contains \"Subject\" \"" + name + "\" {\n  fileinto \"INBOX\";\n}\n";
        Path local = Files.writeString(dir.resolve(name + ".sieve"), script, StandardCharsets.UTF_8);
        Path downloaded = dir.resolve(name + ".down");
        Path exec = Files.writeString(
                dir.resolve(name + ".exec"),
                "put " + local + " " + name + "\nactivate " + name + "\nlist\nget " + name + " " + downloaded
                        + "\nquit\n");
        Processes.Result r = Processes.runWithInput(
                CLIENT_TIMEOUT,
                DevBackends.ALICE_PASSWORD + "\n",
                "sieve-connect",
                "--4",
                "--server",
                "localhost",
                "--port",
                String.valueOf(postern.port("sieve")),
                "--tlscafile",
                caFile.toString(),
                "--user",
                DevBackends.ALICE,
                "--passwordfd",
                "0",
                "--exec",
                exec.toString());
        assertThat(r.exitCode()).as("sieve-connect\n%s", r).isZero();
        assertThat(r.stdout()).as("%s", r).contains(name);
        assertThat(Files.readString(downloaded, StandardCharsets.UTF_8)).isEqualTo(script);
        // Dovecot's own view of alice's Sieve storage: the script, active, with what was uploaded
        assertThat(doveadmSieve("list", "-u", DevBackends.ALICE)).containsPattern(name + "\\s+ACTIVE");
        assertThat(doveadmSieve("get", "-u", DevBackends.ALICE, name)).contains("\"" + name + "\"");
        postern.awaitNoSessions();
    }

    @Test
    void aPythonClientUsesLiteralsAndTheClientsAddressReachesDovecotByXclient() {
        String name = uniqueName();
        String source = "127." + ThreadLocalRandom.current().nextInt(20, 250) + "."
                + ThreadLocalRandom.current().nextInt(1, 250) + "."
                + ThreadLocalRandom.current().nextInt(2, 250);
        String[] last = new String[1];
        // the probe at start learns Dovecot's Sieve extensions for the greeting
        Await.until("the greeting lists Dovecot's Sieve extensions", Duration.ofSeconds(20), () -> {
            last[0] = python("plain", "print('greeting:', Sieve().response())").stdout();
            return last[0].contains("fileinto");
        });
        assertThat(last[0]).contains("'\"IMPLEMENTATION\" \"Postern\"'", "'OK \"Postern ready.\"'");
        Processes.Result r = python(
                "plain",
                """
                s = Sieve(source=sys.argv[3])
                s.response()
                name = sys.argv[4]
                print("wrong:", s.cmd('AUTHENTICATE "PLAIN" "%s"' % b64("\\0bob@example.test\\0nope")))
                print("auth:", s.cmd('AUTHENTICATE "PLAIN" ' + s.literal(b64("\\0bob@example.test\\0bob-pw"))))
                print("put:", s.cmd('PUTSCRIPT "%s" ' % name + s.literal('keep;\\r\\n')))
                print("active:", s.cmd('SETACTIVE "%s"' % name))
                print("list:", s.cmd("LISTSCRIPTS"))
                print("get:", s.cmd('GETSCRIPT "%s"' % name))
                print("capability:", s.cmd("CAPABILITY"))
                print("logout:", s.cmd("LOGOUT"))
                """,
                source,
                name);
        assertThat(r.stdout())
                .contains("wrong: ['NO \"Authentication failed.\"']")
                .contains("auth: ['OK \"Logged in.\"']")
                .contains("put: ['OK")
                .contains("active: ['OK")
                .contains("'\"" + name + "\" ACTIVE'")
                .contains("'keep;\\r\\n'")
                // after login the backend answers: its own implementation and its post-login extensions
                .contains("Dovecot (Debian) Pigeonhole")
                .contains("logout: ['OK");
        assertThat(doveadmSieve("list", "-u", DevBackends.BOB)).containsPattern(name + "\\s+ACTIVE");
        Await.until("Dovecot logs the login from " + source, Duration.ofSeconds(10), () -> DevBackends.dovecotLog()
                .lines()
                .anyMatch(l -> l.contains("managesieve-login: Info: Login: user=<bob@example.test>")
                        && l.contains("rip=" + source + ",")));
    }

    @Test
    void startTlsInjectionIsRefusedAndNoCredentialsGoInClearText() {
        Processes.Result r = python(
                "sieve",
                """
                s = Sieve()
                print("greeting:", s.response())
                print("clear:", s.cmd('AUTHENTICATE "PLAIN" "%s"' % b64("\\0alice@example.test\\0alice-pw")))
                s.send('STARTTLS\\r\\nAUTHENTICATE "PLAIN" "%s"\\r\\n' % b64("\\0alice@example.test\\0alice-pw"))
                print("injected:", s.response())
                """);
        assertThat(r.stdout())
                .contains("'\"SASL\" \"\"'", "'\"STARTTLS\"'")
                .contains("clear: ['NO (ENCRYPT-NEEDED) \"Use STARTTLS first.\"']")
                // neither the go-ahead nor an answer to the injected AUTHENTICATE: the connection just ends
                .contains("injected: ['<EOF>']");
        postern.awaitNoSessions();
    }

    @Test
    void opensslStartTlsThenCapabilitiesWithoutStartTls() {
        Processes.Result r = Processes.runWithInput(
                CLIENT_TIMEOUT,
                "CAPABILITY\nLOGOUT\n",
                "openssl",
                "s_client",
                "-quiet",
                "-crlf",
                "-starttls",
                "sieve",
                "-connect",
                "127.0.0.1:" + postern.port("sieve"),
                "-servername",
                "localhost",
                "-verify_return_error",
                "-CAfile",
                caFile.toString());
        assertThat(r.stdout())
                .as("%s", r)
                .contains("\"SASL\" \"PLAIN LOGIN XOAUTH2 OAUTHBEARER\"", "OK \"Capability completed.\"")
                .contains("OK \"Logout completed.\"")
                .doesNotContain("\"STARTTLS\"");
    }

    @Test
    void theBackendCanBeReachedWithStartTlsAndAMasterUserLogsInForTheUser() {
        for (String listener : new String[] {"be-starttls", "master"}) {
            Processes.Result r = python(
                    listener,
                    """
                    s = Sieve()
                    s.response()
                    print("auth:", s.cmd('AUTHENTICATE "PLAIN" "%s"' % b64("\\0alice@example.test\\0alice-pw")))
                    print("list:", s.cmd("LISTSCRIPTS"))
                    s.cmd("LOGOUT")
                    """);
            assertThat(r.stdout())
                    .as(listener)
                    .contains("auth: ['OK \"Logged in.\"']")
                    .contains("'OK \"Listscripts completed.\"'");
        }
    }

    @Test
    void aClientCertificateLogsInWithSaslExternalAfterStartTls() {
        Processes.Result r = python(
                "cert",
                """
                s = Sieve()
                s.response()
                after = s.starttls(sys.argv[3], sys.argv[4])
                print("sasl:", [l for l in after if l.startswith('"SASL"')])
                print("auth:", s.cmd('AUTHENTICATE "EXTERNAL" ""'))
                print("list:", s.cmd("LISTSCRIPTS"))
                s.cmd("LOGOUT")
                """,
                aliceCertificate.cert().toString(),
                aliceCertificate.key().toString());
        assertThat(r.stdout())
                .contains("sasl: ['\"SASL\" \"PLAIN LOGIN XOAUTH2 OAUTHBEARER EXTERNAL\"']")
                .contains("auth: ['OK \"Logged in.\"']")
                .contains("'OK \"Listscripts completed.\"'");
    }
}
