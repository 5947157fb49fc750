package dev.flocker.api.tls;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * One party's certificates: the cluster CA it trusts (and only that), its own certificate and key. The same managers
 * serve the control service (Vert.x wraps them) and the clients (the JDK's HTTP client), so both sides check peers
 * the same way: a chain to the cluster CA, within its validity, and not revoked ({@code cluster.crl} beside
 * {@code cluster.crt}, see {@link RevocationList}).
 */
public record TlsFiles(Path ca, Path certificate, Path key) {
    private static final char[] NO_PASSWORD = new char[0];
    /** The cluster CA's certificate, by Flocker's name, in every certificates directory. */
    public static final String CLUSTER_CERT = "cluster.crt";

    /** {@code dir/cluster.crt} with {@code dir/<name>.crt} and {@code dir/<name>.key}, Flocker's layout. */
    public static TlsFiles in(Path dir, String name) {
        return new TlsFiles(dir.resolve(CLUSTER_CERT), dir.resolve(name + ".crt"), dir.resolve(name + ".key"));
    }

    /** Who this party's certificate says it is. */
    public Identity identity() {
        return Identity.of(Pem.certificate(certificate));
    }

    public KeyManagerFactory keyManagers() {
        try {
            var store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            var chain = Pem.certificates(certificate).toArray(Certificate[]::new);
            store.setKeyEntry("self", Pem.privateKey(key), NO_PASSWORD, chain);
            var factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(store, NO_PASSWORD);
            return factory;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new TlsException(certificate + " and " + key + " do not make a usable key pair: " + e.getMessage());
        }
    }

    /** Trusts the cluster CA only, and refuses certificates its revocation list names. */
    public TrustManagerFactory trustManagers() {
        try {
            var store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            int i = 0;
            for (var cert : Pem.certificates(ca)) {
                store.setCertificateEntry("ca-" + i++, cert);
            }
            var factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            return RevocationChecking.factory(factory, revocations());
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new TlsException(ca + " is not a usable CA certificate: " + e.getMessage());
        }
    }

    /** The cluster's revocation list, {@code cluster.crl} beside the CA certificate. */
    public RevocationList revocations() {
        return RevocationList.beside(ca);
    }

    /** A TLS context that presents this party's certificate and trusts only the cluster CA. */
    public SSLContext context() {
        try {
            var context = SSLContext.getInstance("TLS");
            context.init(keyManagers().getKeyManagers(), trustManagers().getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new TlsException("cannot make a TLS context from " + certificate + ": " + e.getMessage());
        }
    }
}
