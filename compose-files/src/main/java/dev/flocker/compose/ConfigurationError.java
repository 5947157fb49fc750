package dev.flocker.compose;

import java.util.List;

/**
 * An application or deployment file that cannot be used; the message is Flocker's wording where Flocker had one. A file
 * with problems in several applications has one problem per application, all reported at once ({@link #problems()};
 * the message joins them with newlines).
 */
public final class ConfigurationError extends RuntimeException {
    private final List<String> problems;

    public ConfigurationError(String message) {
        this(List.of(message));
    }

    private ConfigurationError(List<String> problems) {
        super(String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    /** One error for several problems, in the order found. */
    static ConfigurationError of(List<String> problems) {
        return new ConfigurationError(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
