package dev.flocker.volume.transfer;

import dev.flocker.volume.zfs.ZfsNames;
import java.util.regex.Pattern;

/**
 * A host that datasets are shipped to, as cluster configuration describes it.
 *
 * @param host    address or host name of the peer's sshd
 * @param hostKey the peer's pinned SSH host key, "type base64" as in a known_hosts or .pub file
 * @param root    the peer's root dataset (its pool, or a path in it), where datasets land as {@code <root>/<id>}
 */
public record Peer(String host, int port, String user, String hostKey, String root) {
    private static final Pattern HOST = Pattern.compile("^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$|^\\[?[0-9A-Fa-f:]+]?$");
    private static final Pattern USER = Pattern.compile("^[a-z_][a-z0-9_-]{0,31}$");
    private static final Pattern KEY = Pattern.compile("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|rsa-sha2-(256|512)) [A-Za-z0-9+/=]+$");

    public Peer {
        if (host == null || !HOST.matcher(host).matches()) {
            throw new IllegalArgumentException("peer host '" + host + "' is invalid: use an IP address or a DNS name");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("peer port " + port + " for " + host + " is out of range 1-65535");
        }
        if (user == null || !USER.matcher(user).matches()) {
            throw new IllegalArgumentException("peer user '" + user + "' for " + host + " is invalid: use a POSIX user name");
        }
        if (hostKey == null || !KEY.matcher(hostKey.strip()).matches()) {
            throw new IllegalArgumentException("pinned host key for " + host + " is invalid: expected 'ssh-ed25519 AAAA...' as in a .pub file, got '"
                    + hostKey + "'");
        }
        hostKey = hostKey.strip();
        ZfsNames.requireRoot(root);
    }

    public static Peer root(String host, String hostKey, String root) {
        return new Peer(host, 22, "root", hostKey, root);
    }

    public String address() {
        return host + ":" + port;
    }
}
