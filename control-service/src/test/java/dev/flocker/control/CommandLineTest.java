package dev.flocker.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Bad options of flocker-control are usage errors (exit 2) naming the option and what would be valid; nothing starts. */
class CommandLineTest {
    static String refused(String... args) {
        var err = new ByteArrayOutputStream();
        var before = System.err;
        System.setErr(new PrintStream(err, true));
        try {
            assertThat(new CommandLine(new ControlServiceMain()).execute(args)).as(String.join(" ", args)).isEqualTo(2);
            return err.toString();
        } finally {
            System.setErr(before);
        }
    }

    @Test
    void badMetricsPortsAndRetentionsAreRefusedSayingWhatIsValid() {
        assertThat(refused("--metrics-port", "metrics")).contains("--metrics-port 'metrics' is invalid: use a port 0-65535 or 'off'");
        assertThat(refused("--metrics-port", "70000")).contains("--metrics-port '70000' is invalid");
        assertThat(refused("--deleted-retention", "0")).contains("--deleted-retention 0 must be at least 1 second");
    }
}
