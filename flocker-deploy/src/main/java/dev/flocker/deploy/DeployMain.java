package dev.flocker.deploy;

import dev.flocker.api.client.FlockerApiException;
import dev.flocker.api.client.FlockerClient;
import dev.flocker.compose.ApplicationFile;
import dev.flocker.compose.ConfigurationError;
import dev.flocker.compose.Deployment;
import dev.flocker.compose.DeploymentFile;
import dev.flocker.api.model.ClusterState;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.model.NodeState;
import dev.flocker.api.tls.TlsException;
import dev.flocker.api.tls.TlsFiles;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bin/flocker-deploy}: a deployment file and a Flocker, Fig or Compose application file become the cluster's
 * desired configuration. The files are checked here first (errors name the file, line and column), the plan is shown,
 * then the whole configuration is sent conditionally on the configuration the plan was made from.
 */
@Command(name = "flocker-deploy", mixinStandardHelpOptions = true, version = "flocker-deploy 0.1.0", subcommands = {DeployMain.Status.class, DeployMain.Ui.class},
        description = {"Deploys applications: a deployment file and a Flocker, Fig or Compose application file become the cluster's "
                + "desired configuration. Moving an application to another node in the deployment file moves it with its data."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:deployed (with --wait: and converged); with --dry-run: planned", "1:a file or the control service refused the "
                + "configuration; nothing was changed", "2:wrong usage", "3:--wait gave up before the cluster converged",
                "4:the control service cannot be reached"})
public final class DeployMain implements Callable<Integer> {
    private static final int CONFLICT_RETRIES = 5;

    /**
     * Options every command shares; they may come before or after a command's name ({@code -c DIR status HOST} and
     * {@code status -c DIR HOST} alike): values given after it win.
     */
    static final class Connection {
        @Option(names = "--port", paramLabel = "PORT", description = "Control service API port (default: 4523).")
        Integer port;

        @Option(names = {"-c", "--certificates-directory"}, paramLabel = "DIR",
                description = "Directory with cluster.crt, user.crt and user.key, as Flocker's flocker-deploy (default: the current directory).")
        Path certificates;

        @Option(names = "--cacert", paramLabel = "FILE", description = "The cluster CA certificate (default: DIR/cluster.crt).")
        Path caCert;

        @Option(names = "--cert", paramLabel = "FILE", description = "Your API user certificate (default: DIR/user.crt).")
        Path cert;

        @Option(names = "--key", paramLabel = "FILE", description = "Its private key (default: DIR/user.key).")
        Path key;

        /** These options, with those not given here taken from {@code outer} (the options before the command's name). */
        Connection over(Connection outer) {
            var merged = new Connection();
            merged.port = port != null ? port : outer.port;
            merged.certificates = certificates != null ? certificates : outer.certificates;
            merged.caCert = caCert != null ? caCert : outer.caCert;
            merged.cert = cert != null ? cert : outer.cert;
            merged.key = key != null ? key : outer.key;
            return merged;
        }

        TlsFiles tls() {
            var dir = certificates != null ? certificates : Path.of(".");
            return new TlsFiles(caCert != null ? caCert : dir.resolve("cluster.crt"),
                    cert != null ? cert : dir.resolve("user.crt"), key != null ? key : dir.resolve("user.key"));
        }

        FlockerClient client(String host) {
            var tls = tls();
            try {
                return new FlockerClient(URI.create("https://" + host + ":" + (port != null ? port : 4523)), tls);
            } catch (TlsException e) {
                throw new DeployException(e.getMessage() + " (pass the certificate files with -c DIR or --cacert, --cert, --key)", 2);
            } catch (IllegalArgumentException e) {
                throw new DeployException("control host '" + host + "' is not a host name or address: " + e.getMessage(), 2);
            }
        }
    }

    @Mixin
    Connection connection;

    @Option(names = "--profile", paramLabel = "NAME", description = "Enable a Compose profile (repeatable; COMPOSE_PROFILES too): services"
            + " of profiles not enabled are left out unless the deployment file names them.")
    List<String> profiles = new java.util.ArrayList<>();

    @Option(names = "--docker-host", paramLabel = "URL", description = "The Docker daemon that builds the images of services with 'build'"
            + " (e.g. unix:///var/run/docker.sock or a node's tcp://10.0.0.11:2376; default: the docker CLI's own, DOCKER_HOST).")
    String dockerHost;

    @Option(names = "--dry-run", description = "Show what would change (starts, moves with their data, stops, restarts) and change nothing.")
    boolean dryRun;

