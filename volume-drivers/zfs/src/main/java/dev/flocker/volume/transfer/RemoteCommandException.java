package dev.flocker.volume.transfer;

/** A command run on a peer over SSH exited non-zero. */
public final class RemoteCommandException extends TransferException {
    private final int exit;
    private final String stderr;

    public RemoteCommandException(Peer peer, String command, int exit, String stderr) {
        super("'" + command + "' on peer " + peer.address() + " failed (exit " + exit + "): " + stderr.strip());
        this.exit = exit;
        this.stderr = stderr;
    }

    public int exit() {
        return exit;
    }

    public String stderr() {
        return stderr;
    }
}
