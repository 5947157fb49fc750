package dev.flocker.lab;

/** A lab command failed; the message carries the command and what it printed. */
public class LabException extends RuntimeException {
    public LabException(String message) {
        super(message);
    }

    public LabException(String message, Throwable cause) {
        super(message, cause);
    }
}