    @Option(names = "--wait", description = "After deploying, follow the cluster until it has converged (moves: phase, bytes, rate, ETA).")
    boolean await;

    @Option(names = "--timeout", defaultValue = "600", paramLabel = "SECONDS",
            description = "How long --wait waits for convergence (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    // Optional for picocli so that `flocker-deploy status HOST` parses; call() requires them for a deployment.
    @Parameters(index = "0", arity = "0..1", paramLabel = "CONTROL_HOST", description = "Control service host.")
    String controlHost;

    @Parameters(index = "1", arity = "0..1", paramLabel = "DEPLOYMENT_FILE",
            description = "Deployment file (version: 1, nodes: {<node address>: [<apps>]}).")
    Path deploymentPath;

    @Parameters(index = "2", arity = "0..1", paramLabel = "APPLICATION_FILE", description = "Application file: Flocker's native format, Fig, or Compose.")
    Path applicationPath;

    @Spec
    CommandSpec spec;

    PrintStream out = System.out;

    @Override
    public Integer call() {
        if (controlHost == null || deploymentPath == null || applicationPath == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "Missing required parameters: CONTROL_HOST DEPLOYMENT_FILE APPLICATION_FILE (or a command: status CONTROL_HOST)");
        }
        try {
            return deploy();
        } catch (DeployException e) {
            System.err.println("flocker-deploy: " + e.getMessage());
            return e.exitCode();
        }
    }

    private int deploy() {
        var applicationFile = YamlFile.read(applicationPath);
        var deploymentFile = YamlFile.read(deploymentPath);
        var placement = parse(deploymentFile, () -> DeploymentFile.parse(deploymentFile.value));
        var standbys = parse(deploymentFile, () -> DeploymentFile.standbys(deploymentFile.value));
        var named = new java.util.HashSet<String>();
        placement.values().forEach(named::addAll);
        var resolved = ComposeInputs.resolve(applicationFile.value, applicationPath, ComposeInputs.activeProfiles(profiles), named);
        var checked = parse(applicationFile, () -> ApplicationFile.parse(ImageBuilds.withoutBuilds(resolved)));
        // Built only once the file is known good: a build takes time, and its image replaces 'build' in what is sent.
        var images = new ImageBuilds(dockerHost, out);
        var builds = images.build(resolved, applicationPath);
        var application = builds.root();
        var apps = builds.built().isEmpty() ? checked : parse(applicationFile, () -> ApplicationFile.parse(application));
        var client = connection.client(controlHost);
        for (int attempt = 1; ; attempt++) {
            var current = ClusterView.read(client);
            var next = parse(deploymentFile, () -> Deployment.apply(current.configuration(), current.cluster(), apps, placement,
                    standbys));
            var plan = DeployPlan.between(current.configuration(), next, current.hosts());
            if (attempt == 1 || !dryRun) {
                print(plan);
            }
            if (dryRun) {
                out.println("dry run: nothing was sent");
                return 0;
            }
            try {
                images.upload(builds.built(), client);
                call(() -> client.compose(application, deploymentFile.value, current.tag()));
                out.println("configuration updated");
                if (!await) {
                    return 0;
                }
                boolean terminal = Convergence.onTerminal() && out == System.out;
                return new Convergence(client, out, Duration.ofSeconds(timeoutSeconds), terminal, terminal ? Convergence.terminalColumns() : 120)
                        .await(next, current.hosts());
            } catch (FlockerApiException e) {
                if (e.status() == 412 && attempt < CONFLICT_RETRIES) {
                    out.println("the configuration changed meanwhile; planning again");
                    continue;
                }
                throw new DeployException("the control service refused the configuration: " + e.description(), 1);
            }
        }
    }

    private void print(DeployPlan plan) {
        if (plan.changesNothing()) {
            out.println("nothing to change (" + plan.unchanged() + " applications as deployed)");
            return;
        }
        plan.lines().forEach(out::println);
        if (plan.unchanged() > 0) {
            out.println("unchanged: " + plan.unchanged() + " applications");
        }
    }

    private static <T> T parse(YamlFile file, java.util.function.Supplier<T> parser) {
        try {
            return parser.get();
        } catch (ConfigurationError e) {
            // Every problem at its own line and column (several applications' problems are reported at once).
            throw new DeployException(String.join("\n", e.problems().stream().map(file::locate).toList()));
        }
    }

