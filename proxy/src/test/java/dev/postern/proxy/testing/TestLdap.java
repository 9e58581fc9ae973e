package dev.postern.proxy.testing;

import dev.postern.testkit.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private OpenLDAP (Debian's {@code slapd}) on free loopback ports, with a {@code slapd.conf} and an mdb database of
 * its own in a temporary directory, never the system's: suffix {@code dc=example,dc=test}, the core, cosine and
 * inetOrgPerson schemas plus a small test schema ({@code posternUser} with {@code posternPool}, {@code mailHost},
 * {@code mailPort}, {@code posternLogin} and {@code posternMaster}), the entries given loaded with {@code slapadd}
 * before the start. Started with a certificate it takes LDAPS on a second port and StartTLS on the plain one. Passwords are readable by nobody and usable for
 * binds only. Stop it and start it again on the same ports to play an outage.
 */
public final class TestLdap implements AutoCloseable {
    public static final String SUFFIX = "dc=example,dc=test";
    public static final String PEOPLE = "ou=people," + SUFFIX;
    /** A service account that may search (every entry is readable, passwords are not). */
    public static final String SERVICE_DN = "cn=postern,ou=services," + SUFFIX;

    public static final String SERVICE_PASSWORD = "service-pw";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    private static final String SCHEMA =
            """
            attributetype ( 1.3.6.1.4.1.32473.1.1.1 NAME 'posternPool' DESC 'the Postern pool of a user'
              EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
            attributetype ( 1.3.6.1.4.1.32473.1.1.2 NAME 'mailHost' DESC 'the backend host of a user'
              EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
            attributetype ( 1.3.6.1.4.1.32473.1.1.3 NAME 'mailPort' DESC 'the backend port of a user'
              EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
            attributetype ( 1.3.6.1.4.1.32473.1.1.4 NAME 'posternLogin' DESC 'the name to log in with on the backend'
              EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
            attributetype ( 1.3.6.1.4.1.32473.1.1.5 NAME 'posternMaster' DESC 'the master user to log in as'
              EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
            objectclass ( 1.3.6.1.4.1.32473.1.2.1 NAME 'posternUser' SUP top AUXILIARY
              MAY ( posternPool $ mailHost $ mailPort $ posternLogin $ posternMaster ) )
            """;
    private static final String BASE_ENTRIES =
            """
            dn: dc=example,dc=test
            objectClass: dcObject
            objectClass: organization
            o: example
            dc: example

            dn: ou=people,dc=example,dc=test
            objectClass: organizationalUnit
            ou: people

            dn: ou=services,dc=example,dc=test
            objectClass: organizationalUnit
            ou: services

            dn: cn=postern,ou=services,dc=example,dc=test
            objectClass: simpleSecurityObject
            objectClass: organizationalRole
            cn: postern
            userPassword: service-pw

            """;

    private final Path dir;
    private final int port;
    private final int tlsPort;
    private Process process;

    private TestLdap(Path dir, int port, int tlsPort) {
        this.dir = dir;
        this.port = port;
        this.tlsPort = tlsPort;
    }

    /** A person entry for {@code mail} ({@code uid} its part before @) with {@code password} and extra lines. */
    public static String person(String mail, String password, String... extra) {
        String uid = mail.substring(0, mail.indexOf('@'));
        StringBuilder ldif = new StringBuilder("dn: uid=" + uid + "," + PEOPLE + "\n"
                + "objectClass: inetOrgPerson\nobjectClass: posternUser\n"
                + "uid: " + uid + "\ncn: " + uid + "\nsn: " + uid + "\nmail: " + mail + "\nuserPassword: " + password
                + "\n");
        for (String line : extra) {
            ldif.append(line).append('\n');
        }
        return ldif.append('\n').toString();
    }

    /** A directory with {@code entries} (LDIF) below the base entries, plain LDAP only. */
    public static TestLdap start(String entries) {
        return start(entries, null, null);
    }

    /** A directory that also takes LDAPS on {@link #ldapsUrl()} with the chain {@code cert} and its key (PEM). */
    public static TestLdap start(String entries, Path cert, Path key) {
        Path dir;
        try {
            dir = Files.createTempDirectory("postern-ldap-");
            Files.createDirectories(dir.resolve("db"));
            Files.writeString(dir.resolve("postern.schema"), SCHEMA);
            Files.writeString(dir.resolve("data.ldif"), BASE_ENTRIES + entries);
            Files.write(dir.resolve("slapd.conf"), config(dir, cert, key));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Processes.Result load = Processes.run(
                Duration.ofSeconds(30),
                "/usr/sbin/slapadd",
                "-f",
                dir.resolve("slapd.conf").toString(),
                "-l",
                dir.resolve("data.ldif").toString());
        if (load.exitCode() != 0) {
            throw new AssertionError("slapadd failed: " + load);
        }
        AssertionError last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            TestLdap ldap = new TestLdap(dir, FreePorts.next(), cert == null ? 0 : FreePorts.next());
            try {
                ldap.startProcess();
                return ldap;
            } catch (AssertionError e) {
                // most likely a port taken between choosing and binding it: choose again
                last = e;
            }
        }
        throw last;
    }

    private static List<String> config(Path dir, Path cert, Path key) {
        List<String> lines = new ArrayList<>(List.of(
                "include /etc/ldap/schema/core.schema",
                "include /etc/ldap/schema/cosine.schema",
                "include /etc/ldap/schema/inetorgperson.schema",
                "include " + dir.resolve("postern.schema"),
                "pidfile " + dir.resolve("slapd.pid"),
                "modulepath /usr/lib/ldap",
                "moduleload back_mdb"));
        if (cert != null) {
            lines.add("TLSCertificateFile " + cert);
            lines.add("TLSCertificateKeyFile " + key);
        }
        lines.addAll(List.of(
                "database mdb",
                "suffix \"" + SUFFIX + "\"",
                "directory " + dir.resolve("db"),
                "maxsize 10485760",
                "access to attrs=userPassword by anonymous auth by * none",
                "access to * by * read"));
        return lines;
    }

    /** {@code ldap://127.0.0.1:PORT}. */
    public String ldapUrl() {
        return ldapUrl("127.0.0.1");
    }

    /** {@code ldap://HOST:PORT}, for a name or address of the loopback ({@code localhost}, {@code 127.0.0.1}). */
    public String ldapUrl(String host) {
        return "ldap://" + host + ":" + port;
    }

    /** {@code ldaps://localhost:PORT}: by name, as the certificate says. */
    public String ldapsUrl() {
        return ldapsUrl("localhost");
    }

    /** {@code ldaps://HOST:PORT}, for a name or address of the loopback. */
    public String ldapsUrl(String host) {
        if (tlsPort == 0) {
            throw new IllegalStateException("this directory takes no LDAPS");
        }
        return "ldaps://" + host + ":" + tlsPort;
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Stops the server at once (SIGKILL). */
    public void stop() {
        if (process != null) {
            process.destroyForcibly();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    throw new AssertionError("slapd did not exit");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** Starts the server again on the same ports, with the same data. */
    public void restart() {
        if (isRunning()) {
            throw new IllegalStateException("slapd is still running");
        }
        startProcess();
    }

    private void startProcess() {
        List<String> urls = new ArrayList<>(List.of("ldap://127.0.0.1:" + port + "/"));
        if (tlsPort != 0) {
            urls.add("ldaps://127.0.0.1:" + tlsPort + "/");
        }
        try {
            // -d 0: in the foreground, so the test owns the process and its end
            process = new ProcessBuilder(
                            "/usr/sbin/slapd",
                            "-f",
                            dir.resolve("slapd.conf").toString(),
                            "-h",
                            String.join(" ", urls),
                            "-d",
                            "0")
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("slapd.out").toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Await.until("slapd on port " + port + " listens", START_TIMEOUT, () -> {
                if (!process.isAlive()) {
                    throw new AssertionError("slapd did not start:\n" + read());
                }
                return listening(port) && (tlsPort == 0 || listening(tlsPort));
            });
        } catch (AssertionError e) {
            process.destroyForcibly();
            throw new AssertionError(e.getMessage() + "\n" + read(), e);
        }
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private String read() {
        try {
            return Files.readString(dir.resolve("slapd.out"));
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    @Override
    public void close() {
        stop();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory left behind is not worth failing a test for
        }
    }
}
