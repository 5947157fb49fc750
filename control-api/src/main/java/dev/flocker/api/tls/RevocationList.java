package dev.flocker.api.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.cert.CRLReason;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateRevokedException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cluster's certificate revocation list, {@code cluster.crl} beside {@code cluster.crt} (written by
 * {@code flocker-ca revoke}, signed by the cluster CA). Read again whenever the file changes, so a revocation takes
 * effect without a restart. No file: nothing is revoked. A file that cannot be read or is not signed by the cluster CA
 * fails every check (closed, not open): a stolen certificate must never get in because a list was damaged.
 */
public final class RevocationList {
    public static final String FILE = "cluster.crl";
    private static final Map<Path, RevocationList> BY_FILE = new ConcurrentHashMap<>();

    private final Path file;
    private final Path caFile;
    private volatile Loaded loaded;

    private record Loaded(FileTime modified, long size, X509CRL crl, String problem) {
    }

    private RevocationList(Path file, Path caFile) {
        this.file = file;
        this.caFile = caFile;
    }

    /** The list beside the CA certificate {@code caFile}; one shared instance per file. */
    public static RevocationList beside(Path caFile) {
        var absolute = caFile.toAbsolutePath().normalize();
        return BY_FILE.computeIfAbsent(absolute.resolveSibling(FILE), f -> new RevocationList(f, absolute));
    }

    /** Throws when {@code certificate} is revoked, or when the list cannot be trusted. */
    public void check(X509Certificate certificate) throws CertificateException {
        var current = current();
        if (current == null) {
            return;
        }
        if (current.problem() != null) {
            throw new CertificateException(current.problem());
        }
        var entry = current.crl().getRevokedCertificate(certificate);
        if (entry != null) {
            var reason = entry.getRevocationReason() == null ? CRLReason.UNSPECIFIED : entry.getRevocationReason();
            throw new CertificateRevokedException(entry.getRevocationDate(), reason, current.crl().getIssuerX500Principal(), Map.of()) {
                @Override
                public String getMessage() {
                    return "certificate " + Identity.subject(certificate, "CN").orElse("?") + " (serial " + certificate.getSerialNumber().toString(16)
                            + ") was revoked on " + entry.getRevocationDate().toInstant() + " (" + file + ")";
                }
            };
        }
    }

    /** When {@code certificate} was revoked, if it was (and the list can be trusted). */
    public Optional<Date> revokedAt(X509Certificate certificate) {
        try {
            check(certificate);
            return Optional.empty();
        } catch (CertificateRevokedException e) {
            return Optional.of(e.getRevocationDate());
        } catch (CertificateException e) {
            return Optional.of(new Date(0)); // an untrusted list revokes everything
        }
    }

    private Loaded current() {
        FileTime modified;
        long size;
        try {
            var attributes = Files.readAttributes(file, BasicFileAttributes.class);
            modified = attributes.lastModifiedTime();
            size = attributes.size();
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            return new Loaded(null, -1, null, file + " cannot be read: " + e.getMessage());
        }
        var seen = loaded;
        if (seen != null && modified.equals(seen.modified()) && size == seen.size()) {
            return seen;
        }
        var fresh = load(modified, size);
        loaded = fresh;
        return fresh;
    }

    private Loaded load(FileTime modified, long size) {
        try (InputStream in = Files.newInputStream(file)) {
            var crl = (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(in);
            var ca = Pem.certificate(caFile);
            crl.verify(ca.getPublicKey());
            if (!crl.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
                return new Loaded(modified, size, null, file + " was issued by " + crl.getIssuerX500Principal() + ", not by the cluster CA");
            }
            return new Loaded(modified, size, crl, null);
        } catch (IOException | GeneralSecurityException | TlsException | ClassCastException e) {
            return new Loaded(modified, size, null, file + " is not a revocation list signed by the cluster CA " + caFile + " ("
                    + e.getMessage() + "); every certificate is refused until it is replaced by one from 'flocker-ca revoke'");
        }
    }
}
