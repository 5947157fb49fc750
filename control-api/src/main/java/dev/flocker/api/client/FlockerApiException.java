package dev.flocker.api.client;

import java.util.List;

/** The control service answered with an error: its status, Flocker's {@code description} and any schema {@code errors}. */
public final class FlockerApiException extends RuntimeException {
    private final int status;
    private final String description;
    private final List<String> errors;

    public FlockerApiException(int status, String description, List<String> errors) {
        super(status + ": " + description + (errors == null || errors.isEmpty() ? "" : " " + errors));
        this.status = status;
        this.description = description;
        this.errors = errors == null ? List.of() : List.copyOf(errors);
    }

    public int status() {
        return status;
    }

    public String description() {
        return description;
    }

    public List<String> errors() {
        return errors;
    }
}
