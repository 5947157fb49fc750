package dev.flocker.volume.transfer;

import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.JSchException;
import dev.flocker.api.model.DatasetId;
import dev.flocker.volume.SendStream;
import dev.flocker.volume.Snapshot;
import dev.flocker.volume.zfs.ZfsGetOutput;
import dev.flocker.volume.VolumeDriver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ships a dataset to a peer: snapshot here, find the newest snapshot both hosts hold (by guid), stream
 * {@code zfs send} (incremental from it when there is one) into {@code zfs recv -F} on the peer over
 * an SSH exec channel, and check in the same remote command that the peer now holds the new snapshot
 * with the same guid.
 *
 * <p>A failure anywhere leaves the peer at its previous snapshot ({@code zfs recv} applies a stream
 * whole or not at all) and the source untouched, so the next push simply resumes from the last
 * common snapshot. On zfs-fuse (pool v23) there are no resume tokens: resume is per snapshot.
 *
 * <p>Every remote command costs a round trip plus the peer's shell start-up, so an incremental push
 * is one remote command: the base is the snapshot the last push to that peer verified. That is a
 * hint, not state: {@code zfs recv} itself refuses a stream whose base the peer does not hold, and
 * then the common snapshot is looked up on the peer and the push retried once. A snapshot this host did not take and
 * holds newer than that hint came from another host (the peer, when the dataset moves back), so it is tried first: it
 * is what the look-up would find when the peer holds it.
 */
public final class DatasetShipper {
    private static final Logger LOG = LoggerFactory.getLogger(DatasetShipper.class);
    private static final int CHUNK = 1 << 20;
    private static final int CHUNKS_IN_FLIGHT = 16;
    private static final long REPORT_EVERY_NANOS = 100_000_000;
    private static final byte[] END = new byte[0];

    private final VolumeDriver local;
    private final SshConnections ssh;
    /** The last snapshot each peer was seen to hold, per peer and dataset: a push's base without asking the peer. */
    private final Map<String, Snapshot> lastVerified = new ConcurrentHashMap<>();
    /** At most this many peer-and-dataset pairs are remembered (deleted datasets', gone peers'): see {@link #verified}. */
    static final int VERIFIED_KEPT = 100_000;
    /** The names of the snapshots this host took lately, per dataset (the rest of ours came from other hosts). */
    private final Map<DatasetId, java.util.Deque<String>> taken = new ConcurrentHashMap<>();
    private static final int TAKEN_KEPT = 32;
    private static final int TAKEN_DATASETS = 20_000;

    public DatasetShipper(VolumeDriver local, SshConnections ssh) {
        this.local = local;
        this.ssh = ssh;
    }

    /** Starts a push on a virtual thread. */
    public Transfer start(DatasetId id, Peer peer) {
        var transfer = new Transfer();
        Thread.ofVirtual().name("push-" + id + "-" + peer.host()).start(() -> {
            try {
                transfer.result.complete(push(id, peer, transfer));
            } catch (Throwable t) {
                transfer.result.completeExceptionally(t);
            }
        });
        return transfer;
    }

    /** Pushes synchronously; {@code transfer} receives progress and may cancel. */
    public TransferResult push(DatasetId id, Peer peer, Transfer transfer) {
        return push(id, peer, transfer, false);
    }

