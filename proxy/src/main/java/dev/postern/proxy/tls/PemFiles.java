package dev.postern.proxy.tls;

import dev.postern.config.Secret;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.InputDecryptorProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * Reads certificate chains and private keys from PEM files, through Bouncy Castle.
 *
 * <p>Certificates: every {@code CERTIFICATE} block in file order (leaf first, then intermediates). Private keys:
 * PKCS#8 ({@code PRIVATE KEY}), encrypted PKCS#8 ({@code ENCRYPTED PRIVATE KEY}, e.g. PBES2 with AES as {@code openssl
 * pkcs8 -topk8 -v2 aes-256-cbc} writes it), RSA PKCS#1 ({@code RSA PRIVATE KEY}), EC SEC1 ({@code EC PRIVATE KEY}),
 * and the latter two encrypted the legacy OpenSSL way ({@code Proc-Type: 4,ENCRYPTED}). Text between blocks and
 * blocks of other types (an {@code EC PARAMETERS} block before the key, a key in the certificate file or a certificate
 * in the key file) are ignored, so certificate and key may share one file.
 *
 * <p>Every failure is a {@link TlsSetupException} whose message names the file and says what is wrong in one line.
 * Keys come out as ordinary JCA keys of the platform's default provider; Bouncy Castle is used as a private
 * {@link Provider} instance for decryption only and is never registered JVM-wide.
 */
public final class PemFiles {
    /** No certificate or key file is anywhere near this large; refuse before reading, say {@code /dev/zero}. */
    static final long MAX_FILE_SIZE = 1024 * 1024;

    private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();

    private static final Map<ASN1ObjectIdentifier, String> KEY_ALGORITHMS = Map.of(
            PKCSObjectIdentifiers.rsaEncryption, "RSA",
            PKCSObjectIdentifiers.id_RSASSA_PSS, "RSASSA-PSS",
            X9ObjectIdentifiers.id_ecPublicKey, "EC",
            X9ObjectIdentifiers.id_dsa, "DSA",
            EdECObjectIdentifiers.id_Ed25519, "Ed25519",
            EdECObjectIdentifiers.id_Ed448, "Ed448");

    private PemFiles() {}

    /**
     * Reads the certificate chain in {@code file}: leaf first, then the intermediates, in file order.
     *
     * @throws TlsSetupException "FILE: no certificate" when the file holds no {@code CERTIFICATE} block, or when it
     *     cannot be read or a block is malformed
     */
    public static List<X509Certificate> readCertificateChain(Path file) throws TlsSetupException {
        List<X509Certificate> chain = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        for (PemObject block : readBlocks(file)) {
            String type = block.getType();
            if (!type.equals("CERTIFICATE") && !type.equals("X509 CERTIFICATE")) {
                continue;
            }
            try {
                chain.add(converter.getCertificate(new X509CertificateHolder(block.getContent())));
            } catch (IOException | CertificateException | RuntimeException e) {
                throw new TlsSetupException(
                        file + ": certificate " + (chain.size() + 1) + " is malformed (" + describe(e) + ")", e);
            }
        }
        if (chain.isEmpty()) {
            throw new TlsSetupException(file + ": no certificate");
        }
        return List.copyOf(chain);
    }

    /**
     * Reads the one private key in {@code file}, decrypting it with {@code password} when it is encrypted. A password
     * given for a key that is not encrypted is ignored.
     *
     * @throws TlsSetupException "no private key in FILE", "FILE: key is encrypted; set key-password", "FILE: wrong
     *     key-password", or when the file cannot be read, is malformed or holds more than one key
     */
    public static PrivateKey readPrivateKey(Path file, Optional<Secret> password) throws TlsSetupException {
        PrivateKeyInfo keyInfo = null;
        byte[] ecParameters = null;
        for (PemObject block : readBlocks(file)) {
            if (block.getType().equals("EC PARAMETERS")) {
                ecParameters = block.getContent();
                continue;
            }
            PrivateKeyInfo found = parseKey(file, block, password);
            if (found == null) {
                continue;
            }
            if (keyInfo != null) {
                throw new TlsSetupException(file + ": more than one private key");
            }
            keyInfo = found;
        }
        if (keyInfo == null) {
            throw new TlsSetupException("no private key in " + file);
        }
        if (keyInfo.getPrivateKeyAlgorithm().getAlgorithm().equals(X9ObjectIdentifiers.id_ecPublicKey)
                && keyInfo.getPrivateKeyAlgorithm().getParameters() == null) {
            keyInfo = withCurve(file, keyInfo, ecParameters);
        }
        return toJcaKey(file, keyInfo);
    }

