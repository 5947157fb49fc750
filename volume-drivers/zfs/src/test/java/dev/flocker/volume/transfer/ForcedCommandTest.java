package dev.flocker.volume.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.DatasetId;
import dev.flocker.api.model.NodeId;
import dev.flocker.volume.SnapshotName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SSH forced command ({@code bin/flocker-ssh-command}) and the commands shipping sends ({@link RemoteZfs}) agree:
 * every command {@link RemoteZfs} can build is run by the forced command exactly as built (a stub {@code zfs} records
 * its arguments), every form the forced command allows is one that {@link RemoteZfs} builds, and anything else is
 * refused.
 */
class ForcedCommandTest {
    private static final String ROOTS = "fl-x-n[0-9]+";
    private static final String DATASET = "fl-x-n2/" + DatasetId.random();
    private static final String MOUNTPOINT = "/var/lib/flocker-lab/x/n2/flocker/" + DATASET.substring(DATASET.indexOf('/') + 1);

    @TempDir
    Path dir;

    /** Every command shipping sends to a peer, in each of its variants. */
    static List<String> shippingCommands() {
        var snapshot = SnapshotName.next();
        return List.of(
                RemoteZfs.receive(DATASET, snapshot, true, false),
                RemoteZfs.receive(DATASET, snapshot, true, true),
                RemoteZfs.receive(DATASET, snapshot, false, false),
                RemoteZfs.receive(DATASET, snapshot, false, true),
                RemoteZfs.owner(DATASET),
                RemoteZfs.generation(DATASET),
                RemoteZfs.snapshots(DATASET),
                RemoteZfs.destroy(DATASET),
                RemoteZfs.passOwnership(DATASET, NodeId.random(), 7, RemoteZfs.PeerMount.NONE),
                RemoteZfs.passOwnership(DATASET, NodeId.random(), 7, RemoteZfs.PeerMount.MOUNT),
                RemoteZfs.passOwnership(DATASET, NodeId.random(), 7, RemoteZfs.PeerMount.UNLOCK_AND_MOUNT),
                RemoteZfs.passOwnership(DATASET, NodeId.random(), 7, RemoteZfs.PeerMount.remount(MOUNTPOINT)));
    }

    @Test
    void everyCommandShippingSendsIsRunAsBuilt() throws Exception {
        for (var command : shippingCommands()) {
            var run = forced(command);
            assertThat(run.exit).as("%s: %s", command, run.stderr).isZero();
            // The stubs record zfs's arguments as they are, mount's after "mount: ".
            var expected = Arrays.stream(command.split(" && ")).filter(part -> part.startsWith("zfs ") || part.startsWith("mount "))
                    .map(part -> part.startsWith("zfs ") ? part.substring("zfs ".length()) : "mount: " + part.substring("mount ".length())).toList();
            assertThat(run.zfsCalls).as(command).isEqualTo(expected);
        }
    }

    @Test
    void passingOwnershipWithTheMountMountsBeforeTheOwnerIsRecorded() throws Exception {
        // The target's agent acts on the owner it reads: once it sees itself owner, the copy must be mounted already.
        var run = forced(RemoteZfs.passOwnership(DATASET, NodeId.random(), 7, RemoteZfs.PeerMount.MOUNT));
        assertThat(run.zfsCalls.get(0)).isEqualTo("mount " + DATASET);
        assertThat(run.zfsCalls.get(1)).startsWith("set flocker:owner=");
        var unlocking = forced(RemoteZfs.passOwnership(DATASET, NodeId.random(), 7, RemoteZfs.PeerMount.UNLOCK_AND_MOUNT));
        assertThat(unlocking.zfsCalls.subList(0, 2)).containsExactly("set readonly=off " + DATASET, "mount " + DATASET);
        assertThat(unlocking.zfsCalls.get(2)).startsWith("set flocker:owner=");
        var remounting = forced(RemoteZfs.passOwnership(DATASET, NodeId.random(), 7, RemoteZfs.PeerMount.remount(MOUNTPOINT)));
        assertThat(remounting.zfsCalls.get(0)).isEqualTo("mount: -i -o remount,rw " + MOUNTPOINT);
        assertThat(remounting.zfsCalls.get(1)).startsWith("set flocker:owner=");
    }

    /** The receive of agents before {@link RemoteZfs#recv}'s {@code -u}: still accepted (a cluster upgraded host by host). */
    private static final String RECEIVE_BEFORE_NO_MOUNT = "zfs recv -F " + DATASET;