    /**
     * Pushes synchronously; with {@code askMount} (a handoff's final increment) the result also says whether the peer's
     * copy has its mountpoint prepared, asked in the same remote command.
     */
    public TransferResult push(DatasetId id, Peer peer, Transfer transfer, boolean askMount) {
        long start = System.nanoTime();
        var remoteName = peer.root() + "/" + id;
        var key = peer.address() + "/" + remoteName;
        transfer.report(TransferProgress.of(TransferProgress.Phase.SNAPSHOTTING, 0, -1, start));
        var name = dev.flocker.volume.SnapshotName.next();
        // A peer this host pushed the dataset to before most likely takes an increment on what it verified: its receive
        // (the channel, the peer's sshd and forced command, zfs recv waiting for the stream: 6-30 ms) starts while the
        // snapshot is taken, its command naming the snapshot to come. Unused, it is closed before any byte: nothing received.
        var early = lastVerified.containsKey(key) ? receiveEarly(peer, RemoteZfs.receive(remoteName, name, false, askMount)) : null;
        // With nothing verified on that peer and no copy there as the caller knows it (a first move's final increment), the
        // peer is asked for its snapshots beside the snapshot, and its full receive starts as soon as they confirm it: two
        // round trips (30-45 ms each) that came after the snapshot, before any byte was sent. Only on that word: without it
        // a move back (whose base, received from the peer, is known only from the snapshot's listing) would ask needlessly.
        var lookUp = early == null && transfer.expectsNoCopy() ? new LookUp(peer, remoteName, name, askMount) : null;
        dev.flocker.volume.Volume volume;
        try {
            volume = local.snapshotAndGet(id, name);
        } catch (RuntimeException e) {
            discard(early);
            discard(lookUp);
            throw e;
        }
        // Taken and read back: a handoff records the new owner now, beside the stream. A ZFS write beside the snapshot or
        // its listing slows them (each waits for the pool's next transaction group: the listing took 8-50 ms beside the
        // record, ~10 alone), where the stream and the peer's receive (~50 ms) leave it room.
        transfer.snapshotTaken();
        var snapshot = volume.latestSnapshot().orElseThrow();
        long snapshotted = System.nanoTime();
        var mine = volume.snapshots();
        var hint = base(mine, snapshot, Optional.ofNullable(lastVerified.get(key)), taken(id));
        taken(id, snapshot.name());
        if (hint.isEmpty()) {
            discard(early);
        } else {
            discard(lookUp); // a base received from another host is tried first; the look-up, if needed, is asked again
            lookUp = null;
            try {
                return finish(id, peer, hint, snapshot, stream(id, peer, remoteName, hint, snapshot, false, askMount, transfer, start, early),
                        start, snapshotted, transfer, key);
            } catch (RemoteCommandException e) {
                // zfs recv refused the stream before applying anything ("cannot receive incremental stream:
                // destination ... does not exist / most recent snapshot ... does not match incremental source").
                if (transfer.cancelled() || !e.stderr().contains("cannot receive incremental stream")) {
                    throw e;
                }
                LOG.atInfo().addKeyValue("dataset", id).addKeyValue("peer", peer.address())
                        .addKeyValue("base", hint.get().name())
                        .log("peer does not hold the base tried (the last pushed snapshot, or one received since); looking up the common one");
                lastVerified.remove(key);
            }
        }

        transfer.report(TransferProgress.of(TransferProgress.Phase.NEGOTIATING, 0, -1, start));
        var theirs = lookUp == null ? remoteSnapshots(peer, remoteName) : lookUp.theirs();
        var fullEarly = lookUp == null ? null : lookUp.fullReceive;
        if (theirs.isPresent()) {
            discard(fullEarly); // null unless the peer had no copy
            fullEarly = null;
        }
        if (theirs.isPresent() && theirs.get().isEmpty() && removeInterruptedReceive(peer, remoteName)) {
            theirs = Optional.empty();
        }
        Optional<Snapshot> base = theirs.isEmpty() ? Optional.empty() : Snapshot.latestCommon(mine, theirs.get());
        if (theirs.isPresent() && base.isEmpty()) {
            if (!replaceStaleReplica(id, peer, remoteName)) {
                throw new TransferException("peer " + peer.address() + " holds " + remoteName
                        + " but shares no snapshot with this host; refusing to overwrite it (destroy the peer's copy to send it afresh)");
            }
            theirs = Optional.empty();
        }
        try {
            return finish(id, peer, base, snapshot, stream(id, peer, remoteName, base, snapshot, theirs.isEmpty(), askMount, transfer, start,
                    fullEarly), start, snapshotted, transfer, key);
        } catch (TransferException e) {
            if (base.isEmpty()) {
                cleanUpAfterFailedFullReceive(peer, remoteName, e);
            }
            throw e;
        }
    }

