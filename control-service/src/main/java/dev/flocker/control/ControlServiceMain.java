package dev.flocker.control;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Entry point of {@code bin/flocker-control}: the control service, with Flocker's option names. */
@Command(name = "flocker-control", mixinStandardHelpOptions = true, version = "flocker-control 0.1.0",
        description = "Runs the control service: the Flocker v1 HTTP API, the desired configuration and the agents' channel.")
public final class ControlServiceMain implements Callable<Integer> {
    @Option(names = "--data-path", defaultValue = "/var/lib/flocker", description = "Directory for persisted configuration (default: ${DEFAULT-VALUE}).")
    Path dataPath;

    @Option(names = "--port", defaultValue = "4523", description = "HTTP API port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--agent-port", defaultValue = "4524", description = "Port agents connect to (default: ${DEFAULT-VALUE}).")
    int agentPort;

    @Option(names = "--peer", description = "Address host:port of another control-service replica (repeatable).")
    List<String> peers = List.of();

    @Override
    public Integer call() {
        System.err.println("flocker-control: the control service is not implemented yet (see the control-service issue); only --help works.");
        return 2;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new ControlServiceMain()).execute(args));
    }
}
