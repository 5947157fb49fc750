package dev.flocker.plugin;

/** A request Docker may not repeat as is: the text goes back in {@code Err}. */
final class PluginError extends RuntimeException {
    PluginError(String message) {
        super(message);
    }

    /** Waits between two looks at the cluster; an interrupt (the agent stopping) fails the call. */
    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PluginError("interrupted");
        }
    }
}
