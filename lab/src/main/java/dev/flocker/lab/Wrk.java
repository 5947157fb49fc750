package dev.flocker.lab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** The HTTP load generator {@code wrk} as the benchmarks run it: {@code -t2 -c16}, its rate and p99 latency read back. */
public final class Wrk {
    private static final Pattern RATE = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern P99 = Pattern.compile("99%\\s+([0-9.]+)(us|ms|s)");

    /** Requests per second and the 99th percentile latency in milliseconds. */
    public record Result(double requestsPerSecond, double p99Millis) {
    }

    private Wrk() {
    }

    /** Runs {@code wrk -t2 -c16 -d<seconds>s --latency url} and reads its output; fails saying why when it cannot. */
    public static Result run(String url, int seconds) throws IOException, InterruptedException {
        var process = new ProcessBuilder("wrk", "-t2", "-c16", "-d" + seconds + "s", "--latency", url).redirectErrorStream(true).start();
        var out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IllegalStateException("wrk failed: " + out);
        }
        var rate = RATE.matcher(out);
        var p99 = P99.matcher(out);
        if (!rate.find() || !p99.find()) {
            throw new IllegalStateException("cannot read wrk's output: " + out);
        }
        double latency = Double.parseDouble(p99.group(1));
        latency = switch (p99.group(2)) {
            case "us" -> latency / 1000;
            case "s" -> latency * 1000;
            default -> latency;
        };
        return new Result(Double.parseDouble(rate.group(1)), latency);
    }
}
