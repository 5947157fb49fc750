package dev.flocker.agent;

import dev.flocker.api.model.NodeId;
import dev.flocker.api.tls.Identity;
import dev.flocker.api.tls.TlsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * Who this agent is: the node of its certificate ({@code CN=node-<uuid>}), and the era, which changes every time the
 * host boots (Flocker's era: a report from an earlier boot says nothing of the containers running now).
 */
record NodeIdentity(NodeId node, String era) {

    /** The node's identity is its certificate's; a configured node.uuid must agree with it. Kept beside its state too. */
    static NodeIdentity of(AgentConfig config) {
        var node = certifiedNode(config);
        remember(config.statePath(), node);
        return new NodeIdentity(node, era(node));
    }

    static NodeId certifiedNode(AgentConfig config) {
        Identity identity;
        try {
            identity = config.tls().identity();
            config.tls().context();
        } catch (TlsException | IllegalArgumentException e) {
            throw new AgentConfig.ConfigException("tls: " + e.getMessage());
        }
        if (identity.role() != Identity.Role.NODE) {
            throw new AgentConfig.ConfigException("tls.node_cert " + config.tls().certificate() + " is " + identity
                    + "'s certificate, not a node's (make one with flocker-ca create-node-certificate)");
        }
        var node = identity.node();
        if (config.nodeId() != null && !config.nodeId().equals(node)) {
            throw new AgentConfig.ConfigException("node.uuid " + config.nodeId() + " differs from the node certificate's " + node
                    + "; remove node.uuid or use that node's certificate");
        }
        return node;
    }

    /** The tag of this node's kernel forwarding chains (FLOCKER-&lt;tag&gt;): the first 12 hex digits of its UUID. */
    String kernelTag() {
        return kernelTag(node);
    }

    static String kernelTag(NodeId node) {
        return node.toString().replace("-", "").substring(0, 12);
    }

    /** Keeps the node's identity beside its state too, for operators and tools that look there. */
    private static void remember(Path statePath, NodeId node) {
        try {
            Files.createDirectories(statePath);
            var tmp = statePath.resolve("node.uuid.tmp");
            Files.writeString(tmp, node + "\n");
            Files.move(tmp, statePath.resolve("node.uuid"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new AgentConfig.ConfigException("node.state_path " + statePath + ": cannot keep the node's identity there: " + e.getMessage());
        }
    }

    /** Changes when the host boots: the kernel's boot id, per node. */
    private static String era(NodeId node) {
        try {
            var boot = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
            return UUID.nameUUIDFromBytes((boot + "/" + node).getBytes(StandardCharsets.UTF_8)).toString();
        } catch (IOException e) {
            return UUID.randomUUID().toString();
        }
    }
}
