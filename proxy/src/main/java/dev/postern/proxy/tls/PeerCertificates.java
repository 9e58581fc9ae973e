package dev.postern.proxy.tls;

import dev.postern.config.ClientCertificatesConfig;
import dev.postern.config.ClientCertificatesConfig.UserField;
import dev.postern.proxy.session.ClientCertificate;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;

/** Reads the facts of a client certificate that a handshake verified, and the user it names. */
public final class PeerCertificates {
    /** GeneralName tags in {@link X509Certificate#getSubjectAlternativeNames()}. */
    private static final int RFC822_NAME = 1;

    private static final int DNS_NAME = 2;

    private PeerCertificates() {}

    /**
     * The verified client certificate of {@code session}, or null when the client sent none (or the listener asks for
     * none: then nothing was verified, whatever the client sent).
     */
    public static ClientCertificate of(SSLSession session, ClientCertificatesConfig config) {
        if (!config.enabled()) {
            return null;
        }
        Certificate[] chain;
        try {
            chain = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
        return chain.length > 0 && chain[0] instanceof X509Certificate leaf ? of(leaf, config.userFrom()) : null;
    }

    /** The facts of {@code leaf}, with the user taken from the first of {@code userFrom} that it has. */
    public static ClientCertificate of(X509Certificate leaf, List<UserField> userFrom) {
        byte[] der;
        try {
            der = leaf.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("a verified certificate that cannot be encoded", e);
        }
        String pem = "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der) + "\n-----END CERTIFICATE-----\n";
        return new ClientCertificate(
                leaf.getSubjectX500Principal().getName(X500Principal.RFC2253),
                leaf.getIssuerX500Principal().getName(X500Principal.RFC2253),
                leaf.getSerialNumber().toString(16).toUpperCase(Locale.ROOT),
                digest("SHA-1", der),
                digest("SHA-256", der),
                user(leaf, userFrom),
                pem);
    }

    /** The first of {@code fields} that {@code certificate} has, not blank. */
    static Optional<String> user(X509Certificate certificate, List<UserField> fields) {
        for (UserField field : fields) {
            Optional<String> value =
                    switch (field) {
                        case SAN_EMAIL -> alternativeName(certificate, RFC822_NAME);
                        case SAN_DNS -> alternativeName(certificate, DNS_NAME);
                        case SUBJECT_CN -> subjectAttribute(certificate, BCStyle.CN);
                        case SUBJECT_EMAIL -> subjectAttribute(certificate, BCStyle.EmailAddress);
                    };
            if (value.isPresent()) {
                return value;
            }
        }
        return Optional.empty();
    }

    private static Optional<String> alternativeName(X509Certificate certificate, int tag) {
        Collection<List<?>> names;
        try {
            names = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return Optional.empty();
        }
        if (names == null) {
            return Optional.empty();
        }
        for (List<?> name : names) {
            if (name.size() >= 2
                    && name.get(0) instanceof Integer t
                    && t == tag
                    && name.get(1) instanceof String value
                    && !value.isBlank()) {
                return Optional.of(value);
            }
        }
        return Optional.empty();
    }

    private static Optional<String> subjectAttribute(X509Certificate certificate, ASN1ObjectIdentifier type) {
        X500Name subject =
                X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        for (RDN rdn : subject.getRDNs(type)) {
            if (rdn.getFirst().getValue() instanceof ASN1String text
                    && !text.getString().isBlank()) {
                return Optional.of(text.getString());
            }
        }
        return Optional.empty();
    }

    private static String digest(String algorithm, byte[] der) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(der));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is missing from the JDK", e);
        }
    }
}
