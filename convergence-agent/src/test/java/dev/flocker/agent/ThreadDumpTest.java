package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A slow loop's log shows where the agent's threads wait, virtual threads (where changes run) included. */
class ThreadDumpTest {
    @Test
    void logsWhereThisProjectsThreadsAreVirtualOnesIncluded() throws Exception {
        var release = new CountDownLatch(1);
        var parked = Thread.ofVirtual().name("a-change").start(() -> waitHere(release));
        var logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("thread-dump-test");
        var appender = new ListAppender<ILoggingEvent>();
        appender.start();
        logger.addAppender(appender);
        try {
            Thread.sleep(100);
            ThreadDump.log(logger, "the loop is late");
        } finally {
            release.countDown();
            parked.join();
            logger.detachAppender(appender);
        }
        assertThat(appender.list).singleElement().satisfies(event -> assertThat(event.getFormattedMessage())
                .startsWith("the loop is late; where its threads are:").contains("ThreadDumpTest.waitHere"));
    }

    private static void waitHere(CountDownLatch release) {
        try {
            release.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
