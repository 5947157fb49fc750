package dev.flocker.deploy;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Entry point of {@code bin/flocker-deploy}: sends a deployment and application file as the desired configuration. */
@Command(name = "flocker-deploy", mixinStandardHelpOptions = true, version = "flocker-deploy 0.1.0",
        description = "Deploys applications: a deployment file and a Flocker, Fig or Compose application file become the cluster's desired configuration.")
public final class DeployMain implements Callable<Integer> {
    @Option(names = "--port", defaultValue = "4523", description = "Control service API port (default: ${DEFAULT-VALUE}).")
    int port;

    @Parameters(index = "0", description = "Control service host.")
    String controlHost;

    @Parameters(index = "1", description = "Deployment file (version: 1, nodes: {address: [apps]}).")
    Path deployment;

    @Parameters(index = "2", description = "Application file (Flocker native, Fig or Compose).")
    Path application;

    @Override
    public Integer call() {
        System.err.println("flocker-deploy: deploying is not implemented yet (see the flocker-deploy issue); only --help works.");
        return 2;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new DeployMain()).execute(args));
    }
}
