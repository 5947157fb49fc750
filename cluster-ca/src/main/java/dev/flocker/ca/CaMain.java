package dev.flocker.ca;

import dev.flocker.api.model.NodeId;
import dev.flocker.api.tls.TlsException;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bin/flocker-ca}: the cluster's certificate authority, with Flocker's command names. Files are written with the
 * names the services look for by default under /etc/flocker: cluster.crt, control-service.crt/.key, node.crt/.key,
 * plugin.crt/.key, and &lt;user&gt;.crt/.key for API users (flocker-deploy looks for user.crt/.key).
 */
@Command(name = "flocker-ca", mixinStandardHelpOptions = true, version = "flocker-ca 0.1.0",
        description = "Creates the cluster CA and the certificates of the control service, nodes, API users and the Docker plugin.",
        subcommands = {CaMain.Initialize.class, CaMain.Control.class, CaMain.Node.class, CaMain.User.class, CaMain.Plugin.class,
                CaMain.Revoke.class},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:written", "1:refused (e.g. a file exists, no CA found)", "2:wrong usage"})
public final class CaMain implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    /** Where the CA is read from and certificates go. */
    static final class Paths {
        @Option(names = {"-i", "--inputpath"}, defaultValue = ".", description = "Directory with cluster.crt and cluster.key (default: the current directory).")
        Path input;

        @Option(names = {"-o", "--outputpath"}, defaultValue = ".", description = "Directory to write to (default: the current directory).")
        Path output;

        ClusterCa ca() {
            return ClusterCa.load(input);
        }
    }

    abstract static class Step implements Callable<Integer> {
        @CommandLine.Mixin
        Paths paths;

        abstract String run();

        @Override
        public Integer call() {
            try {
                System.out.println(run());
                return 0;
            } catch (TlsException | IllegalArgumentException | IllegalStateException e) {
                System.err.println("flocker-ca: " + e.getMessage());
                return 1;
            }
        }
    }

    @Command(name = "initialize", description = "Creates the cluster CA: cluster.crt (give it to every node and user) and cluster.key (keep it safe).")
    static final class Initialize extends Step {
        @Parameters(paramLabel = "CLUSTER_NAME", description = "A name for the cluster.")
        String name;

        @Override
        String run() {
            var ca = ClusterCa.initialize(paths.output, name);
            return "Created " + paths.output.resolve(ClusterCa.CERT) + " and " + paths.output.resolve(ClusterCa.KEY) + " for cluster " + name
                    + " (" + ca.clusterId() + "). Copy cluster.crt to /etc/flocker on every node; keep cluster.key off them.";
        }
    }

    @Command(name = "create-control-certificate", description = "The control service's certificate, for the names and addresses clients use.")
    static final class Control extends Step {
        @Parameters(paramLabel = "HOST", arity = "1..*", description = "Host names or IP addresses of the control service.")
        List<String> hosts;

        @Override
        String run() {
            paths.ca().issueControl(paths.output, "control-service", hosts);
            return "Created control-service.crt and control-service.key in " + paths.output + " for " + String.join(", ", hosts)
                    + " (and the name control-service). Install them in /etc/flocker on the control service's host.";
        }
    }

    @Command(name = "create-node-certificate", description = "A node's certificate; its CN carries the node's UUID, which is the node's identity.")
    static final class Node extends Step {
        @Option(names = "--uuid", description = "The node's UUID (default: a new one).")
        String uuid;

        @Override
        String run() {
            var node = NodeId.of(uuid != null ? uuid : UUID.randomUUID().toString());
            paths.ca().issueNode(paths.output, "node", node);
            return "Created node.crt and node.key in " + paths.output + " for node " + node + ". Install them in /etc/flocker on that node.";
        }
    }

    @Command(name = "create-api-certificate", description = "An API user's certificate (CN user-<name>), for flocker-deploy, scripts, the Go and Python clients.")
    static final class User extends Step {
        @Parameters(paramLabel = "USERNAME", description = "The user's name.")
        String user;

        @Override
        String run() {
            paths.ca().issueUser(paths.output, user, user);
            return "Created " + user + ".crt and " + user + ".key in " + paths.output + " (flocker-deploy looks for user.crt and user.key).";
        }
    }

    @Command(name = "create-plugin-certificate", description = "The Docker plugin's certificate (API user 'plugin'): plugin.crt and plugin.key.")
    static final class Plugin extends Step {
        @Override
        String run() {
            paths.ca().issueUser(paths.output, "plugin", "plugin");
            return "Created plugin.crt and plugin.key in " + paths.output + ". Install them in /etc/flocker on every node.";
        }
    }

    @Command(name = "revoke", description = "Revokes a certificate (a stolen node's or user's): adds it to cluster.crl, which the control"
            + " service, the agents and flocker-deploy check beside cluster.crt.")
    static final class Revoke extends Step {
        @Parameters(paramLabel = "CERTIFICATE", description = "The certificate file to revoke, e.g. alice.crt or node.crt.")
        Path certificate;

        @Override
        String run() {
            var revoked = dev.flocker.api.tls.Pem.certificate(certificate);
            var who = dev.flocker.api.tls.Identity.subject(revoked, "CN").orElse("?");
            var list = paths.output.resolve(dev.flocker.api.tls.RevocationList.FILE);
            boolean added = paths.ca().revoke(paths.output, revoked);
            return (added ? "Revoked " : "Already revoked: ") + who + " (serial " + revoked.getSerialNumber().toString(16) + ") in " + list
                    + ". Copy " + list.getFileName() + " beside cluster.crt on the control service's host, every node and users' machines;"
                    + " the control service and agents read it again when it changes.";
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new CaMain()).execute(args));
    }
}
