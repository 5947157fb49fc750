package dev.flocker.volume.transfer;

import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.UserInfo;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;

/**
 * Accepts exactly one host key, the one cluster configuration pins for a peer; anything else is refused,
 * and the offered key is remembered so the error can name both fingerprints.
 */
final class PinnedHostKey implements HostKeyRepository {
    private final String type;
    private final byte[] key;
    private volatile byte[] offered;

    PinnedHostKey(String pinned) {
        var parts = pinned.split(" ");
        this.type = parts[0];
        this.key = Base64.getDecoder().decode(parts[1]);
    }

    @Override
    public int check(String host, byte[] offeredKey) {
        offered = offeredKey.clone();
        return Arrays.equals(key, offeredKey) ? OK : CHANGED;
    }

    String describeMismatch() {
        return "pinned " + type + " " + fingerprint(key) + ", offered " + (offered == null ? "nothing" : fingerprint(offered));
    }

    static String fingerprint(byte[] blob) {
        try {
            var digest = MessageDigest.getInstance("SHA-256").digest(blob);
            return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void add(HostKey hostkey, UserInfo ui) {
        // Keys are pinned by configuration only; nothing is learned on first use.
    }

    @Override
    public void remove(String host, String type) {
    }

    @Override
    public void remove(String host, String type, byte[] key) {
    }

    @Override
    public String getKnownHostsRepositoryID() {
        return "flocker-pinned";
    }

    @Override
    public HostKey[] getHostKey() {
        return new HostKey[0];
    }

    @Override
    public HostKey[] getHostKey(String host, String type) {
        try {
            return new HostKey[] {new HostKey(host, key)};
        } catch (JSchException e) {
            return new HostKey[0];
        }
    }
}
