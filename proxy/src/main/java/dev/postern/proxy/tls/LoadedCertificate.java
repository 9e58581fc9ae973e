package dev.postern.proxy.tls;

import dev.postern.config.CertificateConfig;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A certificate chain with its key, read and checked, and the names it answers for in SNI.
 *
 * @param name the label from the config
 * @param key the private key
 * @param chain leaf first, then the intermediates
 * @param sniNames canonical names (exact or {@code *.domain}) this certificate is meant for
 * @param isDefault whether the config marks it as the default
 * @param generated whether it is the self-signed fallback made at start
 */
record LoadedCertificate(
        String name,
        PrivateKey key,
        List<X509Certificate> chain,
        List<String> sniNames,
        boolean isDefault,
        boolean generated) {

    private static final Logger log = LoggerFactory.getLogger(LoadedCertificate.class);

    private static final int SAN_DNS_NAME = 2;

    LoadedCertificate {
        chain = List.copyOf(chain);
        sniNames = List.copyOf(sniNames);
    }

    /** Reads the files of {@code config} and checks that key and certificate belong together. */
    static LoadedCertificate load(CertificateConfig config) throws TlsSetupException {
        List<X509Certificate> chain = PemFiles.readCertificateChain(config.cert());
        PrivateKey key = PemFiles.readPrivateKey(config.key(), config.keyPassword());
        X509Certificate leaf = chain.get(0);
        PemFiles.checkKeyMatchesCertificate(key, leaf, config.cert());
        warnAboutChain(config, chain);
        List<String> names = new ArrayList<>();
        if (!config.sni().isEmpty()) {
            for (String sni : config.sni()) {
                try {
                    names.add(SniMapping.canonicalName(sni));
                } catch (IllegalArgumentException e) {
                    throw new TlsSetupException("certificate '" + config.name() + "': sni " + e.getMessage());
                }
            }
        } else {
            for (String candidate : namesInCertificate(leaf)) {
                try {
                    names.add(SniMapping.canonicalName(candidate));
                } catch (IllegalArgumentException e) {
                    log.warn("TLS certificate '{}': name {} cannot be used for SNI; skipped", config.name(), candidate);
                }
            }
        }
        return new LoadedCertificate(
                config.name(), key, chain, List.copyOf(new LinkedHashSet<>(names)), config.isDefault(), false);
    }

    X509Certificate leaf() {
        return chain.get(0);
    }

    String subject() {
        return leaf().getSubjectX500Principal().getName(X500Principal.RFC2253);
    }

    Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }

    /** The DNS names among the subject alternative names of {@code certificate}, in order. */
    static List<String> dnsNames(X509Certificate certificate) {
        Collection<List<?>> alternativeNames;
        try {
            alternativeNames = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return List.of();
        }
        if (alternativeNames == null) {
            return List.of();
        }
        List<String> names = new ArrayList<>();
        for (List<?> entry : alternativeNames) {
            if (entry.size() >= 2
                    && entry.get(0) instanceof Integer type
                    && type == SAN_DNS_NAME
                    && entry.get(1) instanceof String dns) {
                names.add(dns);
            }
        }
        return names;
    }

    /** SAN DNS names, else the common name, as RFC 6125 and browsers read them. */
    static List<String> namesInCertificate(X509Certificate certificate) {
        List<String> dns = dnsNames(certificate);
        if (!dns.isEmpty()) {
            return dns;
        }
        X500Name subject =
                X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        Set<String> commonNames = new LinkedHashSet<>();
        for (RDN rdn : subject.getRDNs(BCStyle.CN)) {
            commonNames.add(IETFUtils.valueToString(rdn.getFirst().getValue()));
        }
        return List.copyOf(commonNames);
    }

    private static void warnAboutChain(CertificateConfig config, List<X509Certificate> chain) {
        Instant now = Instant.now();
        X509Certificate leaf = chain.get(0);
        if (leaf.getNotAfter().toInstant().isBefore(now)) {
            log.warn(
                    "TLS certificate '{}' ({}) EXPIRED on {}; clients will refuse it",
                    config.name(),
                    config.cert(),
                    leaf.getNotAfter().toInstant());
        } else if (leaf.getNotBefore().toInstant().isAfter(now)) {
            log.warn(
                    "TLS certificate '{}' ({}) is not valid before {}; clients will refuse it",
                    config.name(),
                    config.cert(),
                    leaf.getNotBefore().toInstant());
        }
        for (int i = 1; i < chain.size(); i++) {
            if (!chain.get(i - 1).getIssuerX500Principal().equals(chain.get(i).getSubjectX500Principal())) {
                log.warn(
                        "TLS certificate '{}' ({}): certificate {} was not issued by the next one in the file; the"
                                + " chain should be leaf first, then each issuer",
                        config.name(),
                        config.cert(),
                        i);
                break;
            }
        }
    }
}
