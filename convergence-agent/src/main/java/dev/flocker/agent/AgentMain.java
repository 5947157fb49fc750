package dev.flocker.agent;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Entry point of {@code bin/flocker-agent}: the convergence agent with its proxy and Docker plugin. */
@Command(name = "flocker-agent", mixinStandardHelpOptions = true, version = "flocker-agent 0.1.0",
        description = "Runs the convergence agent of this host, with its routing proxy and Docker volume plugin.")
public final class AgentMain implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, defaultValue = "/etc/flocker/agent.yml", description = "Agent configuration file (default: ${DEFAULT-VALUE}).")
    Path config;

    @Override
    public Integer call() {
        System.err.println("flocker-agent: the convergence agent is not implemented yet (see the agent issue); only --help works.");
        return 2;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new AgentMain()).execute(args));
    }
}
