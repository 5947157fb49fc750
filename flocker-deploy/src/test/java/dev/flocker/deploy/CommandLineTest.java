package dev.flocker.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Bad options of flocker-deploy's commands are usage errors (exit 2) that say what would be valid, before any I/O. */
class CommandLineTest {
    record Run(int exit, String err) {
    }

    static Run run(String... args) {
        var err = new ByteArrayOutputStream();
        var before = System.err;
        System.setErr(new PrintStream(err, true));
        try {
            return new Run(new CommandLine(new DeployMain()).execute(args), err.toString());
        } finally {
            System.setErr(before);
        }
    }

    @Test
    void uiRefusesAListenAddressItCannotUse() {
        for (var listen : new String[] {"4580", ":4580", "127.0.0.1:port", "127.0.0.1:70000"}) {
            var run = run("ui", "--listen", listen, "127.0.0.1");
            assertThat(run.exit()).as(listen).isEqualTo(2);
            assertThat(run.err()).as(listen).contains("--listen '" + listen + "' is invalid: use address:port, e.g. 127.0.0.1:4580");
        }
    }
}
