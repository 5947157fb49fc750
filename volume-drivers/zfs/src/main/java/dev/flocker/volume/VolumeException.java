package dev.flocker.volume;

/** A volume operation failed; the message names the dataset, the operation and the backend's own words. */
public class VolumeException extends RuntimeException {
    public VolumeException(String message) {
        super(message);
    }

    public VolumeException(String message, Throwable cause) {
        super(message, cause);
    }
}
