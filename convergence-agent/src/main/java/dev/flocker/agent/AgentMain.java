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

    @Option(names = "--pid-file", description = "Write this process's id to this file once the agent runs.")
    Path pidFile;

    @Option(names = "--remove-routes", description = "Remove the kernel forwarding rules a stopped agent of this host leaves "
            + "(its applications stay reachable at the host's address while the agent is away), then exit; for a host leaving "
            + "the cluster.")
    boolean removeRoutes;

    @Override
    public Integer call() throws InterruptedException {
        if (removeRoutes) {
            try {
                var removed = Agent.removeKernelRules(AgentConfig.load(config));
                System.out.println(removed.map(chain -> "removed the kernel forwarding chains " + chain + "*")
                        .orElse("nothing removed: iptables cannot be used here (see the log line above)"));
                return removed.isPresent() ? 0 : 1;
            } catch (AgentConfig.ConfigException e) {
                System.err.println("flocker-agent: " + e.getMessage());
                return 2;
            }
        }
        Agent agent;
        try {
            agent = Agent.start(AgentConfig.load(config));
        } catch (AgentConfig.ConfigException e) {
            System.err.println("flocker-agent: " + e.getMessage());
            return 2;
        } catch (RuntimeException e) {
            System.err.println("flocker-agent: cannot start: " + e.getMessage());
            return 1;
        }
        if (pidFile != null) {
            try {
                java.nio.file.Files.writeString(pidFile, ProcessHandle.current().pid() + "\n");
            } catch (java.io.IOException e) {
                System.err.println("flocker-agent: cannot write --pid-file " + pidFile + ": " + e.getMessage());
            }
        }
        var done = new java.util.concurrent.CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.close();
            done.countDown();
        }));
        done.await();
        return 0;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new AgentMain()).execute(args));
    }
}
