package dev.postern.proxy.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.admin.CertificateView;
import dev.postern.admin.SessionFilter;
import dev.postern.admin.SessionPage;
import dev.postern.admin.SessionView;
import dev.postern.admin.TlsReloadResult;
import dev.postern.config.Protocol;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What one node sends another is read back as it was. */
class ViewJsonTest {
    private static final Instant STARTED = Instant.parse("2026-01-01T00:00:00.123Z");

    @Test
    void aSessionPageIsReadBackWithEachSessionsNode() {
        SessionView full = new SessionView(
                "n2-abc1",
                "imaps",
                Protocol.IMAP,
                "203.0.113.7:51514",
                Optional.of("alice@example.com"),
                Optional.of("dovecot"),
                Optional.of("d1"),
                Optional.of("TLSv1.3"),
                STARTED,
                100,
                2000,
                Optional.of("n2"));
        SessionView bare = new SessionView(
                "n2-abc2",
                "smtp",
                Protocol.SMTP,
                "-",
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                STARTED,
                0,
                0);

        SessionPage back = ViewJson.page(ViewJson.page(new SessionPage(7, List.of(full, bare))), "n2");

        assertThat(back.count()).isEqualTo(7);
        assertThat(back.sessions()).containsExactly(full, bare.withNode("n2"));
    }

    @Test
    void aFilterIsReadBackWithItsLimit() {
        SessionFilter filter = new SessionFilter(
                Optional.of("bob@example.com"),
                Optional.empty(),
                Optional.of("d2"),
                Optional.of(Protocol.POP3),
                Optional.empty());

        assertThat(ViewJson.filter(ViewJson.filter(filter, 5))).isEqualTo(filter);
        assertThat(ViewJson.filter(filter, 5).get("limit").asInt()).isEqualTo(5);
        assertThat(ViewJson.filter(ViewJson.filter(SessionFilter.ALL, 1))).isEqualTo(SessionFilter.ALL);
    }

    @Test
    void aReloadIsReadBackWhetherItWorkedOrNot() {
        CertificateView c = new CertificateView(
                "mail",
                "CN=mail.example.com",
                List.of("mail.example.com"),
                Instant.parse("2030-01-01T00:00:00Z"),
                List.of("mail.example.com", "imap.example.com"),
                true,
                false);
        TlsReloadResult ok = new TlsReloadResult.Reloaded(List.of(c));
        TlsReloadResult failed = new TlsReloadResult.Failed("/etc/postern/key.pem: wrong key-password");

        assertThat(ViewJson.reload(ViewJson.reload(ok))).isEqualTo(ok);
        assertThat(ViewJson.reload(ViewJson.reload(failed))).isEqualTo(failed);
    }
}
