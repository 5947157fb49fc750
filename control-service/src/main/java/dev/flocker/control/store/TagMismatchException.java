package dev.flocker.control.store;

/** A conditional write named a configuration tag that is no longer current. */
public final class TagMismatchException extends RuntimeException {
    private final String required;
    private final String current;

    public TagMismatchException(String required, String current) {
        super("Tag doesn't match. Required: " + required + ", current: " + current);
        this.required = required;
        this.current = current;
    }

    public String required() {
        return required;
    }

    public String current() {
        return current;
    }
}