    /**
     * The base to try for an incremental push without asking the peer: the newest of {@code mine} (other than the
     * snapshot just taken) that came from another host, when it is newer than the last snapshot verified on this peer;
     * else that last verified one, while this host still holds it. Empty: ask the peer.
     */
    static Optional<Snapshot> base(List<Snapshot> mine, Snapshot sending, Optional<Snapshot> verified, java.util.Collection<String> takenHere) {
        var known = verified.flatMap(v -> Snapshot.latestCommon(mine, List.of(v)));
        for (int i = mine.size() - 1; i >= 0; i--) {
            var candidate = mine.get(i);
            if (known.isPresent() && candidate.guid().equals(known.get().guid())) {
                return known; // nothing received since
            }
            if (!candidate.guid().equals(sending.guid()) && dev.flocker.volume.SnapshotName.isOurs(candidate.name())
                    && !takenHere.contains(candidate.name())) {
                return Optional.of(candidate); // received after the last verified one (or with none verified)
            }
        }
        return known;
    }

    /**
     * Notes that the peer of {@code key} holds {@code snapshot}. A new pair beyond {@link #VERIFIED_KEPT} forgets them all
     * first: forgetting costs each dataset at most one look-up of the peer's snapshots on its next push.
     */
    static <V> void verified(Map<String, V> verified, String key, V snapshot) {
        makeRoom(verified, key, VERIFIED_KEPT);
        verified.put(key, snapshot);
    }

    /** Forgets all of {@code memory} when it holds {@code limit} keys and {@code key} is not one of them. */
    private static <K> void makeRoom(Map<K, ?> memory, K key, int limit) {
        if (memory.size() >= limit && !memory.containsKey(key)) {
            memory.clear();
        }
    }

    private java.util.Collection<String> taken(DatasetId id) {
        var names = taken.get(id);
        if (names == null) {
            return List.of();
        }
        synchronized (names) {
            return List.copyOf(names);
        }
    }

    private void taken(DatasetId id, String name) {
        // Deleted datasets' names: forgetting costs at most one wrong guess per dataset (then the look-up). Forgotten once it
        // holds more than TAKEN_DATASETS, as it always was.
        makeRoom(taken, id, TAKEN_DATASETS + 1);
        var names = taken.computeIfAbsent(id, k -> new java.util.ArrayDeque<>());
        synchronized (names) {
            names.addLast(name);
            while (names.size() > TAKEN_KEPT) {
                names.removeFirst();
            }
        }
    }

    /** What the remote command of a push reported: the bytes sent, and whether the peer's mount is prepared. */
    private record Streamed(long bytes, RemoteZfs.PeerMount peerMount, String stepsMs) {
    }

    private TransferResult finish(DatasetId id, Peer peer, Optional<Snapshot> base, Snapshot snapshot, Streamed streamed, long start,
                                  long snapshotted, Transfer transfer, String key) {
        long bytes = streamed.bytes();
        verified(lastVerified, key, snapshot);
        var duration = Duration.ofNanos(System.nanoTime() - start);
        io.micrometer.core.instrument.Counter.builder("flocker.shipped.bytes").tag("kind", base.isPresent() ? "incremental" : "full")
                .description("Bytes of zfs send streams shipped to peers").baseUnit("bytes")
                .register(io.micrometer.core.instrument.Metrics.globalRegistry).increment(bytes);
        transfer.report(TransferProgress.of(TransferProgress.Phase.DONE, bytes, bytes, start));
        var result = new TransferResult(id, peer.address(), base.map(Snapshot::name).orElse(null), snapshot.name(), bytes, duration,
                streamed.peerMount());
        LOG.atLevel(level(transfer, base)).addKeyValue("dataset", id).addKeyValue("peer", peer.address()).addKeyValue("base", result.base())
                .addKeyValue("snapshot", snapshot.name()).addKeyValue("bytes", bytes).addKeyValue("ms", duration.toMillis())
                .addKeyValue("steps_ms", "snapshot=" + (snapshotted - start) / 1_000_000 + " " + streamed.stepsMs())
                .log("push done");
        return result;
    }

