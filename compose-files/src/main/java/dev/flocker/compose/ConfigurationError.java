package dev.flocker.compose;

/** An application or deployment file that cannot be used; the message is Flocker's wording where Flocker had one. */
public final class ConfigurationError extends RuntimeException {
    public ConfigurationError(String message) {
        super(message);
    }
}
