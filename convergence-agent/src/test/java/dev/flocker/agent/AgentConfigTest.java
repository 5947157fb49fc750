package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class AgentConfigTest {
    static final String MINIMAL = """
            version: 1
            control-service: {hostname: 10.0.0.1}
            dataset: {backend: zfs}
            node: {address: 10.0.0.11}
            """;

    @Test
    void aMinimalFileGetsFlockersDefaults() {
        var config = AgentConfig.parse("agent.yml", MINIMAL);
        assertThat(config.controlPort()).isEqualTo(4524);
        assertThat(config.pool()).isEqualTo("flocker");
        assertThat(config.mountRoot()).isEqualTo(Path.of("/flocker"));
        assertThat(config.dockerHost()).isEqualTo("unix:///var/run/docker.sock");
        assertThat(config.nodeId()).isNull();
        assertThat(config.sshUser()).isEqualTo("root");
        assertThat(config.proxy()).isEqualTo(dev.flocker.proxy.ProxySettings.DEFAULTS);
        assertThat(config.drain()).isEqualTo(dev.flocker.agent.plan.Planner.MoveSettings.DRAIN);
        assertThat(AgentConfig.parse("agent.yml", MINIMAL + "moves: {drain_ms: 0}\n").drain()).isZero();
        assertThat(config.plugin().name()).isEqualTo("flocker");
        assertThat(config.plugin().listen().socket()).isEqualTo(Path.of("/run/docker/plugins/flocker.sock"));
        assertThat(config.plugin().apiPort()).isEqualTo(4523);
        assertThat(config.plugin().settings()).isEqualTo(dev.flocker.plugin.VolumePlugin.Settings.DEFAULT);
    }

    @Test
    void thePluginListensWhereConfiguredOrNowhere() {
        var tcp = AgentConfig.parse("agent.yml", MINIMAL + "plugin: {listen: 'tcp://127.0.0.1:4525', lease_seconds: 6}\n");
        assertThat(tcp.plugin().listen().url()).isEqualTo("tcp://127.0.0.1:4525");
        assertThat(tcp.plugin().settings().leaseDuration()).hasSeconds(6);
        var socket = AgentConfig.parse("agent.yml", MINIMAL + "plugin: {listen: 'unix:///run/docker/plugins/zfsvol.sock'}\n");
        assertThat(socket.plugin().name()).as("Docker names a socket's driver after its file").isEqualTo("zfsvol");
        assertThat(AgentConfig.parse("agent.yml", MINIMAL + "plugin: {listen: 'off'}\n").plugin()).isNull();
        assertThat(AgentConfig.parse("agent.yml", MINIMAL + "proxy: {kernel_forwarding: false}\n").proxy().kernelForwarding()).isFalse();
    }

    @Test
    void applicationsGetANetworkSandboxOnlyWhenAnImageForItIsNamed() {
        assertThat(AgentConfig.parse("agent.yml", MINIMAL).sandboxImage()).isNull();
        assertThat(AgentConfig.parse("agent.yml", MINIMAL + "docker: {sandbox_image: 'busybox:1.36'}\n").sandboxImage()).isEqualTo("busybox:1.36");
    }

    @Test
    void metricsAreServedAtTheNodesAddressUnlessConfiguredElsewhereOrOff() {
        assertThat(AgentConfig.parse("agent.yml", MINIMAL).metrics()).isEqualTo(new java.net.InetSocketAddress("10.0.0.11", 4528));
        assertThat(AgentConfig.parse("agent.yml", MINIMAL + "metrics: {listen: '127.0.0.1:9100'}\n").metrics())
                .isEqualTo(new java.net.InetSocketAddress("127.0.0.1", 9100));
        assertThat(AgentConfig.parse("agent.yml", MINIMAL + "metrics: {listen: 'off'}\n").metrics()).isNull();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            version 2                  | version: 2\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: 10.0.0.1} | agent.yml: version 2 is not supported; use version: 1
            no control service         | version: 1\\ndataset: {}\\nnode: {address: 10.0.0.1}                                | agent.yml: control-service is required
            other backend              | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {backend: loopback}\\nnode: {address: 10.0.0.1} | agent.yml: dataset.backend 'loopback' is not supported; valid: zfs
            typo in a key              | version: 1\\ncontrol-service: {hostname: h, prot: 4524}\\ndataset: {}\\nnode: {address: 10.0.0.1} | agent.yml: unknown key control-service.prot; valid here: control-service.api_port, control-service.hostname, control-service.port
            port out of range          | version: 1\\ncontrol-service: {hostname: h, port: 70000}\\ndataset: {}\\nnode: {address: 10.0.0.1} | agent.yml: control-service.port 70000 is out of range 1-65535
            address not IPv4           | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: myhost}     | agent.yml: node.address 'myhost' must be this host's IPv4 address
            relative mount root        | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {mount_root: flocker}\\nnode: {address: 10.0.0.1} | agent.yml: dataset.mount_root 'flocker' must be an absolute path
            bad uuid                   | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: 10.0.0.1, uuid: xyz} | agent.yml: node.uuid:
            docker host scheme         | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: 10.0.0.1}\\ndocker: {host: /var/run/docker.sock} | agent.yml: docker.host '/var/run/docker.sock' must be unix:///path/to/docker.sock or tcp://host:port
            sandbox image              | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: 10.0.0.1}\\ndocker: {sandbox_image: 'Busy Box'} | agent.yml: docker.sandbox_image 'Busy Box' must be an image reference such as busybox:1.36
            negative threshold         | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: 10.0.0.1}\\nmoves: {precopy_threshold: -1} | agent.yml: moves.precopy_threshold must be a whole number of at least 0, not '-1'
            negative drain             | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: 10.0.0.1}\\nmoves: {drain_ms: -5} | agent.yml: moves.drain_ms must be a whole number of at least 0, not '-5'
            zero hold time             | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: 10.0.0.1}\\nproxy: {max_hold_seconds: 0} | agent.yml: proxy.max_hold_seconds is 0; it must be a whole number of at least 1
            typo in a proxy key        | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: 10.0.0.1}\\nproxy: {max_hold: 5} | agent.yml: unknown key proxy.max_hold; valid here:
            kernel forwarding not bool | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: 10.0.0.1}\\nproxy: {kernel_forwarding: maybe} | agent.yml: proxy.kernel_forwarding must be true or false, not 'maybe'
            plugin address             | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: 10.0.0.1}\\nplugin: {listen: '/run/flocker.sock'} | agent.yml: plugin.listen '/run/flocker.sock' is not a plugin address; use unix:///run/docker/plugins/flocker.sock or tcp://127.0.0.1:4525, or off
            plugin mount timeout       | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: 10.0.0.1}\\nplugin: {mount_timeout_seconds: 200} | agent.yml: plugin.mount_timeout_seconds is 200; Docker gives up on a mount after 120 s
            plugin name                | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: 10.0.0.1}\\nplugin: {name: 'Bad Name'} | agent.yml: plugin.name 'Bad Name' is invalid
            not YAML                   | version: 1\\ncontrol-service: {hostname: [h\\n                                   | agent.yml:3:1: not valid YAML
            not a mapping              | - a list                                                                            | agent.yml: expected a mapping
            metrics address            | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: 10.0.0.1}\\nmetrics: {listen: '4528'} | agent.yml: metrics.listen '4528' is invalid: use host:port (e.g. 10.0.0.11:4528) or off
            metrics port               | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: 10.0.0.1}\\nmetrics: {listen: '10.0.0.1:70000'} | agent.yml: metrics.listen '10.0.0.1:70000' is invalid
            typo in a metrics key      | version: 1\\ncontrol-service: {hostname: h}\\ndataset: {}\\nnode: {address: 10.0.0.1}\\nmetrics: {port: 1} | agent.yml: unknown key metrics.port; valid here: metrics.listen
            """)
    void badFilesAreRefusedWithTheKeyAndWhatWouldBeValid(String name, String yaml, String message) {
        assertThatThrownBy(() -> AgentConfig.parse("agent.yml", yaml.replace("\\n", "\n")))
                .isInstanceOf(AgentConfig.ConfigException.class).hasMessageStartingWith(message);
    }
}