    /** The peer's side of a push: an exec channel running {@link RemoteZfs#receive}, its output and errors collected. */
    private final class Receive {
        final String command;
        final ChannelExec channel;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();

        Receive(Peer peer, String command) {
            this.command = command;
            this.channel = ssh.exec(peer, command);
            channel.setErrStream(err);
            channel.setOutputStream(out);
        }

        Receive start() throws JSchException {
            SshConnections.start(channel);
            return this;
        }
    }

    /** A receive started on a virtual thread ({@link #push}: while the snapshot is taken). */
    private CompletableFuture<Receive> receiveEarly(Peer peer, String command) {
        var started = new CompletableFuture<Receive>();
        Thread.ofVirtual().name("receive-" + peer.host()).start(() -> {
            try {
                started.complete(new Receive(peer, command).start());
            } catch (Throwable t) {
                started.completeExceptionally(t);
            }
        });
        return started;
    }

    /**
     * The peer's snapshots asked for while the snapshot is taken ({@link #push}), and, once they show no copy there, the
     * full receive started: {@code fullReceive} completes with null when the peer has a copy.
     */
    private final class LookUp {
        final CompletableFuture<Optional<List<Snapshot>>> listing = new CompletableFuture<>();
        final CompletableFuture<Receive> fullReceive;

        LookUp(Peer peer, String remoteName, String snapshot, boolean askMount) {
            Thread.ofVirtual().name("look-up-" + peer.host()).start(() -> {
                try {
                    listing.complete(remoteSnapshots(peer, remoteName));
                } catch (Throwable t) {
                    listing.completeExceptionally(t);
                }
            });
            fullReceive = listing.thenCompose(theirs -> theirs.isPresent() ? CompletableFuture.completedFuture(null)
                    : receiveEarly(peer, RemoteZfs.receive(remoteName, snapshot, true, askMount)));
        }

        /** What the peer answered; its failure as the synchronous look-up would have thrown it. */
        Optional<List<Snapshot>> theirs() {
            try {
                return listing.join();
            } catch (java.util.concurrent.CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw e;
            }
        }
    }

    /** Closes the full receive a look-up started, if any (null: none was started). */
    private static void discard(LookUp lookUp) {
        if (lookUp != null) {
            discard(lookUp.fullReceive);
        }
    }

    /** Closes an early receive that will not be used, once started: its zfs recv reads an empty stream and changes nothing. */
    private static void discard(CompletableFuture<Receive> early) {
        if (early != null) {
            early.thenAccept(receive -> {
                if (receive != null) {
                    receive.channel.disconnect();
                }
            });
        }
    }

