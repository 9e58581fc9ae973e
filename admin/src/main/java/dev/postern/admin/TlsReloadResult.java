package dev.postern.admin;

import java.util.List;
import java.util.Objects;

/** How a certificate reload went. */
public sealed interface TlsReloadResult {
    /**
     * The new certificates are in use for new handshakes.
     *
     * @param certificates what is served now
     */
    record Reloaded(List<CertificateView> certificates) implements TlsReloadResult {
        public Reloaded {
            certificates = List.copyOf(certificates);
        }
    }

    /**
     * The files could not be loaded; the old certificates stay in use.
     *
     * @param reason one line naming the file and what is wrong with it (never key material or a password)
     */
    record Failed(String reason) implements TlsReloadResult {
        public Failed {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
