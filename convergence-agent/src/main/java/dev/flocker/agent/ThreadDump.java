package dev.flocker.agent;

import java.nio.file.Files;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.slf4j.Logger;

/**
 * Logs where this agent's threads are, virtual ones included (a change runs on a virtual thread; the JVM's usual thread
 * list leaves those out): the JDK's own thread dump, keeping the threads that run this project's code.
 */
final class ThreadDump {
    private ThreadDump() {
    }

    static void log(Logger log, String why) {
        try {
            var file = Files.createTempFile("flocker-agent-threads", ".txt");
            Files.delete(file); // the JDK refuses to write over a file
            java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                    .dumpThreads(file.toString(), com.sun.management.HotSpotDiagnosticMXBean.ThreadDumpFormat.TEXT_PLAIN);
            var text = Files.readString(file);
            Files.deleteIfExists(file);
            var ours = Arrays.stream(text.split("\n\n")).filter(block -> block.contains("dev.flocker.")).collect(Collectors.joining("\n\n"));
            log.atError().log(why + "; where its threads are:\n" + ours);
        } catch (java.io.IOException | RuntimeException e) {
            log.atError().log(why + "; its threads could not be dumped: " + e);
        }
    }
}
