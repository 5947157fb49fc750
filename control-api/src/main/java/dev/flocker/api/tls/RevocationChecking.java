package dev.flocker.api.tls;

import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.TrustManagerFactorySpi;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A trust manager that checks a peer as the JDK's does (a chain to the cluster CA, within its validity), then against
 * the cluster's revocation list. A revoked peer fails the handshake with {@code certificate_revoked}.
 */
final class RevocationChecking extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager chain;
    private final RevocationList revocations;

    private RevocationChecking(X509ExtendedTrustManager chain, RevocationList revocations) {
        this.chain = chain;
        this.revocations = revocations;
    }

    /** {@code checked}'s trust managers, each also checking {@code revocations}. */
    static TrustManagerFactory factory(TrustManagerFactory checked, RevocationList revocations) {
        var managers = checked.getTrustManagers();
        for (int i = 0; i < managers.length; i++) {
            if (managers[i] instanceof X509ExtendedTrustManager x509) {
                managers[i] = new RevocationChecking(x509, revocations);
            }
        }
        var spi = new TrustManagerFactorySpi() {
            @Override
            protected void engineInit(KeyStore ks) {
            }

            @Override
            protected void engineInit(ManagerFactoryParameters spec) {
            }

            @Override
            protected TrustManager[] engineGetTrustManagers() {
                return managers.clone();
            }
        };
        return new TrustManagerFactory(spi, checked.getProvider(), checked.getAlgorithm()) {
        };
    }

    private void notRevoked(X509Certificate[] peer) throws CertificateException {
        if (peer != null && peer.length > 0) {
            revocations.check(peer[0]);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] peer, String authType, Socket socket) throws CertificateException {
        chain.checkClientTrusted(peer, authType, socket);
        notRevoked(peer);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] peer, String authType, Socket socket) throws CertificateException {
        chain.checkServerTrusted(peer, authType, socket);
        notRevoked(peer);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] peer, String authType, SSLEngine engine) throws CertificateException {
        chain.checkClientTrusted(peer, authType, engine);
        notRevoked(peer);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] peer, String authType, SSLEngine engine) throws CertificateException {
        chain.checkServerTrusted(peer, authType, engine);
        notRevoked(peer);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] peer, String authType) throws CertificateException {
        chain.checkClientTrusted(peer, authType);
        notRevoked(peer);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] peer, String authType) throws CertificateException {
        chain.checkServerTrusted(peer, authType);
        notRevoked(peer);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return chain.getAcceptedIssuers();
    }
}