    @Test
    void onZfsFuseItsMountsWaitForTheMachinesMountLockAndItsReceivesAndQueriesDoNot() throws Exception {
        assertThat(Files.exists(dev.flocker.volume.zfs.ZfsFuseMounts.SOCKET)).as("these tests run on zfs-fuse").isTrue();
        var waiting = List.of(RECEIVE_BEFORE_NO_MOUNT, RemoteZfs.passOwnership(DATASET, NodeId.random(), 7, RemoteZfs.PeerMount.MOUNT));
        var commands = List.of(RemoteZfs.receive(DATASET, SnapshotName.next(), true, false), RemoteZfs.receive(DATASET, SnapshotName.next(), false, true),
                waiting.get(0), waiting.get(1), RemoteZfs.owner(DATASET));
        for (var command : commands) {
            // An agent's create or another peer's receive holds the lock (ZfsFuseMounts) for 1.5 s.
            var holder = new ProcessBuilder("flock", dev.flocker.volume.zfs.ZfsFuseMounts.LOCK, "sh", "-c", "echo held; sleep 1.5").start();
            assertThat(new String(holder.getInputStream().readNBytes(5), StandardCharsets.UTF_8)).isEqualTo("held\n");
            long start = System.nanoTime();
            var run = forced(command);
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertThat(holder.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(run.exit).as("%s: %s", command, run.stderr).isZero();
            if (waiting.contains(command)) {
                assertThat(ms).as("%s waits for the holder", command).isGreaterThanOrEqualTo(1_000);
            } else {
                // A receive's stream may last hours: it never mounts (-u), so it never holds up another host's handoff.
                assertThat(ms).as("%s does not wait", command).isLessThan(1_000);
            }
        }
    }

    @Test
    void everyFormTheForcedCommandAllowsIsOneShippingSends() throws Exception {
        var parts = java.util.stream.Stream.concat(shippingCommands().stream().flatMap(c -> Arrays.stream(c.split(" && "))),
                java.util.stream.Stream.of(RECEIVE_BEFORE_NO_MOUNT)).toList();
        var forms = allowedForms();
        assertThat(forms).hasSizeGreaterThan(5);
        for (var form : forms) {
            var pattern = Pattern.compile("^" + form + "$");
            assertThat(parts.stream().anyMatch(p -> pattern.matcher(p).matches()))
                    .as("the forced command allows '%s', which shipping never sends: remove it there or build it in RemoteZfs", form).isTrue();
        }
    }

    @Test
    void anythingElseIsRefusedAndNothingRuns() throws Exception {
        for (var command : List.of("", "sh -c id", "zfs set readonly=off other/" + DatasetId.random(), "zfs set canmount=on " + DATASET, "zfs set mountpoint=/etc " + DATASET, "zfs mount -a", "zfs destroy -r fl-x-n2",
                "zfs recv -F other/" + DatasetId.random(), "zfs recv -F -u other/" + DatasetId.random(), "zfs recv -F -u -d " + DATASET, RemoteZfs.owner(DATASET) + "; id", RemoteZfs.owner(DATASET) + " && rm -rf /",
                "zfs destroy -r " + DATASET + "/../x", RemoteZfs.owner(DATASET) + "\nid", "touch /run/flocker/wake/" + NodeId.random(),
                "touch -c /etc/passwd", "touch -c /run/flocker/wake/../../../etc/passwd", "mount -i -o remount,rw /etc",
                "mount -i -o remount,rw /x/../" + DatasetId.random(), "mount -o remount,rw /x/" + DatasetId.random(),
                "mount -i -o remount,rw,exec /x/" + DatasetId.random(), "mount -i -o remount,rw / /x/" + DatasetId.random())) {
            var run = forced(command);
            assertThat(run.exit).as(command).isEqualTo(126);
            assertThat(run.stderr).as(command).contains("refused");
            assertThat(run.zfsCalls).as(command).isEmpty();
        }
    }

    private record Run(int exit, String stderr, List<String> zfsCalls) {
    }

    /** Runs the forced command as sshd would, with a {@code zfs} and a {@code mount} on the PATH that only record their arguments. */
    private Run forced(String command) throws Exception {
        var bin = Files.createDirectories(dir.resolve("bin"));
        var calls = dir.resolve("calls");
        Files.deleteIfExists(calls);
        var zfs = bin.resolve("zfs");
        Files.writeString(zfs, "#!/bin/sh\necho \"$*\" >> " + calls + "\n");
        Files.setPosixFilePermissions(zfs, PosixFilePermissions.fromString("rwxr-xr-x"));
        var mount = bin.resolve("mount");
        Files.writeString(mount, "#!/bin/sh\necho \"mount: $*\" >> " + calls + "\n");
        Files.setPosixFilePermissions(mount, PosixFilePermissions.fromString("rwxr-xr-x"));
        var process = new ProcessBuilder("bash", script().toString(), ROOTS).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        process.environment().put("SSH_ORIGINAL_COMMAND", command);
        process.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        var started = process.start();
        var stderr = new String(started.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = started.waitFor();
        return new Run(exit, stderr, Files.exists(calls) ? Files.readAllLines(calls) : List.of());
    }

    /** The allowed forms of the forced command, with its variables put in. */
    private static List<String> allowedForms() throws IOException {
        var text = Files.readString(script());
        var uuid = match(text, "uuid='([^']+)'");
        var dataset = "(" + ROOTS + ")/" + uuid;
        var snapshot = dataset + "@[A-Za-z0-9_.:-]+";
        var block = text.substring(text.indexOf("allowed=(") + "allowed=(".length(), text.indexOf("\n)", text.indexOf("allowed=(")));
        var forms = new ArrayList<String>();
        for (var line : block.strip().split("\n")) {
            forms.add(line.strip().replaceAll("^\"|\"$", "").replace("$snapshot", snapshot).replace("$dataset", dataset).replace("$uuid", uuid));
        }
        return forms;
    }

    private static String match(String text, String regex) {
        var m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as(regex).isTrue();
        return m.group(1);
    }

    private static Path script() {
        for (var d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.exists(d.resolve("bin/flocker-ssh-command"))) {
                return d.resolve("bin/flocker-ssh-command");
            }
        }
        throw new IllegalStateException("bin/flocker-ssh-command not found above " + Path.of("").toAbsolutePath());
    }
}
