package dev.flocker.api.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Options of the container that Docker applies as they are and that do not change how Flocker runs it (Compose's
 * user, working_dir, hostname, labels, read_only, tmpfs, shm_size, extra_hosts, stop_signal, stop_grace_period, tty,
 * stdin_open, dns, dns_search, ulimits, sysctls; configs and secrets as files).
 * Each is absent from JSON when unset.
 *
 * @param tmpfs            container paths that get an empty in-memory file system
 * @param extraHosts       {@code name -> address} lines added to the container's /etc/hosts
 * @param stopGracePeriodMs how long a stop waits after the stop signal before killing, or null for the agent's default
 * @param networks         Docker networks on the node (Compose's {@code networks}) the container joins, each with the names
 *                         others on it reach the container by; the applications sharing one run on one node
 * @param imageId          the content id ({@code sha256:<64 hex digits>}) of an image flocker-deploy built from a Compose
 *                         file's {@code build:} and uploaded to the control service, where an agent that lacks it loads it
 *                         from; null for images nodes already have or pull
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record DockerOptions(@JsonProperty("user") String user, @JsonProperty("working_dir") String workingDir,
                            @JsonProperty("hostname") String hostname, @JsonProperty("labels") Map<String, String> labels,
                            @JsonProperty("read_only") Boolean readOnly, @JsonProperty("tmpfs") List<String> tmpfs,
                            @JsonProperty("shm_size") Long shmSize, @JsonProperty("extra_hosts") Map<String, String> extraHosts,
                            @JsonProperty("stop_signal") String stopSignal, @JsonProperty("stop_grace_period_ms") Long stopGracePeriodMs,
                            @JsonProperty("files") List<FileMount> files, @JsonProperty("tty") Boolean tty,
                            @JsonProperty("stdin_open") Boolean stdinOpen, @JsonProperty("dns") List<String> dns,
                            @JsonProperty("dns_search") List<String> dnsSearch, @JsonProperty("ulimits") Map<String, Ulimit> ulimits,
                            @JsonProperty("sysctls") Map<String, String> sysctls, @JsonProperty("networks") Map<String, List<String>> networks,
                            @JsonProperty("image_id") String imageId) {
    /** At most this many bytes of files per application: they travel in the configuration. */
    public static final int MAX_FILE_BYTES = 1 << 20;

    public DockerOptions(String user, String workingDir, String hostname, Map<String, String> labels, Boolean readOnly, List<String> tmpfs,
                         Long shmSize, Map<String, String> extraHosts, String stopSignal, Long stopGracePeriodMs) {
        this(user, workingDir, hostname, labels, readOnly, tmpfs, shmSize, extraHosts, stopSignal, stopGracePeriodMs, null, null, null,
                null, null, null, null, null, null);
    }

    private static final Pattern HOSTNAME = Pattern.compile("^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$");
    private static final Pattern NETWORK = Pattern.compile("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$");
    private static final Pattern SIGNAL = Pattern.compile("^(SIG)?[A-Z0-9+-]{2,12}$|^[0-9]{1,2}$");

    public DockerOptions {
        labels = labels == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(labels));
        tmpfs = tmpfs == null ? List.of() : List.copyOf(tmpfs);
        files = files == null ? List.of() : List.copyOf(files);
        dns = dns == null ? List.of() : List.copyOf(dns);
        dnsSearch = dnsSearch == null ? List.of() : List.copyOf(dnsSearch);
        ulimits = ulimits == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(ulimits));
        sysctls = sysctls == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(sysctls));
        for (var server : dns) {
            if (!server.matches("[0-9a-fA-F.:]{2,45}")) {
                throw new IllegalArgumentException("dns '" + server + "' is not an IP address");
            }
        }
        for (var domain : dnsSearch) {
            if (!HOSTNAME.matcher(domain).matches()) {
                throw new IllegalArgumentException("dns_search '" + domain + "' is not a domain name");
            }
        }
        for (var name : ulimits.keySet()) {
            if (!name.matches("[a-z]{2,16}")) {
                throw new IllegalArgumentException("ulimit '" + name + "' is not a limit's name, e.g. nofile or nproc");
            }
        }
        for (var entry : sysctls.entrySet()) {
            if (!entry.getKey().matches("[a-z0-9_.-]{2,128}") || entry.getValue().length() > 4096) {
                throw new IllegalArgumentException("sysctl '" + entry.getKey() + "' is not a kernel parameter, e.g. net.core.somaxconn");
            }
        }
        long bytes = 0;
        var targets = new java.util.HashSet<String>();
        for (var file : files) {
            bytes += file.content().length;
            if (!targets.add(file.target())) {
                throw new IllegalArgumentException("two files are mounted at " + file.target());
            }
        }
        if (bytes > MAX_FILE_BYTES) {
            throw new IllegalArgumentException("configs and secrets hold " + bytes + " bytes; at most " + MAX_FILE_BYTES
                    + " per application, since they travel in the configuration: keep larger data in a volume");
        }
        extraHosts = extraHosts == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(extraHosts));
        if (user != null && (user.isEmpty() || user.length() > 256 || user.chars().anyMatch(c -> c < 0x20 || c == ' '))) {
            throw new IllegalArgumentException("user '" + user + "' is invalid: a name or uid, optionally :group, e.g. 999 or postgres:postgres");
        }
        if (workingDir != null && !workingDir.matches("/[\\x20-\\x7e]{0,4095}")) {
            throw new IllegalArgumentException("working_dir '" + workingDir + "' must be an absolute path");
        }
        if (hostname != null && (hostname.length() > 253 || !HOSTNAME.matcher(hostname).matches())) {
            throw new IllegalArgumentException("hostname '" + hostname + "' is not a host name (letters, digits, - and .)");
        }
        for (var key : labels.keySet()) {
            if (key.isEmpty() || key.startsWith("dev.flocker.")) {
                throw new IllegalArgumentException("label '" + key + "' is invalid: labels need a name, and dev.flocker.* are Flocker's own");
            }
        }
        for (var path : tmpfs) {
            if (!path.matches("/[\\x21-\\x7e]{0,4095}") || path.matches("(.*/)?\\.\\.(/.*)?")) {
                throw new IllegalArgumentException("tmpfs '" + path + "' must be an absolute container path without '..' or spaces");
            }
        }
        if (shmSize != null && (shmSize < 1 << 20 || shmSize > 1L << 40)) {
            throw new IllegalArgumentException("shm_size " + shmSize + " is out of range: from 1 MiB to 1 TiB");
        }
        for (var entry : extraHosts.entrySet()) {
            if (!HOSTNAME.matcher(entry.getKey()).matches() || !entry.getValue().matches("[0-9a-fA-F.:]{2,45}")) {
                throw new IllegalArgumentException("extra_hosts '" + entry.getKey() + ":" + entry.getValue() + "' is invalid: use"
                        + " host:address, e.g. db.local:10.0.0.5");
            }
        }
        if (stopSignal != null && !SIGNAL.matcher(stopSignal).matches()) {
            throw new IllegalArgumentException("stop_signal '" + stopSignal + "' is not a signal, e.g. SIGINT or 15");
        }
        if (stopGracePeriodMs != null && (stopGracePeriodMs < 0 || stopGracePeriodMs > 3_600_000L)) {
            throw new IllegalArgumentException("stop_grace_period " + stopGracePeriodMs + " ms is out of range: from 0 to 1 h");
        }
        var copied = new TreeMap<String, List<String>>();
        (networks == null ? Map.<String, List<String>>of() : networks).forEach((name, aliases) -> {
            if (!NETWORK.matcher(name).matches()) {
                throw new IllegalArgumentException("network '" + name + "' is not a Docker network name (letters, digits, _ . -)");
            }
            for (var alias : aliases == null ? List.<String>of() : aliases) {
                if (alias == null || alias.length() > 253 || !HOSTNAME.matcher(alias).matches()) {
                    throw new IllegalArgumentException("network alias '" + alias + "' is not a host name (letters, digits, - and .)");
                }
            }
            copied.put(name, aliases == null ? List.of() : List.copyOf(aliases));
        });
        networks = java.util.Collections.unmodifiableMap(copied);
        if (imageId != null && !imageId.matches("sha256:[0-9a-f]{64}")) {
            throw new IllegalArgumentException("image_id '" + imageId + "' is not an image's content id: sha256:<64 hexadecimal digits>");
        }
    }

    boolean isEmpty() {
        return user == null && workingDir == null && hostname == null && labels.isEmpty() && readOnly == null && tmpfs.isEmpty()
                && shmSize == null && extraHosts.isEmpty() && stopSignal == null && stopGracePeriodMs == null && files.isEmpty()
                && tty == null && stdinOpen == null && dns.isEmpty() && dnsSearch.isEmpty() && ulimits.isEmpty() && sysctls.isEmpty()
                && networks.isEmpty() && imageId == null;
    }

    /** A resource limit of the container's processes (Compose's ulimits): soft and hard. */
    public record Ulimit(@JsonProperty("soft") long soft, @JsonProperty("hard") long hard) {
        public Ulimit {
            if (soft < 0 || hard < soft) {
                throw new IllegalArgumentException("ulimit soft " + soft + " / hard " + hard + " is invalid: 0 <= soft <= hard");
            }
        }
    }

    /**
     * A file put into the container read-only (Compose's configs and secrets, whose contents flocker-deploy read from
     * beside the Compose file, as {@code docker stack deploy} uploads them to a swarm).
     *
     * @param content the file's bytes (base64 in JSON)
     * @param mode    its permission bits (e.g. 0444), or null for 0444
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record FileMount(@JsonProperty("target") String target, @JsonProperty("content") byte[] content,
                            @JsonProperty("mode") Integer mode) {
        public FileMount {
            if (target == null || !target.matches("/[\\x21-\\x7e]{0,4095}") || target.matches("(.*/)?\\.\\.(/.*)?") || target.endsWith("/")) {
                throw new IllegalArgumentException("file target '" + target + "' must be an absolute container path of a file, without"
                        + " '..' or spaces");
            }
            if (content == null) {
                throw new IllegalArgumentException("file " + target + " has no content");
            }
            if (mode != null && (mode < 0 || mode > 0777)) {
                throw new IllegalArgumentException("file " + target + " mode " + Integer.toOctalString(mode) + " is not a permission (0 to 0777)");
            }
            content = content.clone();
        }

        @Override
        public byte[] content() {
            return content.clone();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof FileMount f && f.target.equals(target) && java.util.Arrays.equals(f.content, content)
                    && java.util.Objects.equals(f.mode, mode);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(target, java.util.Arrays.hashCode(content), mode);
        }

        @Override
        public String toString() {
            return "FileMount[target=" + target + ", bytes=" + content.length + ", mode=" + (mode == null ? "0444" : Integer.toOctalString(mode)) + "]";
        }
    }
}
