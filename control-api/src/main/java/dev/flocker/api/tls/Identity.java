package dev.flocker.api.tls;

import dev.flocker.api.model.NodeId;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;

/**
 * Who a certificate signed by the cluster CA speaks for, from its subject's common name, as Flocker named them:
 * {@code control-service}, {@code node-<uuid>} (an agent), {@code user-<name>} (an API user; the Docker plugin is
 * user {@code plugin}).
 */
public record Identity(Role role, String name) {
    public enum Role { CONTROL, NODE, USER }

    public static final String CONTROL_CN = "control-service";

    /** The identity of a TLS peer's chain (its first certificate); an {@link IllegalArgumentException} saying why not. */
    public static Identity of(List<? extends Certificate> chain) {
        if (chain == null || chain.isEmpty() || !(chain.get(0) instanceof X509Certificate cert)) {
            throw new IllegalArgumentException("no client certificate was presented");
        }
        return of(cert);
    }

    public static Identity of(X509Certificate cert) {
        var cn = commonName(cert);
        if (cn.equals(CONTROL_CN)) {
            return new Identity(Role.CONTROL, cn);
        }
        if (cn.startsWith("node-")) {
            var uuid = cn.substring(5);
            try {
                NodeId.of(uuid);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("certificate CN '" + cn + "' does not carry a node UUID");
            }
            return new Identity(Role.NODE, uuid);
        }
        if (cn.startsWith("user-") && cn.length() > 5) {
            return new Identity(Role.USER, cn.substring(5));
        }
        throw new IllegalArgumentException("certificate CN '" + cn + "' is none of control-service, node-<uuid>, user-<name>");
    }

    static String commonName(X509Certificate cert) {
        return subject(cert, "CN").orElseThrow(
                () -> new IllegalArgumentException("certificate subject " + cert.getSubjectX500Principal() + " has no CN"));
    }

    /** The value of attribute {@code type} (CN, OU, ...) of a certificate's subject, if it has one. */
    public static java.util.Optional<String> subject(X509Certificate cert, String type) {
        try {
            for (var rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase(type)) {
                    return java.util.Optional.of(String.valueOf(rdn.getValue()));
                }
            }
        } catch (InvalidNameException e) {
            throw new IllegalArgumentException("unreadable certificate subject: " + e.getMessage());
        }
        return java.util.Optional.empty();
    }

    /** The node this identity speaks for; only for {@link Role#NODE}. */
    public NodeId node() {
        if (role != Role.NODE) {
            throw new IllegalStateException(this + " is not a node");
        }
        return NodeId.of(name);
    }

    @Override
    public String toString() {
        return switch (role) {
            case CONTROL -> CONTROL_CN;
            case NODE -> "node-" + name;
            case USER -> "user-" + name;
        };
    }
}
