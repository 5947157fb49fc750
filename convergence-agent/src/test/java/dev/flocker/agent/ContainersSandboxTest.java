package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.NodeId;
import dev.flocker.lab.Lab;
import dev.flocker.lab.LabExtension.WithLab;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Network sandboxes against a real dockerd: an application's container joins its sandbox's network and takes its
 * address, the sandbox goes with the container; with a sandbox image the host lacks, the container gets a network of its
 * own as before.
 */
@Tag("e2e")
@WithLab(name = "tsbox", nodes = 1)
class ContainersSandboxTest {
    private static final NodeId NODE = LabCluster.nodeId(1);

    private static Application app(String name) {
        return new Application(NODE, name, "flocker/busybox:local", List.of(new Application.Port(8080, 18090)), Map.of(), null,
                List.of("sleep", "100000"), List.of(), null, null, List.of());
    }

    private static String docker(Lab lab, String... args) {
        var command = new java.util.ArrayList<>(List.of("/usr/bin/docker", "-H", lab.host(1).dockerHost()));
        command.addAll(List.of(args));
        return lab.exec(lab.host(1), command.toArray(String[]::new)).strip();
    }

    @Test
    void aContainerJoinsItsSandboxsNetworkAndBothGoTogether(Lab lab) {
        var host = lab.host(1);
        try (var containers = new Containers(host.dockerHost(), host.ip(), Duration.ofSeconds(10), null, "flocker/busybox:local")) {
            containers.start(app("boxed"), Map.of());
            var sandboxId = docker(lab, "inspect", "-f", "{{.Id}}", Containers.sandboxName("boxed"));
            assertThat(docker(lab, "inspect", "-f", "{{.HostConfig.NetworkMode}}", "boxed")).isEqualTo("container:" + sandboxId);
            var sandboxAddress = docker(lab, "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                    Containers.sandboxName("boxed"));
            assertThat(containers.list().get("boxed").address()).as("its address is its sandbox's").isEqualTo(sandboxAddress).isNotBlank();
            containers.stop("boxed");
            assertThat(docker(lab, "ps", "-aq", "--filter", "name=^boxed$")).isEmpty();
            assertThat(docker(lab, "ps", "-aq", "--filter", "name=^" + Containers.sandboxName("boxed") + "$")).as("the sandbox went too").isEmpty();
        }
    }

    @Test
    void aMadeContainerIsStartedAsItIsAndOneThatCannotStartSoIsMadeAgain(Lab lab) {
        var host = lab.host(1);
        try (var containers = new Containers(host.dockerHost(), host.ip(), Duration.ofSeconds(10), null, "flocker/busybox:local")) {
            containers.create(app("made"), Map.of());
            var made = docker(lab, "inspect", "-f", "{{.Id}}", "made");
            containers.start(app("made"), Map.of(), true);
            assertThat(docker(lab, "inspect", "-f", "{{.Id}} {{.State.Running}}", "made")).isEqualTo(made + " true");
            containers.stop("made");

            // Made, then its sandbox stopped (someone stopped it): joining it fails, so the whole way is gone again.
            containers.create(app("made"), Map.of());
            docker(lab, "stop", "-t", "0", Containers.sandboxName("made"));
            containers.start(app("made"), Map.of(), true);
            assertThat(docker(lab, "inspect", "-f", "{{.State.Running}}", "made")).isEqualTo("true");
            assertThat(docker(lab, "inspect", "-f", "{{.State.Running}}", Containers.sandboxName("made"))).isEqualTo("true");
            containers.stop("made");

            // Removed since discovery saw it made: made and started afresh.
            containers.start(app("made"), Map.of(), true);
            assertThat(docker(lab, "inspect", "-f", "{{.State.Running}}", "made")).isEqualTo("true");
            containers.stop("made");
        }
    }

    @Test
    void withASandboxImageTheHostLacksAContainerGetsANetworkOfItsOwn(Lab lab) {
        var host = lab.host(1);
        try (var containers = new Containers(host.dockerHost(), host.ip(), Duration.ofSeconds(10), null, "flocker/no-such-image:1")) {
            containers.start(app("unboxed"), Map.of());
            assertThat(docker(lab, "inspect", "-f", "{{.HostConfig.NetworkMode}}", "unboxed")).doesNotStartWith("container:");
            assertThat(docker(lab, "ps", "-aq", "--filter", "name=^" + Containers.sandboxName("unboxed") + "$")).isEmpty();
            assertThat(containers.list().get("unboxed").address()).isNotBlank();
            containers.stop("unboxed");
            assertThat(docker(lab, "ps", "-aq", "--filter", "name=^unboxed$")).isEmpty();
        }
    }
}
