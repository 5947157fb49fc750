package dev.flocker.volume.transfer;

import dev.flocker.volume.VolumeException;

/** Shipping a dataset to a peer failed; the message says which side failed and what it said. */
public class TransferException extends VolumeException {
    public TransferException(String message) {
        super(message);
    }

    public TransferException(String message, Throwable cause) {
        super(message, cause);
    }
}
