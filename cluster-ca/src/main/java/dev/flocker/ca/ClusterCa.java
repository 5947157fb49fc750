package dev.flocker.ca;

import dev.flocker.api.tls.Pem;
import dev.flocker.api.tls.RevocationList;
import dev.flocker.api.tls.TlsFiles;
import dev.flocker.api.tls.Identity;
import dev.flocker.api.model.NodeId;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The cluster's certificate authority, as Flocker's {@code flocker-ca}: {@code cluster.crt}/{@code cluster.key} sign
 * the control service's certificate (for its host names and addresses), one per node (CN {@code node-<uuid>}), one
 * per API user (CN {@code user-<name>}; the Docker plugin's is user {@code plugin}). Keys are EC P-256 (Flocker used
 * RSA 4096: as strong, and fast enough to make a CA per test), written PKCS#8 with mode 0600; nothing is overwritten.
 */
public final class ClusterCa {
    public static final String CERT = TlsFiles.CLUSTER_CERT;
    public static final String KEY = "cluster.key";
    public static final Duration CA_VALIDITY = Duration.ofDays(20 * 365);
    public static final Duration VALIDITY = Duration.ofDays(5 * 365);
    private static final Pattern USER = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}");
    private static final Pattern HOST = Pattern.compile("[a-zA-Z0-9]([a-zA-Z0-9.-]{0,252})");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final X509Certificate certificate;
    private final PrivateKey key;

    private ClusterCa(X509Certificate certificate, PrivateKey key) {
        this.certificate = certificate;
        this.key = key;
    }

    /** Creates a new CA named {@code name} in {@code dir}; refuses if one is there. */
    public static ClusterCa initialize(Path dir, String name) {
        if (name == null || name.isBlank() || name.length() > 64) {
            throw new IllegalArgumentException("the cluster name must be 1-64 characters");
        }
        var pair = newKeyPair();
        var subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name)
                .addRDN(BCStyle.OU, UUID.randomUUID().toString()).build();
        var now = Instant.now();
        try {
            var builder = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minusSeconds(60)),
                    Date.from(now.plus(CA_VALIDITY)), subject, pair.getPublic());
            var extensions = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(pair.getPublic()));
            var certificate = sign(builder, pair.getPrivate());
            var ca = new ClusterCa(certificate, pair.getPrivate());
            write(dir, CERT, KEY, certificate, pair.getPrivate());
            return ca;
        } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot create the cluster CA in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The CA kept in {@code dir} ({@code cluster.crt}, {@code cluster.key}). */
    public static ClusterCa load(Path dir) {
        return new ClusterCa(Pem.certificate(dir.resolve(CERT)), Pem.privateKey(dir.resolve(KEY)));
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** The control service's certificate: CN control-service, for {@code hosts} (names or IP addresses). */
    public void issueControl(Path dir, String baseName, List<String> hosts) {
        var names = new ArrayList<GeneralName>();
        names.add(new GeneralName(GeneralName.dNSName, Identity.CONTROL_CN));
        for (var host : hosts) {
            if (isAddress(host)) {
                names.add(new GeneralName(GeneralName.iPAddress, host));
            } else if (HOST.matcher(host).matches()) {
                names.add(new GeneralName(GeneralName.dNSName, host));
            } else {
                throw new IllegalArgumentException("'" + host + "' is neither a host name nor an IP address");
            }
        }
        // Client authentication too: replicas present it to each other on the cluster port.
        issue(dir, baseName, Identity.CONTROL_CN, names, new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth},
                Instant.now(), VALIDITY);
    }

    /** A node's certificate, CN node-{@code uuid}. */
    public void issueNode(Path dir, String baseName, NodeId uuid) {
        issueNode(dir, baseName, uuid, Instant.now(), VALIDITY);
    }

    /** As {@link #issueNode(Path, String, NodeId)}, valid from {@code from} for {@code validity}. */
    public void issueNode(Path dir, String baseName, NodeId uuid, Instant from, Duration validity) {
        issue(dir, baseName, "node-" + uuid, List.of(), new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth}, from, validity);
    }

    /** An API user's certificate, CN user-{@code user}. */
    public void issueUser(Path dir, String baseName, String user) {
        issueUser(dir, baseName, user, Instant.now(), VALIDITY);
    }

    /** As {@link #issueUser(Path, String, String)}, valid from {@code from} for {@code validity} (tests make expired ones). */
    public void issueUser(Path dir, String baseName, String user, Instant from, Duration validity) {
        requireUserFileName(baseName);
        if (!USER.matcher(user).matches()) {
            throw new IllegalArgumentException("user name '" + user + "' is invalid: use 1-64 of [a-zA-Z0-9_.-], starting with a letter or digit");
        }
        issue(dir, baseName, "user-" + user, List.of(), new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth}, from, validity);
    }

    /** A user's certificate files must not take the names of the CA's, the control service's or a node's. */
    public static void requireUserFileName(String baseName) {
        if (List.of("cluster", "control-service", "node").contains(baseName) || baseName.startsWith("node-")) {
            throw new IllegalArgumentException("user name '" + baseName + "' would overwrite another certificate's files");
        }
    }

    private void issue(Path dir, String baseName, String commonName, List<GeneralName> sans, KeyPurposeId[] purposes, Instant from,
                       Duration validity) {
        var pair = newKeyPair();
        var issuer = org.bouncycastle.asn1.x500.X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        var subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).addRDN(BCStyle.OU, clusterId()).build();
        try {
            var builder = new JcaX509v3CertificateBuilder(issuer, serial(), Date.from(from.minusSeconds(60)), Date.from(from.plus(validity)),
                    subject, pair.getPublic());
            var extensions = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
            builder.addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(certificate));
            if (!sans.isEmpty()) {
                builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
            }
            write(dir, baseName + ".crt", baseName + ".key", sign(builder, key), pair.getPrivate());
        } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot write " + dir.resolve(baseName + ".crt") + ": " + e.getMessage(), e);
        }
    }

    /**
     * Revokes {@code revoked}: adds it to the CA's revocation list, {@code dir/cluster.crl} (made when missing, replaced
     * whole and re-signed otherwise, with the next CRL number). Copy the list beside cluster.crt wherever certificates
     * are checked: the control service's certificates directory, every node's /etc/flocker, users' directories.
     *
     * @return true when it was added, false when the list already named it
     */
    public boolean revoke(Path dir, X509Certificate revoked) {
        try {
            revoked.verify(certificate.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("certificate " + Identity.subject(revoked, "CN").orElse("?") + " was not issued by this cluster's CA ("
                    + Identity.subject(certificate, "CN").orElse("?") + "): nothing to revoke here");
        }
        var file = dir.resolve(RevocationList.FILE);
        try {
            java.security.cert.X509CRL existing = null;
            if (Files.exists(file)) {
                try (var in = Files.newInputStream(file)) {
                    existing = (java.security.cert.X509CRL) java.security.cert.CertificateFactory.getInstance("X.509").generateCRL(in);
                }
                existing.verify(certificate.getPublicKey());
                if (existing.getRevokedCertificate(revoked) != null) {
                    return false;
                }
            }
            var issuer = org.bouncycastle.asn1.x500.X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
            var now = new Date();
            var builder = new org.bouncycastle.cert.X509v2CRLBuilder(issuer, now);
            builder.setNextUpdate(Date.from(Instant.now().plus(CA_VALIDITY)));
            BigInteger number = BigInteger.ONE;
            if (existing != null) {
                builder.addCRL(new org.bouncycastle.cert.X509CRLHolder(existing.getEncoded()));
                var previous = existing.getExtensionValue(Extension.cRLNumber.getId());
                if (previous != null) {
                    var octets = org.bouncycastle.asn1.ASN1OctetString.getInstance(previous).getOctets();
                    number = org.bouncycastle.asn1.x509.CRLNumber.getInstance(octets).getCRLNumber().add(BigInteger.ONE);
                }
            }
            builder.addCRLEntry(revoked.getSerialNumber(), now, org.bouncycastle.asn1.x509.CRLReason.keyCompromise);
            builder.addExtension(Extension.cRLNumber, false, new org.bouncycastle.asn1.x509.CRLNumber(number));
            builder.addExtension(Extension.authorityKeyIdentifier, false, new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(certificate));
            var holder = builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key));
            var crl = new org.bouncycastle.cert.jcajce.JcaX509CRLConverter().getCRL(holder);
            Files.createDirectories(dir);
            var tmp = file.resolveSibling(RevocationList.FILE + ".tmp");
            Files.writeString(tmp, pem(crl));
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return true;
        } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot write the revocation list " + file + ": " + e.getMessage(), e);
        }
    }

    /** The cluster's UUID, the OU of the CA's subject. */
    public String clusterId() {
        return Identity.subject(certificate, "OU").orElse("");
    }

    private static boolean isAddress(String host) {
        if (!host.matches("[0-9.]+|[0-9a-fA-F:]+") || !(host.contains(".") || host.contains(":"))) {
            return false;
        }
        try {
            InetAddress.getByName(host);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static X509Certificate sign(JcaX509v3CertificateBuilder builder, PrivateKey signer)
            throws OperatorCreationException, GeneralSecurityException {
        var contentSigner = new JcaContentSignerBuilder("SHA256withECDSA").build(signer);
        return new JcaX509CertificateConverter().getCertificate(builder.build(contentSigner));
    }

    private static KeyPair newKeyPair() {
        try {
            var generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("EC P-256 keys are not available in this JDK", e);
        }
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM);
    }

    private static void write(Path dir, String certName, String keyName, X509Certificate certificate, PrivateKey key) throws IOException {
        Files.createDirectories(dir);
        var certFile = dir.resolve(certName);
        var keyFile = dir.resolve(keyName);
        for (var file : List.of(certFile, keyFile)) {
            if (Files.exists(file)) {
                throw new FileAlreadyExistsException(file + " exists; remove it first to replace it");
            }
        }
        var keyText = pem(key);
        Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(keyFile, keyText, StandardOpenOption.TRUNCATE_EXISTING);
        Files.writeString(certFile, pem(certificate), StandardOpenOption.CREATE_NEW);
    }

    private static String pem(Object object) throws IOException {
        var text = new StringWriter();
        try (var writer = new JcaPEMWriter(text)) {
            writer.writeObject(object instanceof PrivateKey k ? new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(k, null) : object);
        }
        return text.toString();
    }
}
