package dev.flocker.lab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import com.jcraft.jsch.JSchException;
import dev.flocker.lab.LabExtension.WithLab;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("e2e")
@WithLab(name = "tlab", nodes = 2)
class LabTest {

    static DockerClient docker(LabHost host) {
        var config = DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(host.dockerHost()).build();
        var http = new ZerodepDockerHttpClient.Builder().dockerHost(config.getDockerHost())
                .connectionTimeout(Duration.ofSeconds(5)).responseTimeout(Duration.ofSeconds(60)).build();
        return DockerClientImpl.getInstance(config, http);
    }

    @Test
    void containerOnHostOneIsReachableFromHostTwoOverTheLabNetwork(Lab lab) throws Exception {
        var h1 = lab.host(1);
        var h2 = lab.host(2);
        try (var docker = docker(h1)) {
            var port = ExposedPort.tcp(80);
            var container = docker.createContainerCmd("flocker/busybox:local")
                    .withCmd("sh", "-c", "echo served-by-" + h1.name() + " > /www/index.html; exec httpd -f -p 80 -h /www")
                    .withExposedPorts(port)
                    .withHostConfig(HostConfig.newHostConfig().withInit(true)
                            .withPortBindings(new PortBinding(com.github.dockerjava.api.model.Ports.Binding.bindIpAndPort(h1.ip(), 18080), port)))
                    .exec();
            try {
                docker.startContainerCmd(container.getId()).exec();
                var body = retry(() -> lab.exec(h2, "curl", "-sS", "--max-time", "2", "http://" + h1.ip() + ":18080/"));
                assertThat(body.trim()).isEqualTo("served-by-n1");
                // The namespaces are real: host 2 has its own address, not host 1's.
                assertThat(lab.exec(h2, "ip", "-4", "-o", "addr", "show", "eth0")).contains(h2.ip()).doesNotContain(h1.ip());
            } finally {
                docker.removeContainerCmd(container.getId()).withForce(true).exec();
            }
        }
    }

    @Test
    void hostOneRunsACommandOnHostTwoOverSshWithPinnedHostKey(Lab lab) throws Exception {
        var h1 = lab.host(1);
        var h2 = lab.host(2);
        var command = Lab.javaCommand(h1, SshProbe.class, h2.ip(), lab.adminKey().toString(), lab.knownHosts().toString(),
                "zpool list -H -o name " + h2.pool() + "; ip -4 -o addr show eth0");
        var process = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        var out = new String(process.getInputStream().readAllBytes());
        assertThat(process.exitValue()).as(out).isZero();
        assertThat(out).contains(h2.pool()).contains(h2.ip());
    }

    @Test
    void theClusterKeyRunsOnlyTheZfsOperationsOfShippingOnTheLabsPools(Lab lab) throws Exception {
        var h2 = lab.host(2);
        var known = lab.knownHosts().toString();
        var key = lab.sshKey().toString();
        var dataset = h2.pool() + "/0d7a6b2e-1111-4222-8333-444455556666";
        // Allowed, and really run by zfs (which says the dataset does not exist).
        assertThatThrownBy(() -> SshProbe.run(h2.ip(), key, known, "zfs get -H -o value flocker:owner " + dataset))
                .hasMessageContaining("exited 1").hasMessageContaining("dataset does not exist");
        for (var hostile : List.of("true", "sh -c id", "zfs get -H -o value flocker:owner " + dataset + "; id",
                "zfs get -H -o value flocker:owner " + dataset + " && cat /etc/shadow", "zfs destroy -r rpool/0d7a6b2e-1111-4222-8333-444455556666",
                "zfs destroy -r " + h2.pool(), "zfs recv -F " + h2.pool() + "/../x", "zfs set flocker:owner=$(id) " + dataset)) {
            assertThatThrownBy(() -> SshProbe.run(h2.ip(), key, known, hostile)).as(hostile)
                    .hasMessageContaining("exited 126").hasMessageContaining("refused");
        }
        assertThat(SshProbe.run(h2.ip(), lab.adminKey().toString(), known, "echo shell")).isEqualTo("shell\n");
    }

    @Test
    void sshRefusesAHostWhoseKeyIsNotThePinnedOne(Lab lab, @TempDir Path tmp) throws Exception {
        var h1 = lab.host(1);
        var h2 = lab.host(2);
        // Pin host 1's key under host 2's address: the key host 2 presents no longer matches.
        var wrong = tmp.resolve("known_hosts");
        Files.writeString(wrong, h2.ip() + " " + h1.sshHostKey() + "\n");
        assertThatThrownBy(() -> SshProbe.run(h2.ip(), lab.sshKey().toString(), wrong.toString(), "true"))
                .isInstanceOf(JSchException.class).hasMessageContaining("HostKey has been changed");
        var empty = tmp.resolve("empty_known_hosts");
        Files.writeString(empty, "");
        assertThatThrownBy(() -> SshProbe.run(h2.ip(), lab.sshKey().toString(), empty.toString(), "true"))
                .isInstanceOf(JSchException.class).hasMessageContaining("reject HostKey");
    }

    @Test
    void eachHostHasAUsablePoolMountedUnderItsOwnMountRoot(Lab lab) throws Exception {
        for (var host : lab.hosts()) {
            var dataset = host.pool() + "/probe";
            var mountpoint = host.mountRoot().resolve("probe");
            LabCommand.exec(java.util.List.of("zfs", "create", "-o", "mountpoint=" + mountpoint, dataset));
            try {
                Files.writeString(mountpoint.resolve("hello.txt"), "data on " + host.name());
                LabCommand.exec(java.util.List.of("zfs", "snapshot", dataset + "@s1"));
                assertThat(LabCommand.exec(java.util.List.of("zfs", "list", "-H", "-o", "name", "-t", "snapshot", "-r", dataset)))
                        .contains(dataset + "@s1");
                assertThat(Files.readString(mountpoint.resolve("hello.txt"))).isEqualTo("data on " + host.name());
            } finally {
                // zfs-fuse calls a dataset written through its mount "busy" unless it is unmounted first.
                LabCommand.exec(java.util.List.of("zfs", "unmount", dataset));
                LabCommand.exec(java.util.List.of("zfs", "destroy", "-r", dataset));
            }
        }
    }

    private static String retry(java.util.concurrent.Callable<String> action) throws Exception {
        var deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (true) {
            try {
                return action.call();
            } catch (LabException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }
}