    /**
     * Checks that {@code key} is the private half of the public key in {@code leaf}.
     *
     * @throws TlsSetupException "CERTFILE: private key does not match the certificate"
     */
    public static void checkKeyMatchesCertificate(PrivateKey key, X509Certificate leaf, Path certFile)
            throws TlsSetupException {
        if (!keyMatches(key, leaf.getPublicKey())) {
            throw new TlsSetupException(certFile + ": private key does not match the certificate");
        }
    }

    /** A SEC1 key may leave its curve to the {@code EC PARAMETERS} block before it. */
    private static PrivateKeyInfo withCurve(Path file, PrivateKeyInfo keyInfo, byte[] ecParameters)
            throws TlsSetupException {
        if (ecParameters == null) {
            throw new TlsSetupException(file + ": EC private key without curve (and no EC PARAMETERS block)");
        }
        try {
            return new PrivateKeyInfo(
                    new AlgorithmIdentifier(
                            X9ObjectIdentifiers.id_ecPublicKey, ASN1Primitive.fromByteArray(ecParameters)),
                    keyInfo.parsePrivateKey());
        } catch (IOException | RuntimeException e) {
            throw new TlsSetupException(file + ": malformed EC PARAMETERS block");
        }
    }

    /** Through the platform's own key factories, so that both TLS engines take the key as they take any other. */
    private static PrivateKey toJcaKey(Path file, PrivateKeyInfo keyInfo) throws TlsSetupException {
        ASN1ObjectIdentifier oid = keyInfo.getPrivateKeyAlgorithm().getAlgorithm();
        String algorithm = KEY_ALGORITHMS.get(oid);
        if (algorithm == null) {
            throw new TlsSetupException(file + ": unsupported private key algorithm " + oid.getId());
        }
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(keyInfo.getEncoded()));
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            // The class only: the message could quote key bytes.
            throw new TlsSetupException(file + ": unusable " + algorithm + " private key ("
                    + e.getClass().getSimpleName() + ")");
        }
    }

    static boolean keyMatches(PrivateKey key, PublicKey publicKey) {
        if (key instanceof RSAPrivateKey rsa) {
            return publicKey instanceof RSAPublicKey rsaPublic
                    && rsa.getModulus().equals(rsaPublic.getModulus());
        }
        if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) {
            return false;
        }
        // EC (and EdDSA) private keys do not carry their public point in the JCA view: prove the pair by signing.
        String algorithm =
                switch (key.getAlgorithm()) {
                    case "EC" -> "SHA256withECDSA";
                    case "DSA" -> "SHA256withDSA";
                    case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
                    default -> null;
                };
        if (algorithm == null) {
            // Unknown to us: let the TLS engine find out; better than refusing a key that works.
            return true;
        }
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    private static PrivateKeyInfo parseKey(Path file, PemObject block, Optional<Secret> password)
            throws TlsSetupException {
        try {
            return switch (block.getType()) {
                case "PRIVATE KEY" -> PrivateKeyInfo.getInstance(block.getContent());
                case "ENCRYPTED PRIVATE KEY" -> decryptPkcs8(
                        file, new PKCS8EncryptedPrivateKeyInfo(block.getContent()), password);
                case "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY" -> parseTraditional(file, block, password);
                default -> null;
            };
        } catch (IOException | RuntimeException e) {
            // No detail and no cause: a parser's message about a key could quote bytes of it.
            throw new TlsSetupException(file + ": malformed private key");
        }
    }

    /** PKCS#1 / SEC1 / DSA, plain or with the legacy {@code Proc-Type: 4,ENCRYPTED} headers. */
    private static PrivateKeyInfo parseTraditional(Path file, PemObject block, Optional<Secret> password)
            throws IOException, TlsSetupException {
        // PEMParser knows these formats (and the legacy encryption headers) but throws on block types it does not
        // know, so it gets this one block on its own rather than the whole file.
        StringWriter pem = new StringWriter();
        try (PemWriter writer = new PemWriter(pem)) {
            writer.writeObject(block);
        }
        Object parsed;
        try (PEMParser parser = new PEMParser(new StringReader(pem.toString()))) {
            parsed = parser.readObject();
        }
        if (parsed instanceof PEMKeyPair pair) {
            return pair.getPrivateKeyInfo();
        }
        if (parsed instanceof PEMEncryptedKeyPair encrypted) {
            char[] chars = requirePassword(file, password);
            try {
                return encrypted
                        .decryptKeyPair(new JcePEMDecryptorProviderBuilder()
                                .setProvider(BOUNCY_CASTLE)
                                .build(chars))
                        .getPrivateKeyInfo();
            } catch (IOException | RuntimeException e) {
                // Bad padding, or garbage that does not parse: both mean the password is wrong.
                throw new TlsSetupException(file + ": wrong key-password");
            } finally {
                Arrays.fill(chars, '\0');
            }
        }
        if (parsed instanceof PrivateKeyInfo info) {
            return info;
        }
        throw new TlsSetupException(file + ": unsupported " + block.getType() + " block");
    }

    private static PrivateKeyInfo decryptPkcs8(
            Path file, PKCS8EncryptedPrivateKeyInfo encrypted, Optional<Secret> password) throws TlsSetupException {
        char[] chars = requirePassword(file, password);
        try {
            InputDecryptorProvider decryptors = new JceOpenSSLPKCS8DecryptorProviderBuilder()
                    .setProvider(BOUNCY_CASTLE)
                    .build(chars);
            try {
                // Ask for the decryptor first: an unknown scheme is not a wrong password.
                decryptors.get(encrypted.getEncryptionAlgorithm());
            } catch (OperatorCreationException | RuntimeException e) {
                throw new TlsSetupException(
                        file + ": unsupported key encryption "
                                + encrypted
                                        .getEncryptionAlgorithm()
                                        .getAlgorithm()
                                        .getId(),
                        e);
            }
            try {
                return encrypted.decryptPrivateKeyInfo(decryptors);
            } catch (Exception e) {
                throw new TlsSetupException(file + ": wrong key-password");
            }
        } catch (OperatorCreationException e) {
            throw new TlsSetupException(file + ": cannot set up key decryption (" + describe(e) + ")", e);
        } finally {
            Arrays.fill(chars, '\0');
        }
    }

    private static char[] requirePassword(Path file, Optional<Secret> password) throws TlsSetupException {
        if (password.isEmpty()) {
            throw new TlsSetupException(file + ": key is encrypted; set key-password");
        }
        return password.get().revealChars();
    }

    private static List<PemObject> readBlocks(Path file) throws TlsSetupException {
        String text = readText(file);
        List<PemObject> blocks = new ArrayList<>();
        try (PemReader reader = new PemReader(new StringReader(text))) {
            for (PemObject block = reader.readPemObject(); block != null; block = reader.readPemObject()) {
                blocks.add(block);
            }
        } catch (IOException | RuntimeException e) {
            // Bouncy Castle says e.g. "-----END CERTIFICATE not found" or "unable to decode base64 string: ...".
            throw new TlsSetupException(file + ": malformed PEM (" + describe(e) + ")", e);
        }
        return blocks;
    }

    private static String readText(Path file) throws TlsSetupException {
        try {
            if (Files.isDirectory(file)) {
                throw new TlsSetupException(file + ": is a directory, not a PEM file");
            }
            if (Files.isRegularFile(file) && Files.size(file) > MAX_FILE_SIZE) {
                throw new TlsSetupException(file + ": too large for a PEM file (" + Files.size(file) + " bytes)");
            }
            // Latin-1 never fails to decode; PEM itself is ASCII and the text around it does not matter.
            return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw new TlsSetupException(file + ": file not found", e);
        } catch (AccessDeniedException e) {
            throw new TlsSetupException(file + ": permission denied", e);
        } catch (IOException e) {
            throw new TlsSetupException(file + ": cannot read (" + describe(e) + ")", e);
        }
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            return e.getClass().getSimpleName();
        }
        // One line, whatever the library put in its message.
        return message.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
