package dev.flocker.lab;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A running local lab, driven through {@code bin/flocker-lab}: start one with {@link #up}, use its
 * hosts, and {@link #close} it to remove everything it created. Tests get one through {@link LabExtension}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Lab(
        @JsonProperty("name") String name,
        @JsonProperty("bridge") String bridge,
        @JsonProperty("bridge_ip") String bridgeIp,
        @JsonProperty("ssh_key") Path sshKey,
        @JsonProperty("admin_key") Path adminKey,
        @JsonProperty("known_hosts") Path knownHosts,
        @JsonProperty("hosts") List<LabHost> hosts) implements AutoCloseable {

    /** Where each host's dockerd looks for the Docker volume plugin "flocker" (in its own namespace). */
    public static final String PLUGIN_URL = "tcp://127.0.0.1:4525";
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9]{0,7}");
    private static final Set<String> IMAGES = Set.of("busybox", "postgres");
    private static final ObjectMapper JSON = new ObjectMapper();

    public Lab {
        hosts = List.copyOf(hosts);
    }

    /** Brings up (or completes) lab {@code name} with {@code nodes} hosts and the given images loaded. */
    public static Lab up(String name, int nodes, String... images) {
        return upWithPoolSize(name, nodes, "4G", images);
    }

    /** As {@link #up(String, int, String...)}, with each host's sparse pool file of {@code poolSize} (e.g. "8G"). */
    public static Lab upWithPoolSize(String name, int nodes, String poolSize, String... images) {
        if (!poolSize.matches("[0-9]+[KMGT]?")) {
            throw new IllegalArgumentException("pool size '" + poolSize + "' is invalid: use e.g. 4G or 512M");
        }
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("lab name '" + name + "' is invalid: use 1-8 lower-case letters or digits, starting with a letter");
        }
        if (nodes < 1 || nodes > 20) {
            throw new IllegalArgumentException("nodes " + nodes + " is out of range 1-20");
        }
        for (var image : images) {
            if (!IMAGES.contains(image)) {
                throw new IllegalArgumentException("unknown lab image '" + image + "' (valid: " + IMAGES + ")");
            }
        }
        var imageList = images.length == 0 ? "busybox" : String.join(",", images);
        LabCommand.run("up", "--name", name, "--nodes", Integer.toString(nodes), "--pool-size", poolSize, "--images", imageList);
        return status(name);
    }

    /** Reads the description of an existing lab. */
    public static Lab status(String name) {
        var out = LabCommand.run("status", "--name", name, "--json");
        try {
            return JSON.readValue(out, Lab.class);
        } catch (IOException e) {
            throw new LabException("cannot parse 'flocker-lab status --json' output: " + out, e);
        }
    }

    /** Removes lab {@code name} and everything it created; harmless when it does not exist. */
    public static void down(String name) {
        LabCommand.run("down", "--name", name);
    }

    public LabHost host(int number) {
        if (number < 1 || number > hosts.size()) {
            throw new IllegalArgumentException("host " + number + " does not exist in lab '" + name + "' (it has " + hosts.size() + ")");
        }
        return hosts.get(number - 1);
    }

    /** Runs a command in a host's network namespace and returns its standard output; fails on non-zero exit. */
    public String exec(LabHost host, String... command) {
        return LabCommand.exec(List.of(host.inNamespace(command)));
    }

    /** Cuts host {@code number} off the lab's network (its link to the bridge goes down); {@link #heal} undoes it. */
    public void cut(int number) {
        LabCommand.run("cut", "--name", name, "n" + number);
    }

    /** Puts a host cut off by {@link #cut} back on the network. */
    public void heal(int number) {
        LabCommand.run("heal", "--name", name, "n" + number);
    }

    /** The private key of the cluster's SSH identity, as bytes for an SSH client. */
    public byte[] sshPrivateKey() {
        try {
            return Files.readAllBytes(sshKey);
        } catch (IOException e) {
            throw new LabException("cannot read lab SSH key " + sshKey, e);
        }
    }

    @Override
    public void close() {
        down(name);
    }

    /** Lists the arguments that launch a Java class on this JVM's classpath inside a host's namespace. */
    /** What bin/ launchers pass too (scripts/lib/common.sh java_flags): no start-up warnings from the JVM or Hazelcast. */
    private static final List<String> JVM_FLAGS = List.of("--enable-native-access=ALL-UNNAMED", "--add-modules", "java.se",
            "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED", "--add-opens", "java.base/java.lang=ALL-UNNAMED",
            "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens", "java.management/sun.management=ALL-UNNAMED",
            "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");

    public static List<String> javaCommand(LabHost host, Class<?> mainClass, String... args) {
        return javaCommand(host, List.of(), mainClass, args);
    }

    /** As {@link #javaCommand(LabHost, Class, String...)}, with JVM options (e.g. {@code -Dname=value}) before the class. */
    public static List<String> javaCommand(LabHost host, List<String> jvmOptions, Class<?> mainClass, String... args) {
        return javaCommand(host, jvmOptions, System.getProperty("java.class.path"), mainClass, args);
    }

    /** As {@link #javaCommand(LabHost, List, Class, String...)}, with the class path {@code classPath} instead of this JVM's. */
    public static List<String> javaCommand(LabHost host, List<String> jvmOptions, String classPath, Class<?> mainClass, String... args) {
        var java = new ArrayList<String>();
        java.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        java.addAll(JVM_FLAGS);
        if (Runtime.version().feature() >= 24) {
            java.add("--sun-misc-unsafe-memory-access=allow");
        }
        java.addAll(jvmOptions);
        java.addAll(List.of("-cp", classPath, mainClass.getName()));
        java.addAll(List.of(args));
        return List.of(host.inNamespace(java.toArray(String[]::new)));
    }
}
