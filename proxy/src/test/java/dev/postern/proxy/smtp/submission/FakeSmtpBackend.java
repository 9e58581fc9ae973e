package dev.postern.proxy.smtp.submission;

import dev.postern.testkit.Conversation;
import dev.postern.testkit.FakeLineBackend;
import dev.postern.testkit.TestCertificates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * A scripted SMTP submission server, the kit's {@link FakeLineBackend} with SMTP's replies: for what the real
 * backends cannot be made to do (inject bytes after its STARTTLS go-ahead, read a PROXY header before implicit TLS,
 * offer arbitrary keywords). Every line it receives is recorded (AUTH lines too: the test knows its own fake
 * passwords).
 */
final class FakeSmtpBackend implements AutoCloseable {
    /** The password the fake accepts for every user. */
    static final String PASSWORD = "fake-pw";

    private final FakeLineBackend backend;
    final List<String> received;
    final List<byte[]> proxyHeaders;

    private FakeSmtpBackend(FakeLineBackend backend) {
        this.backend = backend;
        this.received = backend.received();
        this.proxyHeaders = backend.proxyHeaders();
    }

    static Builder builder() {
        return new Builder();
    }

    /** How the fake behaves. */
    static final class Builder {
        private SSLContext tls;
        private final List<String> keywords = new ArrayList<>();
        private boolean inject;
        private boolean implicitTls;
        private boolean proxyHeader;

        /** Offers STARTTLS with a certificate from {@code ca}. */
        Builder tls(TestCertificates ca) {
            this.tls = ca.issue(TestCertificates.KeyType.EC_P256, "localhost", "localhost")
                    .serverSslContext();
            return this;
        }

        /** EHLO keywords offered besides STARTTLS (which is offered when TLS is set up and not on yet). */
        Builder keywords(String... lines) {
            keywords.addAll(List.of(lines));
            return this;
        }

        /** Answers STARTTLS with {@code 220 go} and {@code 250 injected} in one write. */
        Builder injectAfterStartTls() {
            this.inject = true;
            return this;
        }

        /** Speaks TLS from the first byte (after the PROXY header, if one is expected). */
        Builder implicitTls() {
            this.implicitTls = true;
            return this;
        }

        /** Expects a PROXY v2 header before anything else. */
        Builder proxyHeader() {
            this.proxyHeader = true;
            return this;
        }

        FakeSmtpBackend start() throws IOException {
            FakeLineBackend.Builder b = FakeLineBackend.builder()
                    .greeting("220 fake.backend ESMTP")
                    .on("EHLO", this::ehlo)
                    .on("STARTTLS", (c, line) -> {
                        c.write(inject ? "220 go\r\n250 injected\r\n" : "220 go\r\n");
                        c.startTls();
                    })
                    .on("XCLIENT", "220 fake.backend ESMTP after XCLIENT")
                    .on(
                            "AUTH",
                            (c, line) -> c.send(auth(line) ? "235 2.7.0 Authentication successful" : "535 5.7.8 no"))
                    .on("MAIL", "250 2.1.0 fake sender ok")
                    .on("RCPT", "250 2.1.5 fake recipient ok")
                    .on("DATA", (c, line) -> {
                        c.send("354 go ahead");
                        String l;
                        while ((l = c.line()) != null && !l.equals(".")) {
                            // recorded by the conversation
                        }
                        c.send("250 2.0.0 fake queued");
                    })
                    .on("QUIT", (c, line) -> c.sendAndClose("221 2.0.0 fake bye"))
                    .otherwise("250 2.0.0 fake ok");
            if (tls != null) {
                b.tls(tls);
            }
            if (implicitTls) {
                b.implicitTls();
            }
            if (proxyHeader) {
                b.proxyHeader();
            }
            return new FakeSmtpBackend(b.start());
        }

        private void ehlo(Conversation c, String line) throws IOException {
            List<String> lines = new ArrayList<>();
            lines.add("fake.backend");
            lines.addAll(keywords);
            if (tls != null && !c.isTls() && !implicitTls) {
                lines.add("STARTTLS");
            }
            String[] reply = new String[lines.size()];
            for (int i = 0; i < reply.length; i++) {
                reply[i] = (i == reply.length - 1 ? "250 " : "250-") + lines.get(i);
            }
            c.send(reply);
        }
    }

    int port() {
        return backend.port();
    }

    private static boolean auth(String line) {
        String[] parts = line.split(" ");
        if (parts.length != 3 || !parts[1].equalsIgnoreCase("PLAIN")) {
            return false;
        }
        String message = new String(Base64.getDecoder().decode(parts[2]), StandardCharsets.UTF_8);
        return message.endsWith("\0" + PASSWORD);
    }

    @Override
    public void close() {
        backend.close();
    }
}
