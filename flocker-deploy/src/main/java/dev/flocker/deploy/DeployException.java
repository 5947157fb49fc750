package dev.flocker.deploy;

/** A reason flocker-deploy stops, already worded for the user (file, line, column and what would be valid). */
final class DeployException extends RuntimeException {
    private final int exitCode;

    DeployException(String message) {
        this(message, 1);
    }

    DeployException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
