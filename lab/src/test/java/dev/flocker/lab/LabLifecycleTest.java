package dev.flocker.lab;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("e2e")
class LabLifecycleTest {
    private static final String NAME = "tlife";

    @AfterEach
    void removeLab() {
        Lab.down(NAME);
    }

    @Test
    void upTwiceIsHarmlessAndDownLeavesNothingBehindEvenAfterADaemonCrash() throws Exception {
        Lab.down(NAME);
        var first = Lab.up(NAME, 2);
        var again = Lab.up(NAME, 2);
        assertThat(again).isEqualTo(first);

        var pids = new ArrayList<Long>();
        for (var host : first.hosts()) {
            pids.add(pid(Path.of("/run/fl-" + NAME + "-" + host.name(), "docker.pid")));
            pids.add(pid(Path.of("/run/fl-" + NAME + "-" + host.name(), "sshd.pid")));
        }
        assertThat(pids).allMatch(LabLifecycleTest::running);
        // A container left running, and host 2's dockerd killed as if it had crashed.
        first.exec(first.host(1), "env", "DOCKER_HOST=" + first.host(1).dockerHost(), "/usr/bin/docker", "run", "-d", "--init",
                "--name", "left-running", "flocker/busybox:local", "sleep", "600");
        new ProcessBuilder("kill", "-9", Long.toString(pids.get(2))).start().waitFor();

        Lab.down(NAME);

        assertThat(pids).noneMatch(LabLifecycleTest::running);
        assertThat(run("ip", "netns", "list")).doesNotContain("fl-" + NAME + "-");
        assertThat(run("ip", "-o", "link")).doesNotContain(first.bridge()).doesNotContain("fv-" + NAME + "-");
        assertThat(run("zpool", "list", "-H", "-o", "name")).doesNotContain("fl-" + NAME + "-");
        assertThat(run("iptables", "-S", "FORWARD")).doesNotContain("flocker-lab:" + NAME);
        assertThat(Files.readString(Path.of("/proc/mounts"))).doesNotContain("/var/lib/flocker-lab/" + NAME + "/")
                .doesNotContain("/run/fl-" + NAME + "-");
        assertThat(Path.of("/var/lib/flocker-lab", NAME)).doesNotExist();
        for (var host : first.hosts()) {
            assertThat(Path.of("/run/fl-" + NAME + "-" + host.name())).doesNotExist();
        }
        assertThat(ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse("")))
                .noneMatch(cmd -> cmd.contains("sleep 600") || cmd.contains("fl-" + NAME + "-"));
    }

    /**
     * Whether the process runs, as {@code flocker-lab} judges it (scripts/lib/common.sh pid_alive): a daemon that exited
     * and waits for PID 1 to reap it (a zombie, seen for ~1.6 s under CI's init) has stopped.
     */
    private static boolean running(long pid) {
        try {
            var stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return !stat.substring(stat.lastIndexOf(')') + 1).strip().startsWith("Z");
        } catch (java.io.IOException gone) {
            return false;
        }
    }

    private static long pid(Path file) throws Exception {
        return Long.parseLong(Files.readString(file).trim());
    }

    private static String run(String... command) {
        return LabCommand.exec(List.of(command));
    }
}
