package dev.flocker.volume.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.jcraft.jsch.HostKeyRepository;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class PeerTest {
    private static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJFKAHcckMgq17IBwXCbp/jAotR3ADzodX1c8pAcIKCl";

    @Test
    void validPeersAreAccepted() {
        var peer = Peer.root("10.213.1.12", KEY + "\n", "fl-lab-n2");
        assertThat(peer.address()).isEqualTo("10.213.1.12:22");
        assertThat(peer.hostKey()).isEqualTo(KEY);
        assertThat(new Peer("node-2.example.com", 2222, "flocker", KEY, "tank/flocker").root()).isEqualTo("tank/flocker");
    }

    @Test
    void badPeersAreRefusedNamingTheField() {
        assertThatThrownBy(() -> Peer.root("10.0.0.1; rm -rf /", KEY, "tank")).hasMessageContaining("peer host '10.0.0.1; rm -rf /'");
        assertThatThrownBy(() -> new Peer("h", 0, "root", KEY, "tank")).hasMessageContaining("peer port 0");
        assertThatThrownBy(() -> new Peer("h", 22, "root$", KEY, "tank")).hasMessageContaining("peer user 'root$'");
        assertThatThrownBy(() -> Peer.root("h", "AAAA", "tank")).hasMessageContaining("pinned host key for h is invalid");
        assertThatThrownBy(() -> Peer.root("h", KEY, "tank/../x")).hasMessageContaining("root dataset 'tank/../x'");
        assertThatThrownBy(() -> Peer.root("h", KEY, "tank x")).hasMessageContaining("'tank x'");
    }

    @Test
    void onlyThePinnedKeyIsAcceptedAndAMismatchNamesBothFingerprints() {
        var pinned = new PinnedHostKey(KEY);
        var blob = Base64.getDecoder().decode(KEY.split(" ")[1]);
        assertThat(pinned.check("h", blob)).isEqualTo(HostKeyRepository.OK);
        var other = blob.clone();
        other[other.length - 1] ^= 1;
        assertThat(pinned.check("h", other)).isEqualTo(HostKeyRepository.CHANGED);
        assertThat(pinned.describeMismatch()).contains(PinnedHostKey.fingerprint(blob)).contains(PinnedHostKey.fingerprint(other));
    }
}
