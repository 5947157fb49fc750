package dev.flocker.api.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;

/** Reads the PEM files the CA writes: X.509 certificates and PKCS#8 private keys (EC or RSA). */
public final class Pem {
    private static final Pattern KEY = Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

    private Pem() {}

    public static X509Certificate certificate(Path file) {
        var all = certificates(file);
        return all.get(0);
    }

    public static List<X509Certificate> certificates(Path file) {
        try {
            var factory = CertificateFactory.getInstance("X.509");
            var certificates = factory.generateCertificates(new ByteArrayInputStream(read(file)));
            if (certificates.isEmpty()) {
                throw new TlsException(file + " holds no certificate");
            }
            return certificates.stream().map(c -> (X509Certificate) c).toList();
        } catch (GeneralSecurityException e) {
            throw new TlsException(file + " is not a PEM certificate: " + e.getMessage());
        }
    }

    public static PrivateKey privateKey(Path file) {
        var text = new String(read(file), StandardCharsets.US_ASCII);
        var matcher = KEY.matcher(text);
        if (!matcher.find()) {
            throw new TlsException(file + " is not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----); convert one with"
                    + " 'openssl pkcs8 -topk8 -nocrypt'");
        }
        var der = Base64.getMimeDecoder().decode(matcher.group(1));
        for (var algorithm : List.of("EC", "RSA")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new TlsException(file + " holds a private key that is neither EC nor RSA");
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TlsException(file + ": no such file; create it with flocker-ca (see docs/OPERATIONS.md, 'Certificates')");
        } catch (IOException e) {
            throw new TlsException(file + ": cannot read: " + e.getMessage());
        }
    }
}