    /** Runs a call to the control service; an unreachable service is exit code 4. */
    static <T> T call(java.util.function.Supplier<T> request) {
        try {
            return request.get();
        } catch (FlockerApiException e) {
            if (e.status() == 0) {
                throw new DeployException(e.description(), 4);
            }
            if (e.status() == 401 || e.status() == 403) {
                throw new DeployException("the control service refused this certificate: " + e.description(), 1);
            }
            throw e;
        }
    }

    /** The configuration (with the tag it was read at), the nodes and their addresses, read consistently. */
    record ClusterView(Configuration configuration, String tag, ClusterState cluster, Map<NodeId, String> hosts) {
        static ClusterView read(FlockerClient client) {
            for (int attempt = 1; ; attempt++) {
                var datasets = call(client::datasets);
                var containers = call(client::containersTagged);
                if (!java.util.Objects.equals(datasets.tag(), containers.tag()) && attempt < 10) {
                    continue; // a change landed between the two reads
                }
                // One construction, not a with...() per entry: each of those copies and sorts the whole map.
                var configuration = new Configuration(0,
                        datasets.value().stream().collect(java.util.stream.Collectors.toMap(d -> d.datasetId(), d -> d)),
                        containers.value().stream().collect(java.util.stream.Collectors.toMap(a -> a.name(), a -> a)), Map.of());
                var nodes = new LinkedHashMap<NodeId, NodeState>();
                var hosts = new LinkedHashMap<NodeId, String>();
                for (var node : call(client::nodes)) {
                    nodes.put(node.uuid(), new NodeState(node.uuid(), node.host(), "", List.of(), List.of(), List.of()));
                    hosts.put(node.uuid(), node.host());
                }
                return new ClusterView(configuration, datasets.tag(), new ClusterState(nodes), hosts);
            }
        }
    }

    /** A dataset's standbys for {@code status}: each host with its lag ("10.0.0.12 lag 1.2 s"), or "-" when it has none. */
    static String standbys(dev.flocker.api.model.Dataset dataset, List<FlockerClient.StandbyView> reported,
                           java.util.Map<dev.flocker.api.model.NodeId, String> hosts) {
        if (dataset.replicas() == 0) {
            return "-";
        }
        var parts = new java.util.ArrayList<String>();
        for (var node : dataset.standbyNodes()) {
            var seen = reported.stream().filter(s -> s.node().equals(node)).findFirst();
            var host = DeployPlan.host(hosts, node);
            parts.add(seen.map(s -> s.error() != null ? host + " failing: " + s.error()
                    : s.lagSeconds() == null ? host + " copying" : String.format(java.util.Locale.ROOT, "%s lag %.1f s", host, s.lagSeconds()))
                    .orElse(host + " waiting"));
        }
        for (int i = dataset.standbyNodes().size(); i < dataset.replicas(); i++) {
            parts.add("(no node free)");
        }
        return String.join(", ", parts);
    }

    /** {@code flocker-deploy status HOST}: nodes, applications and datasets as tables. */
    @Command(name = "status", mixinStandardHelpOptions = true, description = "Show the cluster's nodes, applications and datasets.")
    static final class Status implements Callable<Integer> {
        @Mixin
        Connection connection;

        @CommandLine.ParentCommand
        DeployMain parent;

        @Parameters(index = "0", paramLabel = "CONTROL_HOST", description = "Control service host.")
        String controlHost;

