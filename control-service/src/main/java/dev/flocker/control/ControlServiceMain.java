package dev.flocker.control;

import dev.flocker.api.tls.Identity;
import dev.flocker.api.tls.TlsException;
import dev.flocker.api.tls.TlsFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Entry point of {@code bin/flocker-control}: the control service, with Flocker's option names. */
@Command(name = "flocker-control", mixinStandardHelpOptions = true, version = "flocker-control 0.1.0",
        description = {"Runs the control service: the Flocker v1 HTTP API, the desired configuration and the agents' channel.",
                "With no options it runs as a single replica keeping its configuration under /var/lib/flocker."})
public final class ControlServiceMain implements Callable<Integer> {
    @Option(names = "--data-path", defaultValue = "/var/lib/flocker", description = "Directory for the persisted configuration (default: ${DEFAULT-VALUE}).")
    Path dataPath;

    @Option(names = "--port", defaultValue = "4523", description = "HTTP API port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--agent-port", defaultValue = "4524", description = "Port agents connect to (default: ${DEFAULT-VALUE}).")
    int agentPort;

    @Option(names = "--bind", defaultValue = "0.0.0.0", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--cluster-port", defaultValue = "5701", description = "Port replicas talk to each other on (default: ${DEFAULT-VALUE}).")
    int clusterPort;

    @Option(names = "--peer", description = "Another replica's cluster address, host:port (repeat for each; all replicas list the same set).")
    List<String> peers = new ArrayList<>();

    @Option(names = "--node-expiry", defaultValue = "30", description = "Seconds after an agent's last message before its node's state is forgotten (default: ${DEFAULT-VALUE}).")
    int nodeExpiry;

    @Option(names = "--failover-after", defaultValue = "10", description = "Seconds a dataset's primary node may be silent before a"
            + " standby with the newest snapshot is promoted, for datasets with replicas; keep it above the agents' replication"
            + ".fence_after_seconds plus an application's stop time (default: ${DEFAULT-VALUE}).")
    int failoverAfter;

    @Option(names = "--deleted-retention", defaultValue = "86400", description = "Seconds a deleted dataset's tombstone is kept at least:"
            + " retried DELETEs answer 200 and no agent keeps a copy meanwhile (default: ${DEFAULT-VALUE}, a day).")
    long deletedRetention;

    @Option(names = "--metrics-port", defaultValue = "4527", paramLabel = "PORT|off",
            description = "Plain-HTTP port serving Prometheus metrics at /metrics, or 'off' (default: ${DEFAULT-VALUE}).")
    String metricsPort;

    @Option(names = "--metrics-bind", paramLabel = "ADDRESS", description = "Address the metrics port listens on (default: --bind's).")
    String metricsBind;

    @Option(names = "--certificates-path", defaultValue = "/etc/flocker",
            description = "Directory with cluster.crt and this service's control-service.crt/.key, made by flocker-ca (default: ${DEFAULT-VALUE}).")
    Path certificates;

    @Override
    public Integer call() throws InterruptedException {
        for (var peer : peers) {
            if (!peer.matches("^[A-Za-z0-9.-]+:[0-9]{1,5}$")) {
                System.err.println("flocker-control: --peer '" + peer + "' is invalid: use host:port, e.g. 10.0.0.12:5701");
                return 2;
            }
        }
        if (deletedRetention < 1) {
            System.err.println("flocker-control: --deleted-retention " + deletedRetention + " must be at least 1 second");
            return 2;
        }
        int metrics;
        if (metricsPort.equals("off")) {
            metrics = ControlService.Settings.METRICS_OFF;
        } else if (metricsPort.matches("[0-9]{1,5}") && Integer.parseInt(metricsPort) <= 65535) {
            metrics = Integer.parseInt(metricsPort);
        } else {
            System.err.println("flocker-control: --metrics-port '" + metricsPort + "' is invalid: use a port 0-65535 or 'off'");
            return 2;
        }
        if (failoverAfter < 2) {
            System.err.println("flocker-control: --failover-after " + failoverAfter + " must be at least 2 seconds");
            return 2;
        }
        if (nodeExpiry < 1) {
            System.err.println("flocker-control: --node-expiry " + nodeExpiry + " must be at least 1 second");
            return 2;
        }
        var tls = TlsFiles.in(certificates, "control-service");
        try {
            var identity = tls.identity();
            if (identity.role() != Identity.Role.CONTROL) {
                System.err.println("flocker-control: " + tls.certificate() + " is " + identity
                        + "'s certificate, not the control service's (make one with flocker-ca create-control-certificate)");
                return 2;
            }
            tls.context();
        } catch (TlsException | IllegalArgumentException e) {
            System.err.println("flocker-control: " + e.getMessage());
            return 2;
        }
        var settings = new ControlService.Settings(dataPath, bind, port, agentPort, clusterPort, peers,
                Duration.ofSeconds(nodeExpiry), Duration.ofMillis(200), tls, Duration.ofSeconds(deletedRetention), metricsBind, metrics,
                Duration.ofSeconds(failoverAfter));
        ControlService service;
        try {
            service = ControlService.start(settings);
        } catch (RuntimeException e) {
            System.err.println("flocker-control: " + e.getMessage());
            return 1;
        }
        var exit = new java.util.concurrent.CompletableFuture<Integer>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.close();
            exit.complete(0);
        }));
        service.memberStopped().thenRun(() -> exit.complete(1));
        System.err.println("flocker-control: API on " + bind + ":" + service.apiPort() + ", agents on " + bind + ":" + service.agentPort()
                + (service.metricsPort() == ControlService.Settings.METRICS_OFF ? "" : ", metrics on http://"
                + (metricsBind == null ? bind : metricsBind) + ":" + service.metricsPort() + "/metrics"));
        System.err.println("flocker-control: started: " + service.startPhases());
        int code = exit.join(); // completed only with a value
        if (code != 0) {
            System.err.println("flocker-control: this replica's cluster member stopped by itself (the log says why); it stopped serving and"
                    + " exits so that its supervisor restarts it");
        }
        return code;
    }

    public static void main(String[] args) {
        int exit = new CommandLine(new ControlServiceMain()).execute(args);
        if (exit != 0) {
            System.exit(exit);
        }
    }
}
