package dev.flocker.ca;

import dev.flocker.api.tls.TlsFiles;
import dev.flocker.api.model.NodeId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A whole cluster's certificates in one directory, made on demand: the CA, the control service's, one per node
 * ({@code node-<uuid>.crt}), one per API user ({@code <name>.crt}, the plugin's {@code plugin.crt}). What the lab, the
 * quickstart and the tests use; operators lay the same files out with {@code flocker-ca} on each host.
 */
public final class ClusterCertificates {
    private final Path dir;
    private final ClusterCa ca;

    private ClusterCertificates(Path dir, ClusterCa ca) {
        this.dir = dir;
        this.ca = ca;
    }

    /** The certificates in {@code dir}, with a new CA and a control certificate for {@code controlHosts} if not there yet. */
    public static synchronized ClusterCertificates in(Path dir, String clusterName, List<String> controlHosts) {
        var ca = Files.exists(dir.resolve(ClusterCa.CERT)) ? ClusterCa.load(dir) : ClusterCa.initialize(dir, clusterName);
        var certificates = new ClusterCertificates(dir, ca);
        if (!Files.exists(dir.resolve("control-service.crt"))) {
            ca.issueControl(dir, "control-service", controlHosts);
        }
        return certificates;
    }

    public Path dir() {
        return dir;
    }

    public ClusterCa ca() {
        return ca;
    }

    public TlsFiles control() {
        return TlsFiles.in(dir, "control-service");
    }

    public synchronized TlsFiles node(NodeId node) {
        var name = "node-" + node;
        if (!Files.exists(dir.resolve(name + ".crt"))) {
            ca.issueNode(dir, name, node);
        }
        return TlsFiles.in(dir, name);
    }

    public synchronized TlsFiles user(String user) {
        ClusterCa.requireUserFileName(user);
        if (!Files.exists(dir.resolve(user + ".crt"))) {
            ca.issueUser(dir, user, user);
        }
        return TlsFiles.in(dir, user);
    }
}