        @Override
        public Integer call() {
            try {
                var client = connection.over(parent.connection).client(controlHost);
                var view = ClusterView.read(client);
                var running = DeployMain.call(client::containerState);
                var state = DeployMain.call(client::datasetState);
                var out = System.out;
                out.println("NODES");
                table(out, List.of("UUID", "ADDRESS"), view.hosts().entrySet().stream().map(e -> List.of(e.getKey().toString(), e.getValue())).toList());
                out.println();
                out.println("APPLICATIONS");
                table(out, List.of("NAME", "NODE", "IMAGE", "PORTS", "STATE"), view.configuration().applications().values().stream()
                        .sorted(java.util.Comparator.comparing(a -> a.name())).map(app -> List.of(app.name(), DeployPlan.host(view.hosts(), app.node()),
                                app.imageWithTag(), String.join(",", app.ports().stream().map(p -> p.external() + "->" + p.internal()).toList()),
                                running.stream().anyMatch(c -> c.name().equals(app.name()) && c.running() && app.node().equals(c.node()))
                                        ? "running" : "not running" + Convergence.startError(running, app).map(e -> ": " + e).orElse("")))
                        .toList());
                out.println();
                out.println("DATASETS");
                table(out, List.of("NAME", "DATASET", "PRIMARY", "USED", "MAX SIZE", "STANDBYS", "STATE"), view.configuration().datasets().values().stream()
                        .filter(d -> !d.deleted()).sorted(java.util.Comparator.comparing(d -> String.valueOf(d.metadata().get("name"))))
                        .map(d -> {
                            var here = state.stream().filter(s -> s.datasetId().equals(d.datasetId())).findFirst();
                            var move = here.map(FlockerClient.DatasetStateView::move).orElse(null);
                            var where = here.filter(s -> s.path() != null).map(s -> "mounted on " + DeployPlan.host(view.hosts(), s.primary()))
                                    .orElse("not mounted");
                            var used = here.map(FlockerClient.DatasetStateView::usedBytes).map(DeployPlan::bytes).orElse("-");
                            return List.of(String.valueOf(d.metadata().getOrDefault("name", "-")), d.datasetId().toString(),
                                    DeployPlan.host(view.hosts(), d.primary()), used, d.maximumSize() == null ? "-" : DeployPlan.bytes(d.maximumSize()),
                                    standbys(d, here.map(FlockerClient.DatasetStateView::standbys).orElse(List.of()), view.hosts()),
                                    move == null || move.phase() == dev.flocker.api.model.MovePhase.DONE ? where : "moving: " + Convergence.describe(move));
                        }).toList());
                return 0;
            } catch (DeployException e) {
                System.err.println("flocker-deploy: " + e.getMessage());
                return e.exitCode();
            }
        }
    }

    /** {@code flocker-deploy ui HOST}: a local web page of the cluster that relays the API with this user's certificate. */
    @Command(name = "ui", mixinStandardHelpOptions = true, description = {"Serve a web page of the cluster (nodes, applications, datasets,"
            + " moves live; move an application or dataset with a click) on this machine, relaying the API with your certificate,"
            + " as kubectl proxy does: no browser needs a client certificate."})
    static final class Ui implements Callable<Integer> {
        @Mixin
        Connection connection;

        @CommandLine.ParentCommand
        DeployMain parent;

        @Option(names = "--listen", defaultValue = "127.0.0.1:4580", paramLabel = "ADDRESS:PORT",
                description = "Where the page is served (default: ${DEFAULT-VALUE}; keep it on loopback: whoever reaches it acts as you).")
        String listen;

        @Parameters(index = "0", paramLabel = "CONTROL_HOST", description = "Control service host.")
        String controlHost;

        @Override
        public Integer call() throws Exception {
            try {
                var colon = listen.lastIndexOf(':');
                var host = colon <= 0 ? "" : listen.substring(0, colon);
                var port = colon <= 0 ? "" : listen.substring(colon + 1);
                if (host.isEmpty() || !port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65535) {
                    throw new DeployException("--listen '" + listen + "' is invalid: use address:port, e.g. 127.0.0.1:4580", 2);
                }
                var options = connection.over(parent.connection);
                var client = options.client(controlHost);
                DeployMain.call(client::version); // the certificate and the service work before a browser tries them
                var address = new java.net.InetSocketAddress(host, Integer.parseInt(port));
                dev.flocker.deploy.ui.Dashboard dashboard;
                try {
                    dashboard = dev.flocker.deploy.ui.Dashboard.start(address, URI.create(client.toString()), options.tls().context());
                } catch (java.io.IOException e) {
                    throw new DeployException("cannot serve the page at " + listen + ": " + e.getMessage(), 1);
                }
                System.out.println("Dashboard of " + client + " at http://" + host + ":" + dashboard.address().getPort()
                        + "/ (Ctrl-C to stop)");
                System.out.flush();
                new java.util.concurrent.CountDownLatch(1).await();
                return 0;
            } catch (DeployException e) {
                System.err.println("flocker-deploy: " + e.getMessage());
                return e.exitCode();
            }
        }
    }

    static void table(PrintStream out, List<String> header, List<List<String>> rows) {
        var widths = new int[header.size()];
        var all = new ArrayList<List<String>>();
        all.add(header);
        all.addAll(rows);
        for (var row : all) {
            for (int i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        for (var row : all) {
            var line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                line.append(String.format("%-" + (widths[i] + 2) + "s", row.get(i)));
            }
            out.println(line.toString().stripTrailing());
        }
        if (rows.isEmpty()) {
            out.println("(none)");
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new DeployMain()).execute(args));
    }
}
