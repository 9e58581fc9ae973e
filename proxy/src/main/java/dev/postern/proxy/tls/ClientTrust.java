package dev.postern.proxy.tls;

import dev.postern.config.ClientCertificatesConfig;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CRL;
import java.security.cert.CertStore;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.TrustManagerFactory;

/**
 * The trust a listener puts in client certificates: its CA bundle as trust anchors, and with a CRL file PKIX
 * revocation checking against those lists only (nothing is fetched: no OCSP, no distribution points). Both providers
 * use the same JDK trust manager (netty-tcnative calls it from BoringSSL's verify callback), so a certificate means
 * the same to either.
 */
final class ClientTrust {
    private ClientTrust() {}

    /** The trust managers for {@code config} (which is enabled). */
    static TrustManagerFactory trustManagers(ClientCertificatesConfig config) throws TlsSetupException {
        Path caFile = config.ca().orElseThrow();
        List<X509Certificate> cas = PemFiles.readCertificateChain(caFile);
        try {
            KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
            anchors.load(null, null);
            for (int i = 0; i < cas.size(); i++) {
                anchors.setCertificateEntry("ca-" + i, cas.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            if (config.crl().isEmpty()) {
                factory.init(anchors);
                return factory;
            }
            PKIXBuilderParameters parameters = new PKIXBuilderParameters(anchors, new X509CertSelector());
            parameters.addCertStore(CertStore.getInstance(
                    "Collection",
                    new CollectionCertStoreParameters(crls(config.crl().get()))));
            parameters.setRevocationEnabled(true);
            factory.init(new CertPathTrustManagerParameters(parameters));
            return factory;
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsSetupException(caFile + ": cannot use as client certificate CAs (" + e.getMessage() + ")", e);
        }
    }

    /** The CRLs of {@code file}, PEM or DER, one or several. */
    static Collection<? extends CRL> crls(Path file) throws TlsSetupException {
        try (InputStream in = Files.newInputStream(file)) {
            Collection<? extends CRL> crls =
                    CertificateFactory.getInstance("X.509").generateCRLs(in);
            if (crls.isEmpty()) {
                throw new TlsSetupException(file + ": no certificate revocation list");
            }
            return crls;
        } catch (IOException | GeneralSecurityException e) {
            throw new TlsSetupException(
                    file + ": cannot read the certificate revocation lists (" + e.getMessage() + ")", e);
        }
    }

    /** Contexts for {@code loaded} that ask for client certificates as {@code clientCertificates} says, by SNI name. */
    static SniMapping<SslContext> contexts(
            ContextFactory factory, List<LoadedCertificate> loaded, ClientCertificatesConfig clientCertificates)
            throws TlsSetupException {
        TrustManagerFactory trust = trustManagers(clientCertificates);
        LoadedCertificate defaultCertificate = TlsManager.defaultCertificate(loaded);
        SniMapping.Builder<SslContext> mapping = SniMapping.builder();
        for (LoadedCertificate certificate : loaded) {
            SslContext context = factory.serverContext(
                    certificate.name(), certificate.key(), certificate.chain(), clientCertificates.mode(), trust);
            for (String name : certificate.sniNames()) {
                mapping.add(name, context);
            }
            if (certificate == defaultCertificate) {
                mapping.defaultValue(context);
            }
        }
        return mapping.build();
    }
}
