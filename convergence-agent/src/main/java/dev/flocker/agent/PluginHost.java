package dev.flocker.agent;

import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.model.NodeId;
import dev.flocker.api.tls.TlsException;
import dev.flocker.plugin.PluginHttpServer;
import dev.flocker.plugin.VolumePlugin;
import java.io.IOException;
import java.net.URI;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves Docker's volume plugin protocol on this host (driver {@code plugin.name}) and keeps this host's dockerd
 * listing the driver, again after each restart of dockerd (Swarm's scheduler needs it listed).
 */
final class PluginHost implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PluginHost.class);

    private final VolumePlugin plugin;
    private final PluginHttpServer server;
    private volatile boolean stopping;

    private PluginHost(VolumePlugin plugin, PluginHttpServer server) {
        this.plugin = plugin;
        this.server = server;
    }

    /** @param reported what this host's loop reports: a Mount looks again as soon as its volume is reported here */
    static PluginHost start(AgentConfig config, NodeId self, Containers containers, dev.flocker.plugin.ReportedState reported) {
        var settings = config.plugin();
        FlockerClient api;
        try {
            api = new FlockerClient(URI.create("https://" + config.controlHost() + ":" + settings.apiPort()), config.pluginTls());
        } catch (TlsException e) {
            throw new AgentConfig.ConfigException("tls (the Docker plugin's certificate): " + e.getMessage());
        }
        var plugin = new VolumePlugin(api, self, settings.settings(), config.statePath().resolve("docker-mounts.json"),
                () -> containers.volumesInUse(settings.name()), reported);
        PluginHttpServer server;
        try {
            server = PluginHttpServer.start(settings.listen(), plugin);
        } catch (IOException e) {
            plugin.close();
            throw new AgentConfig.ConfigException("plugin.listen " + settings.listen() + ": cannot listen: " + e.getMessage());
        }
        LOG.atInfo().addKeyValue("listen", settings.listen()).addKeyValue("api", api).log("Docker volume plugin serving");
        var host = new PluginHost(plugin, server);
        Thread.ofVirtual().name("plugin-announce").start(() -> host.keepAnnounced(containers, settings.name()));
        return host;
    }

    private void keepAnnounced(Containers containers, String driver) {
        boolean announced = false;
        while (!stopping) {
            try {
                boolean now = containers.announceVolumeDriver(driver);
                if (now != announced) {
                    LOG.atInfo().addKeyValue("driver", driver).log(now ? "dockerd lists the volume plugin" : "dockerd does not list the volume plugin yet");
                }
                announced = now;
            } catch (RuntimeException e) {
                announced = false;
                LOG.atDebug().log("cannot check dockerd's volume plugins: " + ChangeExecutor.rootMessage(e));
            }
            Agent.sleep(announced ? 5000 : 1000);
        }
    }

    @Override
    public void close() {
        stopping = true;
        server.close();
        plugin.close();
    }
}
