package dev.flocker.control;

import dev.flocker.api.tls.TlsFiles;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.TrustOptions;

/**
 * The control service's listeners: TLS with its certificate, and a client certificate required, chained to the
 * cluster CA and within its validity (checked during the handshake; a missing, foreign or expired certificate never
 * gets an HTTP exchange). Which role may use which listener is checked after, from the certificate's name.
 */
public final class MutualTls {
    private MutualTls() {}

    /** Which TLS implementation the listeners use: "openssl" (BoringSSL) where it loads, else "jdk". */
    public static String engine() {
        return OpenSSLEngineOptions.isAvailable() ? "openssl" : "jdk";
    }

    public static HttpServerOptions serverOptions(TlsFiles tls) {
        var options = new HttpServerOptions();
        if (OpenSSLEngineOptions.isAvailable()) {
            options.setSslEngineOptions(new OpenSSLEngineOptions()); // BoringSSL: far cheaper per byte than the JDK's engine
        }
        // Request lines up to 16 KiB reach the router (a JSON 404/400 that says why) instead of a bare 414 and a closed
        // connection, which a client still sending its body may see as a reset rather than an answer.
        return options.setMaxInitialLineLength(16 * 1024).setSsl(true)
                .setKeyCertOptions(KeyCertOptions.wrap(tls.keyManagers()))
                .setTrustOptions(TrustOptions.wrap(tls.trustManagers()))
                .setClientAuth(ClientAuth.REQUIRED)
                .setEnabledSecureTransportProtocols(java.util.Set.of("TLSv1.2", "TLSv1.3"));
    }
}
