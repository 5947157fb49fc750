package dev.flocker.lab;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.file.Path;

/** One simulated host of the lab: its network namespace, address, Docker endpoint, ZFS pool and mount root. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record LabHost(
        @JsonProperty("name") String name,
        @JsonProperty("netns") String netns,
        @JsonProperty("ip") String ip,
        @JsonProperty("docker_host") String dockerHost,
        @JsonProperty("pool") String pool,
        @JsonProperty("mount_root") Path mountRoot,
        @JsonProperty("dir") Path dir,
        @JsonProperty("ssh_host_key") String sshHostKey) {

    /** The path that puts a process into this host's network namespace with {@code nsenter --net=}. */
    public Path netnsPath() {
        return Path.of("/run/netns", netns);
    }

    /** Prefixes a command so that it runs inside this host's network namespace. */
    public String[] inNamespace(String... command) {
        var full = new String[command.length + 1];
        full[0] = "--net=" + netnsPath();
        System.arraycopy(command, 0, full, 1, command.length);
        var withNsenter = new String[full.length + 1];
        withNsenter[0] = "nsenter";
        System.arraycopy(full, 0, withNsenter, 1, full.length);
        return withNsenter;
    }
}