    /**
     * Streams send -> {@code zfs recv} on the peer and verifies the arrival in the same remote command, on {@code early}'s
     * channel when given (its command is this push's), else on one started now. Returns the bytes sent, and what the peer
     * said of its mount when asked. Cleans up both ends on any failure.
     */
    private Streamed stream(DatasetId id, Peer peer, String remoteName, Optional<Snapshot> base, Snapshot snapshot,
                            boolean newReplica, boolean askMount, Transfer transfer, long start, CompletableFuture<Receive> early) {
        var arrived = remoteName + "@" + snapshot.name();
        var command = RemoteZfs.receive(remoteName, snapshot.name(), newReplica, askMount);
        LOG.atLevel(level(transfer, base)).addKeyValue("dataset", id).addKeyValue("peer", peer.address())
                .addKeyValue("base", base.map(Snapshot::name).orElse(null)).addKeyValue("snapshot", snapshot.name())
                .log(base.isPresent() ? "incremental push" : "full push");
        long begun = System.nanoTime();
        Receive receive;
        try {
            receive = early == null ? new Receive(peer, command) : early.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw new TransferException("cannot start '" + command + "' on " + peer.address() + ": " + e.getCause().getMessage(), e.getCause());
        }
        if (!receive.command.equals(command)) {
            receive.channel.disconnect();
            throw new IllegalStateException("the receive started early runs '" + receive.command + "', not this push's '" + command + "'");
        }
        var channel = receive.channel;
        var remoteErr = receive.err;
        var remoteOut = receive.out;
        long bytes = 0;
        long sent = 0;
        try (SendStream send = local.send(id, base, snapshot)) {
            transfer.onCancel(() -> {
                send.cancel();
                channel.disconnect();
            });
            var out = channel.getOutputStream();
            if (early == null) {
                receive.start();
            }
            long connected = System.nanoTime();
            var chunks = readAhead(send.stream());
            long lastReport = 0;
            long expected = send.expectedBytes();
            try {
                for (byte[] chunk; (chunk = chunks.take()) != END; ) {
                    if (transfer.cancelled()) {
                        throw new TransferException("transfer of " + id + " to " + peer.address() + " was cancelled");
                    }
                    out.write(chunk);
                    bytes += chunk.length;
                    long now = System.nanoTime();
                    if (now - lastReport > REPORT_EVERY_NANOS) {
                        transfer.report(TransferProgress.of(TransferProgress.Phase.STREAMING, bytes, expected, start));
                        lastReport = now;
                    }
                }
                out.flush();
                out.close();
                sent = System.nanoTime();
            } catch (IOException e) {
                if (transfer.cancelled()) {
                    throw new TransferException("transfer of " + id + " to " + peer.address() + " was cancelled", e);
                }
                // The peer stopped reading: its zfs recv failed or the connection broke; say which if we can.
                send.cancel();
                SshConnections.awaitClosedQuietly(channel, Duration.ofSeconds(5));
                throw failure(peer, command, channel, remoteErr, "stream broke after " + bytes + " bytes: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TransferException("interrupted while pushing " + id + " to " + peer.address());
            }
            try {
                send.finish();
            } catch (RuntimeException e) {
                channel.disconnect();
                throw new TransferException("local send of " + id + " failed after " + bytes + " bytes: " + e.getMessage(), e);
            }
            transfer.report(TransferProgress.of(TransferProgress.Phase.VERIFYING, bytes, bytes, start));
            // zfs recv commits what it received and names its snapshot: seconds, even after a large stream.
            long sendDone = System.nanoTime();
            SshConnections.awaitClosed(channel, Duration.ofMinutes(10), "zfs recv of " + id + " on " + peer.address());
            long closed = System.nanoTime();
            if (channel.getExitStatus() != 0) {
                throw failure(peer, command, channel, remoteErr, "after " + bytes + " bytes");
            }
            var reported = RemoteZfs.arrived(remoteName, snapshot.name(), askMount, remoteOut.toString(StandardCharsets.UTF_8));
            if (!reported.guid().equals(snapshot.guid())) {
                throw new TransferException("peer " + peer.address() + " reports snapshot " + arrived + " with guid " + reported.guid()
                        + " but this host sent guid " + snapshot.guid());
            }
            // Where a push's time went (the handoff's final increment is outage): the channel's start (the peer's sshd and
            // forced command), the stream, the local send's exit, the peer's receive and check after the stream ended.
            var steps = "connect=" + (connected - begun) / 1_000_000 + " stream=" + (sent - connected) / 1_000_000 + " send_exit="
                    + (sendDone - sent) / 1_000_000 + " remote=" + (closed - sendDone) / 1_000_000;
            return new Streamed(bytes, reported.mount(), steps);
        } catch (JSchException | IOException e) {
            throw new TransferException("cannot start '" + command + "' on " + peer.address() + ": " + e.getMessage(), e);
        } catch (TransferException e) {
            transfer.report(TransferProgress.of(transfer.cancelled() ? TransferProgress.Phase.CANCELLED : TransferProgress.Phase.FAILED,
                    bytes, -1, start));
            throw e;
        } finally {
            channel.disconnect();
        }
    }

    /** Routine incremental pushes (replication every second) are logged at debug level; the rest at info. */
    private static org.slf4j.event.Level level(Transfer transfer, Optional<Snapshot> base) {
        return transfer.isRoutine() && base.isPresent() ? org.slf4j.event.Level.DEBUG : org.slf4j.event.Level.INFO;
    }

    /**
     * Reads the send stream on its own thread into a bounded queue of chunks, so zfs send keeps producing
     * while this thread encrypts and writes; the bound gives back-pressure. Ends with {@link #END}; a read
     * error ends the queue early and the send's own exit status reports it.
     */
    private static BlockingQueue<byte[]> readAhead(InputStream in) {
        BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(CHUNKS_IN_FLIGHT);
        Thread.ofVirtual().name("send-reader").start(() -> {
            try {
                while (true) {
                    var chunk = in.readNBytes(CHUNK);
                    if (chunk.length == 0) {
                        break;
                    }
                    queue.put(chunk);
                }
            } catch (IOException | InterruptedException e) {
                // The producer was cancelled or died: its exit status says why.
            } finally {
                try {
                    queue.put(END);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        return queue;
    }

    private static RemoteCommandException failure(Peer peer, String command, ChannelExec channel, ByteArrayOutputStream stderr, String detail) {
        var err = stderr.toString(StandardCharsets.UTF_8).strip();
        return new RemoteCommandException(peer, command, channel.getExitStatus(), "(" + detail + ") " + err);
    }

    /**
     * zfs-fuse leaves the new dataset behind, with no snapshot, when a full receive is interrupted (OpenZFS
     * removes it). Such a leftover holds no data anyone can rely on: no snapshot ever completed, and no owner
     * was ever recorded on it (a dataset created by a driver always has one). Removes it and says so.
     */
    /**
     * A peer copy that shares no snapshot with this host is replaced (destroyed, then sent whole) only when it is a stale
     * replica:
     * <ul>
     * <li>it records an owner, and a handoff generation older than this copy's. Such a copy was handed over long ago and
     *     holds nothing the owner's line of copies does not (the dataset went A -> B -> C and comes back to A, whose old
     *     snapshots C never had);</li>
     * <li>or it records no owner at all: it was only ever received (a standby's copy), and no application ever wrote it,
     *     since a copy is made writable only once it records its host as owner, and a created one records it at once. A
     *     standby whose base was pruned while it was away (its primary's agent restarted meanwhile) is caught up so.</li>
     * </ul>
     * Anything else (an owner with the same or a newer generation) is never overwritten.
     */
    private boolean replaceStaleReplica(DatasetId id, Peer peer, String remoteName) {
        var owner = ssh.run(peer, RemoteZfs.owner(remoteName)).strip();
        if (owner.equals("-")) {
            LOG.atWarn().addKeyValue("peer", peer.address()).addKeyValue("dataset", remoteName)
                    .log("replacing a replica that never had an owner and shares no snapshot with this copy: sending it whole");
            destroyRemote(peer, remoteName);
            return true;
        }
        long ours = local.get(id).map(dev.flocker.volume.Volume::generation).orElse(0L);
        long theirs;
        try {
            theirs = ownership(peer, remoteName, owner).generation();
        } catch (IllegalArgumentException unreadable) { // NumberFormatException included: never overwrite what cannot be read
            return false;
        }
        if (theirs >= ours) {
            return false;
        }
        LOG.atWarn().addKeyValue("peer", peer.address()).addKeyValue("dataset", remoteName).addKeyValue("their_generation", theirs)
                .addKeyValue("our_generation", ours).log("replacing a stale replica that shares no snapshot with this copy: sending it whole");
        destroyRemote(peer, remoteName);
        return true;
    }

    /**
     * The owner and generation the peer's copy of {@code id} records; empty when the peer has no copy.
     *
     * @throws IllegalArgumentException when the peer's answer is unreadable (never taken for "no owner")
     */
    public Optional<dev.flocker.volume.zfs.Ownership> peerOwnership(Peer peer, DatasetId id) {
        var remoteName = peer.root() + "/" + id;
        var result = ssh.runForResult(peer, RemoteZfs.owner(remoteName));
        if (result.exit() != 0) {
            if (result.stderr().contains("dataset does not exist")) {
                return Optional.empty();
            }
            throw new RemoteCommandException(peer, RemoteZfs.owner(remoteName), result.exit(), result.stderr());
        }
        return Optional.of(ownership(peer, remoteName, result.stdout()));
    }

    /** Reads an owner value the peer printed; asks for the generation apart only for a copy of the older, two-property form. */
    private dev.flocker.volume.zfs.Ownership ownership(Peer peer, String remoteName, String owner) {
        var value = owner.strip();
        var legacy = value.equals("-") || value.contains("@") ? null : ssh.run(peer, RemoteZfs.generation(remoteName)).strip();
        return dev.flocker.volume.zfs.Ownership.parse(value, legacy);
    }

    private boolean removeInterruptedReceive(Peer peer, String remoteName) {
        var owner = ssh.run(peer, RemoteZfs.owner(remoteName)).strip();
        if (!owner.equals("-")) {
            return false;
        }
        LOG.atWarn().addKeyValue("peer", peer.address()).addKeyValue("dataset", remoteName)
                .log("removing what an interrupted full receive left on the peer");
        destroyRemote(peer, remoteName);
        return true;
    }

    /** Destroys the peer's copy with its snapshots, retrying while zfs-fuse calls it busy. */
    private void destroyRemote(Peer peer, String remoteName) {
        for (int attempt = 1; ; attempt++) {
            var result = ssh.runForResult(peer, RemoteZfs.destroy(remoteName));
            if (result.exit() == 0 || result.stderr().contains("does not exist")) {
                return;
            }
            if (attempt >= 20 || !result.stderr().contains("busy")) {
                throw new RemoteCommandException(peer, RemoteZfs.destroy(remoteName), result.exit(), result.stderr());
            }
            sleep(100L * attempt);
        }
    }

    private void cleanUpAfterFailedFullReceive(Peer peer, String remoteName, TransferException failure) {
        try {
            var left = remoteSnapshots(peer, remoteName);
            if (left.isPresent() && left.get().isEmpty()) {
                removeInterruptedReceive(peer, remoteName);
            }
        } catch (RuntimeException e) {
            // The peer may be unreachable: the next push removes the leftover instead.
            failure.addSuppressed(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransferException("interrupted");
        }
    }

    /** The peer's snapshots of the dataset, or empty when the peer does not have the dataset. */
    Optional<List<Snapshot>> remoteSnapshots(Peer peer, String remoteName) {
        var result = ssh.runForResult(peer, RemoteZfs.snapshots(remoteName));
        if (result.exit() != 0) {
            if (result.stderr().contains("dataset does not exist")) {
                return Optional.empty();
            }
            throw new RemoteCommandException(peer, RemoteZfs.snapshots(remoteName), result.exit(), result.stderr());
        }
        var props = ZfsGetOutput.parse(result.stdout());
        var snapshots = ZfsGetOutput.snapshots(props, remoteName + "@").getOrDefault(remoteName, List.of());
        return Optional.of(snapshots);
    }
}
