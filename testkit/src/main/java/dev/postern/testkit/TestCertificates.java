package dev.postern.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * Certificates for tests, minted with Bouncy Castle: a throwaway CA (EC P-256) and leaf certificates it signs for
 * given names, with RSA 2048 or EC P-256 keys, written as PEM files in any key format Postern reads. Nothing here
 * is ever checked in: write into a JUnit {@code @TempDir}.
 *
 * <pre>{@code
 * TestCertificates ca = TestCertificates.newAuthority();
 * TestCertificates.Leaf leaf = ca.issue(KeyType.EC_P256, "mail.example.test", "mail.example.test", "*.example.test");
 * PemFiles files = leaf.write(dir, "mail", KeyFormat.ENCRYPTED_PKCS8, "secret"); // for a configuration
 * SSLContext client = ca.clientSslContext(); // trusts the CA
 * SSLContext server = leaf.serverSslContext(); // for a fake server
 * }</pre>
 *
 * <p>The chain file holds the leaf, then the CA certificate in the role of an intermediate, so a client sees two
 * certificates; it trusts the CA itself. {@link TestTls} holds a ready-made CA and "localhost" certificate for tests
 * that need TLS but not a particular certificate.
 */
public final class TestCertificates {
    private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final AtomicLong CA_COUNTER = new AtomicLong();
    /** A subject alternative name written as an IPv4 or IPv6 literal is an IP address name, not a DNS name. */
    private static final Pattern IP_LITERAL = Pattern.compile("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*");

    private static final char[] NO_PASSWORD = new char[0];

    private final KeyPair caKeys;
    private final X509Certificate caCertificate;

    private TestCertificates(KeyPair caKeys, X509Certificate caCertificate) {
        this.caKeys = caKeys;
        this.caCertificate = caCertificate;
    }

    /** Key algorithms for leaf certificates. */
    public enum KeyType {
        RSA_2048,
        EC_P256
    }

    /** How a private key is written. */
    public enum KeyFormat {
        /** {@code RSA PRIVATE KEY} (PKCS#1) for RSA, {@code EC PRIVATE KEY} (SEC1) for EC. */
        TRADITIONAL(false),
        /** EC only: an {@code EC PARAMETERS} block, then SEC1, as {@code openssl ecparam -genkey} writes. */
        TRADITIONAL_WITH_EC_PARAMETERS(false),
        /** {@code PRIVATE KEY} (PKCS#8). */
        PKCS8(false),
        /** {@code ENCRYPTED PRIVATE KEY}: PBES2, PBKDF2 with HMAC-SHA256, AES-256-CBC. */
        ENCRYPTED_PKCS8(true),
        /** PKCS#1 / SEC1 with {@code Proc-Type: 4,ENCRYPTED} and {@code DEK-Info: AES-256-CBC}. */
        LEGACY_ENCRYPTED(true);

        private final boolean encrypted;

        KeyFormat(boolean encrypted) {
            this.encrypted = encrypted;
        }

        public boolean encrypted() {
            return encrypted;
        }

        /** Whether keys of {@code type} can be written in this format. */
        public boolean supports(KeyType type) {
            return this != TRADITIONAL_WITH_EC_PARAMETERS || type == KeyType.EC_P256;
        }
    }

    /** A new CA with a unique name. */
    public static TestCertificates newAuthority() {
        return newAuthority("Postern Test CA " + CA_COUNTER.incrementAndGet());
    }

    /** A new CA named {@code CN=commonName}. */
    public static TestCertificates newAuthority(String commonName) {
        try {
            KeyPair keys = generateKeyPair(KeyType.EC_P256);
            X500Name name = name(commonName);
            Instant now = Instant.now();
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                            name,
                            serial(),
                            Date.from(now.minus(Duration.ofHours(1))),
                            Date.from(now.plus(Duration.ofDays(365))),
                            name,
                            keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(
                            Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(keys.getPublic()));
            return new TestCertificates(keys, sign(builder, keys.getPrivate()));
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot mint a test CA", e);
        }
    }

    public X509Certificate caCertificate() {
        return caCertificate;
    }

    /** Writes the CA certificate as PEM (for {@code openssl s_client -CAfile}, say) and returns {@code file}. */
    public Path writeCaCertificate(Path file) {
        writePem(file, List.of(caCertificate));
        return file;
    }

