package dev.postern.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code client-certificates} block of a TLS listener: whether clients are asked for a certificate, which CA
 * bundle (and CRLs) it must verify against, and where SASL EXTERNAL finds the user in it.
 *
 * <p>A certificate that is sent but does not verify (another CA, expired, revoked) fails the handshake in both modes;
 * {@code optional} only lets a client without a certificate through, to log in with a password.
 *
 * @param mode off, optional or required
 * @param ca the PEM bundle of the CAs a client certificate must lead to; present unless the mode is off
 * @param crl PEM or DER certificate revocation lists, checked for every certificate of the client's chain below the
 *     CA; empty: no revocation check
 * @param userFrom the certificate fields that name the user, tried in order (the first present one wins); never empty
 */
public record ClientCertificatesConfig(Mode mode, Optional<Path> ca, Optional<Path> crl, List<UserField> userFrom) {

    /** Where a user is looked for unless configured: the e-mail address in the SAN, then the subject's CN. */
    public static final List<UserField> DEFAULT_USER_FROM = List.of(UserField.SAN_EMAIL, UserField.SUBJECT_CN);

    /** No certificate is asked for. */
    public static final ClientCertificatesConfig OFF =
            new ClientCertificatesConfig(Mode.OFF, Optional.empty(), Optional.empty(), DEFAULT_USER_FROM);

    public ClientCertificatesConfig {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(ca, "ca");
        Objects.requireNonNull(crl, "crl");
        userFrom = List.copyOf(userFrom);
        if (mode != Mode.OFF && ca.isEmpty()) {
            throw new IllegalArgumentException("ca: required when mode is " + mode.configName());
        }
        if (userFrom.isEmpty()) {
            throw new IllegalArgumentException("user-from: at least one field");
        }
    }

    /** True when clients are asked for a certificate. */
    public boolean enabled() {
        return mode != Mode.OFF;
    }

    /** Whether clients are asked for a certificate, and must send one. */
    public enum Mode {
        /** Not asked for. */
        OFF,
        /** Asked for; a client without one may still log in with a password. */
        OPTIONAL,
        /** A client without a verified certificate fails the handshake. */
        REQUIRED;

        public String configName() {
            return ConfigNames.of(this);
        }
    }

    /** A certificate field that can name the user. */
    public enum UserField {
        /** The first {@code rfc822Name} of the subject alternative names. */
        SAN_EMAIL,
        /** The first {@code dNSName} of the subject alternative names. */
        SAN_DNS,
        /** The subject's common name (CN). */
        SUBJECT_CN,
        /** The subject's {@code emailAddress} attribute (PKCS #9). */
        SUBJECT_EMAIL;

        public String configName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }
}
