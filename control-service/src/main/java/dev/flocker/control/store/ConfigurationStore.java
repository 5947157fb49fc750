package dev.flocker.control.store;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionException;
import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Json;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The desired configuration: one entry of a Hazelcast map (so every replica serves it and a replica's
 * loss loses nothing that was acknowledged: the map keeps a synchronous backup), changed only by
 * compare-and-set, and written to this replica's disk before a write is acknowledged.
 * Reads come from a local copy that the map's events keep current.
 */
public final class ConfigurationStore {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigurationStore.class);
    static final String KEY = "configuration";
    static final java.time.Duration MAJORITY_WAIT = java.time.Duration.ofSeconds(5);

    private final IMap<String, String> map;
    private final ConfigurationFile file;
    private final List<Consumer<Configuration>> listeners = new CopyOnWriteArrayList<>();
    private volatile Configuration current;

    public ConfigurationStore(IMap<String, String> map, ConfigurationFile file) {
        this.map = map;
        this.file = file;
        map.addEntryListener((EntryAddedListener<String, String> & EntryUpdatedListener<String, String>) new Listener(), KEY, true);
        var fromDisk = file.read().orElse(Configuration.EMPTY);
        // The first replica up seeds the cluster from its disk; a replica that has seen a newer
        // configuration than the cluster holds (all replicas were down) brings it back.
        map.putIfAbsent(KEY, Json.write(fromDisk));
        while (true) {
            var json = map.get(KEY);
            var inCluster = parse(json);
            if (fromDisk.version() <= inCluster.version()) {
                accept(inCluster);
                break;
            }
            if (map.replace(KEY, json, Json.write(fromDisk))) {
                LOG.atInfo().addKeyValue("version", fromDisk.version()).log("restored a newer configuration from disk");
                accept(fromDisk);
                break;
            }
        }
        file.write(current);
    }

    private final class Listener implements EntryAddedListener<String, String>, EntryUpdatedListener<String, String> {
        @Override
        public void entryAdded(EntryEvent<String, String> event) {
            changed(event.getValue());
        }

        @Override
        public void entryUpdated(EntryEvent<String, String> event) {
            changed(event.getValue());
        }

        private void changed(String json) {
            var configuration = parse(json);
            accept(configuration);
            try {
                file.write(configuration);
            } catch (RuntimeException e) {
                LOG.atError().addKeyValue("version", configuration.version()).setCause(e).log("cannot persist configuration");
            }
        }
    }

    private synchronized void accept(Configuration configuration) {
        if (current != null && configuration.version() <= current.version()) {
            return;
        }
        current = configuration;
        listeners.forEach(l -> l.accept(configuration));
    }

    /** The latest configuration this replica has seen. */
    public Configuration current() {
        return current;
    }

    private record Parsed(String json, Configuration configuration) {
    }

    private volatile Parsed lastParsed;

    /** Parsing megabytes of JSON per write is the expensive part; the text is usually the one seen last. */
    private Configuration parse(String json) {
        var last = lastParsed;
        if (last != null && last.json().equals(json)) {
            return last.configuration();
        }
        var configuration = Json.read(json, Configuration.class);
        lastParsed = new Parsed(json, configuration);
        return configuration;
    }

    /** The configuration as the cluster holds it now (a read of the shared map, not the local copy). */
    public Configuration latest() {
        var latest = parse(map.get(KEY));
        accept(latest);
        return latest;
    }

    /** Calls {@code listener} with every newer configuration (from any replica). */
    public void onChange(Consumer<Configuration> listener) {
        listeners.add(listener);
    }

    /**
     * Applies {@code change} to the current configuration with compare-and-set, retrying when another
     * writer got in first. With {@code ifMatches} non-null the change applies only to that tag.
     * Returns the new configuration, or the unchanged one when {@code change} returned its argument.
     */
    public Configuration update(String ifMatches, UnaryOperator<Configuration> change) {
        while (true) {
            var json = map.get(KEY);
            var before = parse(json);
            if (ifMatches != null && !ifMatches.equals(before.tag())) {
                throw new TagMismatchException(ifMatches, before.tag());
            }
            var after = change.apply(before);
            if (after == before) {
                return before;
            }
            if (after.version() != before.version() + 1) {
                after = new Configuration(before.version() + 1, after.datasets(), after.applications(), after.leases());
            }
            var written = Json.write(after);
            if (replaceWithMajority(json, written)) {
                lastParsed = new Parsed(written, after);
                file.write(after);
                accept(after);
                return after;
            }
        }
    }

    /**
     * While the cluster settles after losing a replica, Hazelcast may briefly refuse writes for want of a
     * majority; wait a little for it before giving up with {@link NoMajorityException}.
     */
    private boolean replaceWithMajority(String expected, String replacement) {
        long deadline = System.nanoTime() + MAJORITY_WAIT.toNanos();
        while (true) {
            try {
                return map.replace(KEY, expected, replacement);
            } catch (SplitBrainProtectionException e) {
                if (System.nanoTime() > deadline) {
                    throw new NoMajorityException(e);
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new NoMajorityException(e);
                }
            }
        }
    }

    /** No majority of replicas is reachable, so this one must not accept writes. */
    public static final class NoMajorityException extends RuntimeException {
        NoMajorityException(Throwable cause) {
            super("No majority of control-service replicas is reachable; the configuration cannot be changed now. Retry later.", cause);
        }
    }
}