    /** A trust store holding only this CA. */
    public KeyStore trustStore() {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setCertificateEntry("ca", caCertificate);
            return store;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes a certificate revocation list of this CA, valid from an hour ago for a day, that revokes {@code revoked},
     * as PEM to {@code file}.
     */
    public Path writeCrl(Path file, X509Certificate... revoked) {
        try {
            Instant now = Instant.now();
            X509v2CRLBuilder builder = new JcaX509v2CRLBuilder(caCertificate, Date.from(now.minus(Duration.ofHours(1))))
                    .setNextUpdate(Date.from(now.plus(Duration.ofDays(1))));
            for (X509Certificate certificate : revoked) {
                builder.addCRLEntry(
                        certificate.getSerialNumber(),
                        Date.from(now.minus(Duration.ofMinutes(1))),
                        CRLReason.keyCompromise);
            }
            String algorithm = caKeys.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            X509CRL crl = new JcaX509CRLConverter()
                    .getCRL(builder.build(new JcaContentSignerBuilder(algorithm).build(caKeys.getPrivate())));
            try (Writer out = Files.newBufferedWriter(file, StandardCharsets.US_ASCII);
                    JcaPEMWriter pem = new JcaPEMWriter(out)) {
                pem.writeObject(crl);
            }
            return file;
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot mint a test CRL", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Trust managers that trust this CA only. */
    public TrustManagerFactory trustManagerFactory() {
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trustStore());
            return factory;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A JDK client context (TLS 1.2 and 1.3) that trusts this CA only. Its session cache allows resumption. */
    public SSLContext clientSslContext() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trustManagerFactory().getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A leaf certificate for a server, valid from an hour ago for 30 days.
     *
     * @param commonName the subject's CN
     * @param dnsNames the subject alternative names (DNS names, IP literals such as {@code 127.0.0.1}, or e-mail
     *     addresses such as {@code alice@example.test}, for client certificates); none means a certificate with a CN
     *     only
     */
    public Leaf issue(KeyType type, String commonName, String... dnsNames) {
        Instant now = Instant.now();
        return issue(
                type, commonName, List.of(dnsNames), now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(30)));
    }

    /** A leaf certificate with the given validity, e.g. an expired one. */
    public Leaf issue(KeyType type, String commonName, List<String> dnsNames, Instant notBefore, Instant notAfter) {
        try {
            KeyPair keys = generateKeyPair(type);
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                            caCertificate,
                            serial(),
                            Date.from(notBefore),
                            Date.from(notAfter),
                            name(commonName),
                            keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(
                            Extension.keyUsage,
                            true,
                            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(new KeyPurposeId[] {
                        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                    }))
                    .addExtension(
                            Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(keys.getPublic()))
                    .addExtension(
                            Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(caCertificate));
            if (!dnsNames.isEmpty()) {
                GeneralName[] names = dnsNames.stream()
                        .map(san -> new GeneralName(
                                IP_LITERAL.matcher(san).matches()
                                        ? GeneralName.iPAddress
                                        : san.indexOf('@') > 0 ? GeneralName.rfc822Name : GeneralName.dNSName,
                                san))
                        .toArray(GeneralName[]::new);
                builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            }
            return new Leaf(type, sign(builder, caKeys.getPrivate()), keys.getPrivate(), caCertificate);
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot mint a test certificate", e);
        }
    }

    /**
     * A leaf certificate and its key.
     *
     * @param type the key algorithm
     * @param certificate the leaf
     * @param privateKey its key
     * @param issuer the CA that signed it, sent as the intermediate
     */
    public record Leaf(KeyType type, X509Certificate certificate, PrivateKey privateKey, X509Certificate issuer) {
        public Leaf {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(certificate, "certificate");
            Objects.requireNonNull(privateKey, "privateKey");
            Objects.requireNonNull(issuer, "issuer");
        }

        /** Leaf, then issuer. */
        public List<X509Certificate> chain() {
            return List.of(certificate, issuer);
        }

        /** Key managers that present this certificate (with its chain), for a server of the test's own. */
        public KeyManagerFactory keyManagerFactory() {
            try {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                store.setKeyEntry("leaf", privateKey, NO_PASSWORD, chain().toArray(X509Certificate[]::new));
                KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                factory.init(store, NO_PASSWORD);
                return factory;
            } catch (GeneralSecurityException | IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** A JDK server context presenting this certificate; it asks for no client certificate. */
        public SSLContext serverSslContext() {
            try {
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(keyManagerFactory().getKeyManagers(), null, null);
                return context;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Writes the chain (leaf, then issuer) as PEM, with a comment line before each block, to {@code file}. */
        public Path writeChain(Path file) {
            writePem(file, chain());
            return file;
        }

        /**
         * Writes the private key to {@code file} in {@code format}.
         *
         * @param password for the encrypted formats; ignored (may be null) for the others
         */
        public Path writeKey(Path file, KeyFormat format, String password) {
            if (!format.supports(type)) {
                throw new IllegalArgumentException(format + " is not a format for " + type);
            }
            if (format.encrypted() && password == null) {
                throw new IllegalArgumentException(format + " needs a password");
            }
            try (Writer out = Files.newBufferedWriter(file, StandardCharsets.US_ASCII);
                    JcaPEMWriter pem = new JcaPEMWriter(out)) {
                switch (format) {
                    case TRADITIONAL -> pem.writeObject(traditional());
                    case TRADITIONAL_WITH_EC_PARAMETERS -> {
                        pem.writeObject(new PemObject("EC PARAMETERS", SECObjectIdentifiers.secp256r1.getEncoded()));
                        pem.writeObject(traditional());
                    }
                    case PKCS8 -> pem.writeObject(new JcaPKCS8Generator(privateKey, null));
                    case ENCRYPTED_PKCS8 -> pem.writeObject(new JcaPKCS8Generator(
                            privateKey,
                            new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
                                    .setPRF(PKCS8Generator.PRF_HMACSHA256)
                                    .setIterationCount(2048)
                                    .setProvider(BOUNCY_CASTLE)
                                    .setPassword(password.toCharArray())
                                    .build()));
                    case LEGACY_ENCRYPTED -> pem.writeObject(new JcaMiscPEMGenerator(
                            traditional(),
                            new JcePEMEncryptorBuilder("AES-256-CBC")
                                    .setProvider(BOUNCY_CASTLE)
                                    .build(password.toCharArray())));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (OperatorCreationException e) {
                throw new IllegalStateException(e);
            }
            return file;
        }

        /**
         * The key as Bouncy Castle writes it in PKCS#1 / SEC1. The JDK's own PKCS#8 encoding of an EC key leaves
         * the curve and the public point out of the inner SEC1 structure; OpenSSL always writes both, so do we.
         */
        private PrivateKeyInfo traditional() {
            PrivateKeyInfo info = PrivateKeyInfo.getInstance(privateKey.getEncoded());
            if (!(privateKey instanceof ECPrivateKey ec)) {
                return info;
            }
            DERBitString publicPoint = new DERBitString(
                    SubjectPublicKeyInfo.getInstance(certificate.getPublicKey().getEncoded())
                            .getPublicKeyData()
                            .getOctets());
            AlgorithmIdentifier algorithm =
                    new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, SECObjectIdentifiers.secp256r1);
            try {
                return new PrivateKeyInfo(
                        algorithm,
                        new org.bouncycastle.asn1.sec.ECPrivateKey(
                                256, ec.getS(), publicPoint, SECObjectIdentifiers.secp256r1));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /**
         * Writes {@code NAME-chain.pem} and {@code NAME-key.pem} into {@code dir} and returns where they went.
         *
         * @param password for the encrypted formats; ignored (may be null) for the others
         */
        public PemFiles write(Path dir, String name, KeyFormat format, String password) {
            Path cert = writeChain(dir.resolve(name + "-chain.pem"));
            Path key = writeKey(dir.resolve(name + "-key.pem"), format, password);
            return new PemFiles(name, cert, key, format.encrypted() ? Optional.of(password) : Optional.empty());
        }
    }

    /**
     * A certificate chain and its key written as PEM files, as a configuration names them.
     *
     * @param name the name the files were written under
     * @param cert the chain file (leaf, then issuer)
     * @param key the key file
     * @param password the key's password when its format is encrypted
     */
    public record PemFiles(String name, Path cert, Path key, Optional<String> password) {
        public PemFiles {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(cert, "cert");
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(password, "password");
        }
    }

    private static void writePem(Path file, List<X509Certificate> certificates) {
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.US_ASCII);
                JcaPEMWriter pem = new JcaPEMWriter(out)) {
            for (X509Certificate certificate : certificates) {
                // Text around the blocks, as openssl writes it; readers must skip it.
                out.write("subject=" + certificate.getSubjectX500Principal().getName() + "\n");
                pem.writeObject(certificate);
                pem.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static KeyPair generateKeyPair(KeyType type) throws GeneralSecurityException {
        return switch (type) {
            case RSA_2048 -> {
                KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
                generator.initialize(2048, RANDOM);
                yield generator.generateKeyPair();
            }
            case EC_P256 -> {
                KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
                generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
                yield generator.generateKeyPair();
            }
        };
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey)
            throws OperatorCreationException, GeneralSecurityException {
        String algorithm = issuerKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        return new JcaX509CertificateConverter()
                .getCertificate(builder.build(new JcaContentSignerBuilder(algorithm).build(issuerKey)));
    }

    private static X500Name name(String commonName) {
        return new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, "Postern tests")
                .addRDN(BCStyle.CN, commonName)
                .build();
    }

    private static BigInteger serial() {
        return new BigInteger(64, RANDOM).setBit(63);
    }

    /** For tests that compare: every key format that applies to {@code type}. */
    public static List<KeyFormat> formatsFor(KeyType type) {
        List<KeyFormat> formats = new ArrayList<>(Arrays.asList(KeyFormat.values()));
        formats.removeIf(format -> !format.supports(type));
        return formats;
    }
}
