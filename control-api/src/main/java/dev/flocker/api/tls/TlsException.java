package dev.flocker.api.tls;

/** Certificates that cannot be used, with the file and what to do about it. */
public final class TlsException extends RuntimeException {
    public TlsException(String message) {
        super(message);
    }
}
