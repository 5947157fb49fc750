package dev.flocker.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

/**
 * The lab's agents start from an archive of their classes: on JDK 25 or newer the JDK's AOT cache (JEP 483/514/515: the
 * classes loaded and linked, with the recording's method profiles), on older JDKs a dynamic CDS archive. An agent loads
 * ~7,700 classes as it starts, ~6 s of the 2 cores when two start together, most of a lab test class's set-up and of
 * every agent restart in the tests (DESIGN.md, "The lab", has the times with each). The first agent started in this
 * JVM records the archive as it runs and writes it when it stops (SIGTERM; never after kill -9);
 * {@link LabCluster#withAgents}, the only starts that record, then starts it again from it, and every later agent maps
 * it. Benchmarks that start their agents one by one (in JVMs of their own) neither record nor map one: their agents
 * start as before.
 *
 * <p>The JDK archives classes from jar files only, so the agents' class path is this JVM's with each directory (the
 * modules' class directories Maven puts on it) packed into a jar of its own, in the same order: the agent runs the same
 * classes either way. Production agents have their own cache (OPERATIONS.md, "Start-up cache").
 */
final class AgentClassArchive {
    private static final Path DIR = Path.of("target", "agent-start").toAbsolutePath();
    /** JDK 25 and newer: an AOT cache (JEP 483/514/515); older: a dynamic CDS archive. */
    private static final boolean AOT = Runtime.version().feature() >= 25;
    private static final Path ARCHIVE = DIR.resolve(AOT ? "agent.aot" : "agent.jsa");
    /** The JDK reports at every start that this JVM's module options differ from its own base archive's: harmless, not for the agents' logs. */
    private static final String QUIET = AOT ? "-Xlog:aot*=off,cds*=off" : "-Xlog:cds=off,cds+dynamic=off";
    private static final AtomicBoolean RECORDING = new AtomicBoolean();
    private static String classPath;

    private AgentClassArchive() {
    }

    /** The agents' class path: this JVM's, each directory on it as a jar. */
    static synchronized String classPath() {
        if (classPath == null) {
            try {
                Files.createDirectories(DIR);
                Files.deleteIfExists(ARCHIVE); // one of an earlier run, of other classes
                var entries = new ArrayList<String>();
                int n = 0;
                for (var entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
                    var path = Path.of(entry);
                    entries.add(Files.isDirectory(path) ? jar(path, DIR.resolve("classes-" + n++ + ".jar")).toString() : entry);
                }
                classPath = String.join(java.io.File.pathSeparator, entries);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot pack the agents' class directories into jars under " + DIR, e);
            }
        }
        return classPath;
    }

    /**
     * The JVM options of an agent about to start: the archive's when it is written; else, to the first agent asked for
     * with a {@code recorder}, those that record it (the recorder is then told, to stop it and start it again once it is
     * up: an agent that recorded all its life would not be the agent benchmarks measure); else none.
     */
    static List<String> options(Runnable recorder) {
        if (Files.isRegularFile(ARCHIVE)) {
            return List.of((AOT ? "-XX:AOTCache=" : "-XX:SharedArchiveFile=") + ARCHIVE, QUIET);
        }
        if (recorder != null && RECORDING.compareAndSet(false, true)) {
            recorder.run();
            return List.of((AOT ? "-XX:AOTCacheOutput=" : "-XX:ArchiveClassesAtExit=") + ARCHIVE, QUIET);
        }
        return List.of();
    }

    /** After the recording agent stopped: whether it wrote the archive; when it did not, the next agent records again. */
    static boolean written() {
        boolean written = Files.isRegularFile(ARCHIVE);
        if (!written) {
            RECORDING.set(false);
        }
        return written;
    }

    private static Path jar(Path directory, Path jar) throws IOException {
        try (var out = new JarOutputStream(Files.newOutputStream(jar)); var files = Files.walk(directory)) {
            for (var file : (Iterable<Path>) files.sorted()::iterator) {
                var name = directory.relativize(file).toString().replace(java.io.File.separatorChar, '/');
                if (name.isEmpty()) {
                    continue;
                }
                if (Files.isDirectory(file)) {
                    out.putNextEntry(new JarEntry(name + "/"));
                } else {
                    out.putNextEntry(new JarEntry(name));
                    Files.copy(file, out);
                }
                out.closeEntry();
            }
        }
        return jar;
    }
}
