package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flocker.compose.Deployment;
import dev.flocker.api.model.NodeId;
import dev.flocker.deploy.DeployMain;
import dev.flocker.lab.LabExtension.WithLab;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code flocker-deploy} as a user runs it (a separate process) against a real cluster on a 2-host lab: deploy a
 * Compose file, move the application with its data by editing the deployment file, a dry run that shows the move and
 * changes nothing, {@code --wait} until converged, {@code status}, and bad files refused with their position.
 */
@Tag("e2e")
@WithLab(name = "tdeploy", nodes = 2)
class DeployCliTest extends AgentLabTest {
    static final NodeId N1 = LabCluster.nodeId(1);
    static final NodeId N2 = LabCluster.nodeId(2);

    record Run(int exit, String out, String err) {
    }

    static Run deploy(String... args) throws IOException, InterruptedException {
        var command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), DeployMain.class.getName()));
        command.addAll(List.of(args));
        // As Flocker's flocker-deploy: cluster.crt, user.crt and user.key in the working directory are used by default.
        var certificates = cluster.certificates.user("user").certificate().getParent();
        long start = System.nanoTime();
        var process = new ProcessBuilder(command).directory(certificates.toFile()).redirectError(work.resolve("err.txt").toFile()).start();
        var out = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor(300, TimeUnit.SECONDS)).isTrue();
        var run = new Run(process.exitValue(), out, Files.readString(work.resolve("err.txt")));
        System.out.println("flocker-deploy " + String.join(" ", args) + " -> " + run.exit + " in " + (System.nanoTime() - start) / 1_000_000 + " ms\n" + run.out + run.err);
        return run;
    }

    /** A run that must succeed; when it does not, the failure shows what flocker-deploy said and the ends of the agents' logs. */
    static Run succeeds(String... args) throws IOException, InterruptedException {
        var run = deploy(args);
        assertThat(run.exit).as("flocker-deploy %s\n%s%s", String.join(" ", args), run.err, cluster.logs()).isZero();
        return run;
    }

    static String file(String name, String text) throws IOException {
        var path = work.resolve(name);
        Files.writeString(path, text);
        return path.toString();
    }

    /** A deployment file {@code <name>-<host>.yml} placing {@code applications} (comma-separated) on lab host {@code host}, none on the other. */
    static String deploymentFile(String name, int host, String applications) throws IOException {
        var nodes = new StringBuilder("version: 1\nnodes:\n");
        for (int i = 1; i <= 2; i++) {
            nodes.append("  \"").append(cluster.host(i).ip()).append("\": [").append(i == host ? applications : "").append("]\n");
        }
        return file(name + "-" + host + ".yml", nodes.toString());
    }

    String port() {
        return Integer.toString(cluster.control.apiPort());
    }

    @Test
    void deployMoveWithDataDryRunWaitAndStatus() throws Exception {
        var host1 = cluster.host(1).ip();
        var host2 = cluster.host(2).ip();
        var app = file("app.yml", """
                version: "3"
                services:
                  web:
                    image: flocker/busybox:local
                    command: ["sh", "-c", "mkdir -p /data/www && echo ok > /data/www/index.html && exec httpd -f -p 8080 -h /data/www"]
                    ports: ["18090:8080"]
                    volumes: ["/data"]
                    restart: on-failure
                """);
        var onN1 = deploymentFile("deploy", 1, "web");
        var onN2 = deploymentFile("deploy", 2, "web");
        var control = cluster.lab.bridgeIp();

        var first = succeeds("--port", port(), "--wait", "--timeout", "120", control, onN1, app);
        assertThat(first.out).contains("start    web on " + host1).contains("create   dataset web").contains("converged");

        var dataset = Deployment.datasetIdFor("web");
        Files.writeString(cluster.mountpoint(1, dataset).resolve("kept.txt"), "written on n1\n");

        var dry = succeeds("--port", port(), "--dry-run", control, onN2, app);
        assertThat(dry.out).contains("move     web from " + host1 + " to " + host2 + " with its data (dataset " + dataset)
                .contains("dry run: nothing was sent");
        assertThat(cluster.client.containers()).singleElement().satisfies(a -> assertThat(a.node()).isEqualTo(N1));

        var again = deploy("--port", port(), "--dry-run", control, onN1, app);
        assertThat(again.out).contains("nothing to change (1 applications as deployed)");

        var move = succeeds("--port", port(), "--wait", "--timeout", "180", control, onN2, app);
        assertThat(move.out).contains("configuration updated").contains("converged");
        assertThat(Files.readString(cluster.mountpoint(2, dataset).resolve("kept.txt"))).isEqualTo("written on n1\n");

        var status = succeeds("status", "--port", port(), control);
        assertThat(status.out).contains("APPLICATIONS").containsPattern("web +" + host2.replace(".", "\\.") + " +flocker/busybox:local +18090->8080 +running")
                .containsPattern("web +" + dataset + " +" + host2.replace(".", "\\.") + " .*mounted on " + host2.replace(".", "\\."));
        // The options may also come before the command's name, as the quickstart's hint writes them.
        var certificates = cluster.certificates.user("user").certificate().getParent().toString();
        var before = succeeds("-c", certificates, "--port", port(), "status", control);
        assertThat(before.out).isEqualTo(status.out);
    }

    /**
     * A Compose application of two services sharing a named volume (one mounts it read-only), the second started only
     * once the first's health check passes, deployed and then moved with its one dataset.
     */
    @Test
    void aComposeApplicationWithASharedVolumeAHealthCheckAndStartOrderDeploysAndMoves() throws Exception {
        var host1 = cluster.host(1).ip();
        var host2 = cluster.host(2).ip();
        var app = file("shop.yml", """
                services:
                  store:
                    image: flocker/busybox:local
                    # The page is written 3 s after the start, then the check passes: a reader started before would not see it.
                    command: sh -c 'sleep 3; mkdir -p /data/www; echo "served from $$(hostname)" > /data/www/index.html; touch /tmp/ready; exec httpd -f -p 8080 -h /data/www'
                    healthcheck: {test: ["CMD-SHELL", "test -f /tmp/ready"], interval: 500ms, retries: 60}
                    ports: ["18095:8080"]
                    volumes: ["shared:/data"]
                  reader:
                    image: flocker/busybox:local
                    command: ["sh", "-c", "cat www/index.html > /tmp/seen; exec sleep 100000"]
                    volumes: [{type: volume, source: shared, target: /data, read_only: true}]
                    user: "65534"
                    working_dir: /data
                    read_only: true
                    tmpfs: /tmp
                    labels: {team: shop}
                    stop_grace_period: 2s
                    configs: [{source: motd, target: /etc/motd}]
                    secrets: [token]
                    tty: true
                    dns: 10.0.0.53
                    ulimits: {nofile: {soft: 1024, hard: 2048}}
                    sysctls: {net.core.somaxconn: 1024}
                    depends_on: {store: {condition: service_healthy}}
                volumes:
                  shared: {driver_opts: {size: 256M}}
                configs:
                  motd: {content: "welcome to the shop"}
                secrets:
                  token: {file: ./shop-token.txt}
                """);
        file("shop-token.txt", "s3cret-token\n");
        var onN1 = deploymentFile("shop", 1, "store, reader");
        var onN2 = deploymentFile("shop", 2, "store, reader");
        var control = cluster.lab.bridgeIp();
        var dataset = Deployment.datasetIdFor("volume/shared");

        var first = succeeds("--port", port(), "--wait", "--timeout", "120", control, onN1, app);
        assertThat(first.out).contains("start    reader on " + host1 + " (flocker/busybox:local; mounts shared (" + dataset + ") at /data"
                + " read-only; files /etc/motd, /run/secrets/token; after store (healthy))").contains("create   dataset shared (" + dataset + ") on " + host1 + ", at most 256.0 MiB");
        awaitRunning(1, "reader");
        assertThat(cluster.named("shared")).singleElement().satisfies(d -> assertThat(d.datasetId()).isEqualTo(dataset));
        assertThat(cluster.docker(1, "exec", "reader", "cat", "/tmp/seen")).as("started after store was healthy").startsWith("served from");
        assertThat(cluster.docker(1, "inspect", "-f", "{{.State.Health.Status}}", "store").strip()).isEqualTo("healthy");
        assertThatThrownBy(() -> cluster.docker(1, "exec", "reader", "touch", "/data/x")).hasMessageContaining("Read-only file system");
        assertThat(cluster.docker(1, "inspect", "-f", "{{.Config.User}} {{.Config.WorkingDir}} {{index .Config.Labels \"team\"}}"
                + " {{index .Config.Labels \"dev.flocker.stop-timeout\"}} {{.HostConfig.ReadonlyRootfs}}", "reader").strip())
                .isEqualTo("65534 /data shop 2 true");
        assertThat(cluster.docker(1, "inspect", "-f", "{{.Config.Tty}} {{index .HostConfig.Dns 0}} {{(index .HostConfig.Ulimits 0).Soft}}"
                + "/{{(index .HostConfig.Ulimits 0).Hard}} {{index .HostConfig.Sysctls \"net.core.somaxconn\"}}", "reader").strip())
                .isEqualTo("true 10.0.0.53 1024/2048 1024");
        // The container's own process (PID 1), not an exec'd shell: runc exec sets an exec'd process's NOFILE limit with a race
        // (runc#4195, fixed in runc 1.1.13; Debian 12 has 1.1.5), so `docker exec ... ulimit -n` showed the hard limit now and then.
        assertThat(cluster.docker(1, "exec", "reader", "sh", "-c", "grep 'open files' /proc/1/limits | tr -s ' '; cat /proc/sys/net/core/somaxconn"))
                .isEqualTo("Max open files 1024 2048 files \n1024\n");
        cluster.docker(1, "exec", "store", "sh", "-c", "echo written-on-n1 > /data/kept.txt");
        // A config and a secret, read from beside the Compose file, are read-only files in the container.
        assertThat(cluster.docker(1, "exec", "reader", "cat", "/etc/motd", "/run/secrets/token")).isEqualTo("welcome to the shops3cret-token\n");
        assertThatThrownBy(() -> cluster.docker(1, "exec", "reader", "sh", "-c", "echo x > /run/secrets/token"))
                .hasMessageContaining("Read-only file system");

        var move = succeeds("--port", port(), "--wait", "--timeout", "180", control, onN2, app);
        assertThat(move.out).contains("move     store from " + host1 + " to " + host2 + " with its data (dataset " + dataset)
                .contains("move     reader from " + host1 + " to " + host2);
        awaitRunning(2, "reader");
        assertThat(cluster.docker(2, "exec", "reader", "cat", "/data/kept.txt")).isEqualTo("written-on-n1\n");
        assertThat(cluster.docker(2, "exec", "reader", "cat", "/tmp/seen")).startsWith("served from");
        assertThat(cluster.docker(2, "exec", "reader", "cat", "/run/secrets/token")).as("the secret moved with it").isEqualTo("s3cret-token\n");
        assertThat(cluster.client.datasets().value()).filteredOn(d -> d.datasetId().equals(dataset)).singleElement()
                .satisfies(d -> assertThat(d.primary()).isEqualTo(N2));
        // Clients keep using either host's address; the page is the one the moved data holds.
        for (var host : List.of(host1, host2)) {
            var page = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://" + host + ":18095/")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(page.body()).as(host).startsWith("served from");
        }
    }

    /**
     * A service with two volumes writes a counter to one, then the other (each write atomic, by rename), without pause;
     * moved, both datasets arrive as one consistent state: the counters its new container finds differ by at most the
     * one write in between, as in one snapshot of both taken while it was stopped.
     */
    @Test
    void aServiceWithTwoVolumesMovesThemAsOneConsistentState() throws Exception {
        var host1 = cluster.host(1).ip();
        var host2 = cluster.host(2).ip();
        var app = file("pair.yml", """
                services:
                  pair:
                    image: flocker/busybox:local
                    command:
                      - sh
                      - -c
                      - |
                        echo "$$(cat /a/n 2>/dev/null || echo 0) $$(cat /b/n 2>/dev/null || echo 0)" >> /a/starts
                        i=$$(cat /a/n 2>/dev/null || echo 0)
                        while true; do i=$$((i+1)); echo $$i > /a/t; mv /a/t /a/n; echo $$i > /b/t; mv /b/t /b/n; usleep 2000; done
                    volumes: ["alpha:/a", "beta:/b"]
                volumes: {alpha: {}, beta: {}}
                """);
        var onN1 = deploymentFile("pair", 1, "pair");
        var onN2 = deploymentFile("pair", 2, "pair");
        var control = cluster.lab.bridgeIp();
        var alpha = Deployment.datasetIdFor("volume/alpha");
        var beta = Deployment.datasetIdFor("volume/beta");

        succeeds("--port", port(), "--wait", "--timeout", "120", control, onN1, app);
        awaitRunning(1, "pair");
        cluster.await("it counts", 30, () -> counter(cluster.mountpoint(1, alpha).resolve("n")) > 200);

        var move = succeeds("--port", port(), "--wait", "--timeout", "180", control, onN2, app);
        assertThat(move.out).contains("move     pair from " + host1 + " to " + host2 + " with its data (dataset " + alpha + "; dataset "
                + beta + ", together)");
        awaitRunning(2, "pair");
        cluster.await("it counts on n2", 30, () -> lines(cluster.mountpoint(2, alpha).resolve("starts")).size() == 2);
        var starts = lines(cluster.mountpoint(2, alpha).resolve("starts"));
        var found = starts.get(1).split(" ");
        long a = Long.parseLong(found[0]);
        long b = Long.parseLong(found[1]);
        assertThat(a).as("the counter moved: " + starts).isGreaterThan(200);
        assertThat(a - b).as("a is written before b, so b lags it by at most one write: " + starts).isBetween(0L, 1L);
        assertThat(cluster.client.datasets().value()).filteredOn(d -> d.datasetId().equals(alpha) || d.datasetId().equals(beta))
                .hasSize(2).allSatisfy(d -> assertThat(d.primary()).isEqualTo(N2));
    }

    /**
     * A service with {@code build:} and no registry: flocker-deploy builds it with a node's dockerd, uploads it to the
     * control service, and the host the application moves to loads it from there during the pre-copy and runs it.
     * Deploying the same file again builds the same image (Docker's cache), uploads nothing and changes nothing.
     */
    @Test
    void aServiceWithBuildIsBuiltUploadedAndLoadedWhereItMoves() throws Exception {
        var host1 = cluster.host(1).ip();
        var host2 = cluster.host(2).ip();
        var context = work.resolve("site");
        Files.createDirectories(context);
        Files.writeString(context.resolve("Dockerfile"), """
                FROM flocker/busybox:local
                ARG GREETING
                RUN mkdir -p /www && echo "$GREETING from the build" > /www/index.html
                CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
                """);
        var app = file("site.yml", """
                name: shop
                services:
                  site:
                    build: {context: ./site, args: {GREETING: hello}}
                    ports: ["18097:8080"]
                    volumes: ["/data"]
                """);
        var onN1 = deploymentFile("site", 1, "site");
        var onN2 = deploymentFile("site", 2, "site");
        var control = cluster.lab.bridgeIp();
        var build = new String[] {"--port", port(), "--docker-host", cluster.host(1).dockerHost(), "--wait", "--timeout", "120", control};

        var first = succeeds(concat(build, onN1, app));
        assertThat(first.out).containsPattern("built    site: shop-site:[0-9a-f]{12}").contains("uploaded image shop-site:");
        var image = first.out.lines().filter(l -> l.startsWith("built    site: ")).findFirst().orElseThrow().substring("built    site: ".length());
        var id = cluster.docker(1, "image", "inspect", "-f", "{{.Id}}", image).strip();
        assertThat(page(host1)).isEqualTo("hello from the build\n");
        assertThat(cluster.docker(2, "images", "-q", "--no-trunc")).doesNotContain(id);

        var move = succeeds(concat(build, onN2, app));
        assertThat(move.out).contains("move     site from " + host1 + " to " + host2).doesNotContain("uploaded image");
        awaitRunning(2, "site");
        assertThat(cluster.docker(2, "image", "inspect", "-f", "{{.Id}}", image).strip()).isEqualTo(id);
        assertThat(Files.readString(cluster.agentLog(2))).contains("image loaded");
        assertThat(page(host2)).isEqualTo("hello from the build\n");
        assertThat(page(host1)).as("through the other host's proxy").isEqualTo("hello from the build\n");

        var again = succeeds(concat(build, onN2, app));
        assertThat(again.out).contains("nothing to change").doesNotContain("uploaded image");
    }

    /**
     * Two services on a Compose network reach each other by service name and alias at the container's own port, on a
     * bridge the agent makes on their node; moved together, they do so on the other node, and the first node's network
     * goes with its last container.
     */
    @Test
    void servicesOnANetworkReachEachOtherByNameWhereverTheyRunTogether() throws Exception {
        var app = file("net.yml", """
                services:
                  api:
                    image: flocker/busybox:local
                    command: ["sh", "-c", "mkdir -p /tmp/www && echo api here > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]
                    networks: {back: {aliases: [backend]}}
                  front:
                    image: flocker/busybox:local
                    command: ["sh", "-c", "while true; do (wget -qO- http://api:8080/; wget -qO- http://backend:8080/) > /tmp/seen.new && mv /tmp/seen.new /tmp/seen; sleep 1; done"]
                    networks: [back]
                networks:
                  back: {}
                """);
        var onN1 = deploymentFile("net", 1, "api, front");
        var onN2 = deploymentFile("net", 2, "api, front");
        var control = cluster.lab.bridgeIp();
        succeeds("--port", port(), "--wait", "--timeout", "120", control, onN1, app);
        cluster.await("front reaches api by name and alias on n1", 60, () -> seen(1).equals("api here\napi here\n"));
        assertThat(cluster.docker(1, "network", "ls", "--format", "{{.Name}}")).contains("flocker_back");

        succeeds("--port", port(), "--wait", "--timeout", "120", control, onN2, app);
        cluster.await("front reaches api by name and alias on n2", 60, () -> seen(2).equals("api here\napi here\n"));
        cluster.await("n1's network removed with its last container", 30,
                () -> !cluster.docker(1, "network", "ls", "--format", "{{.Name}}").contains("flocker_back"));
    }

    /** An application that cannot start says why, in --wait's time-out and in status, not only in the agent's log. */
    @Test
    void anApplicationThatCannotStartSaysWhyInWaitAndStatus() throws Exception {
        var app = file("ghost.yml", """
                services:
                  ghost:
                    image: flocker/nothere:1
                """);
        var control = cluster.lab.bridgeIp();
        var stuck = deploy("--port", port(), "--wait", "--timeout", "15", control, deploymentFile("ghost", 1, "ghost"), app);
        assertThat(stuck.exit).as(stuck.err).isEqualTo(3);
        assertThat(stuck.err).contains("application ghost: not yet running on " + cluster.host(1).ip() + " (StartApplication failed:")
                .contains("No such image: flocker/nothere:1");
        var status = succeeds("status", "--port", port(), control);
        assertThat(status.out).containsPattern("ghost +" + cluster.host(1).ip().replace(".", "\\.") + " +flocker/nothere:1 +not running:"
                + " StartApplication failed: .*No such image");
        succeeds("--port", port(), "--wait", "--timeout", "60", control, deploymentFile("ghost", 1, ""), app);
    }

    private static String seen(int host) {
        try {
            return cluster.docker(host, "exec", "front", "cat", "/tmp/seen");
        } catch (RuntimeException notYet) {
            return "";
        }
    }

    private static String[] concat(String[] first, String... more) {
        var all = new ArrayList<>(List.of(first));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    /** The page an application serves at port 18097 through host {@code ip}'s routing proxy. */
    private static String page(String ip) throws Exception {
        var client = java.net.http.HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                var response = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + ip + ":18097/"))
                        .timeout(java.time.Duration.ofSeconds(5)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return response.body();
                }
            } catch (IOException notYet) {
                // the route is not there yet
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no page at " + ip + ":18097 within 30 s\n" + cluster.logs());
            }
            Thread.sleep(200);
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            return List.of();
        }
    }

    private static long counter(Path file) {
        try {
            var text = Files.readString(file).strip();
            return text.isEmpty() ? 0 : Long.parseLong(text);
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    /** Until {@code name} runs in host {@code host}'s dockerd (the last start of a --wait may be a moment after "converged"). */
    private static void awaitRunning(int host, String name) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                if (cluster.docker(host, "inspect", "-f", "{{.State.Running}}", name).strip().equals("true")) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // not created yet
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " is not running on host " + host);
            }
            Thread.sleep(200);
        }
    }

    @Test
    void badFilesAndAnUnreachableServiceChangeNothingAndSaySo() throws Exception {
        var before = cluster.client.containersTagged().tag();
        var bad = file("bad.yml", "services:\n  web:\n    image: x\n    ports:\n      - \"80\"\n");
        var deployment = file("deploy-bad.yml", "version: 1\nnodes:\n  \"%s\": [web]\n".formatted(cluster.host(1).ip()));
        var refused = deploy("--port", port(), cluster.lab.bridgeIp(), deployment, bad);
        assertThat(refused.exit).isEqualTo(1);
        assertThat(refused.err).contains(bad + ":5:9: Application 'web' has a config error. Invalid ports specification: '80'.");

        var unknownNode = file("deploy-unknown.yml", "version: 1\nnodes:\n  \"10.99.99.99\": [web]\n");
        var good = file("good.yml", "services:\n  web: {image: flocker/busybox:local}\n");
        var noNode = deploy("--port", port(), cluster.lab.bridgeIp(), unknownNode, good);
        assertThat(noNode.exit).isEqualTo(1);
        assertThat(noNode.err).contains(unknownNode + ":3:3: No known node with address 10.99.99.99.");

        var missing = deploy("--port", port(), cluster.lab.bridgeIp(), work.resolve("nope.yml").toString(), good);
        assertThat(missing.exit).isEqualTo(1);
        assertThat(missing.err).contains("nope.yml: no such file");

        var unreachable = deploy("--port", "1", cluster.lab.bridgeIp(), deployment, good);
        assertThat(unreachable.exit).isEqualTo(4);
        assertThat(unreachable.err).contains("cannot reach the control service");

        var noCertificates = deploy("--port", port(), "-c", work.resolve("no-certs").toString(), cluster.lab.bridgeIp(), deployment, good);
        assertThat(noCertificates.exit).isEqualTo(2);
        assertThat(noCertificates.err).contains("no-certs/user.crt: no such file").contains("-c DIR or --cacert, --cert, --key");

        var nodeCertificate = cluster.certificates.node(LabCluster.nodeId(1));
        var asNode = deploy("--port", port(), "--cert", nodeCertificate.certificate().toString(), "--key", nodeCertificate.key().toString(),
                cluster.lab.bridgeIp(), deployment, good);
        assertThat(asNode.exit).as("a node's certificate is not a user's").isEqualTo(1);
        assertThat(asNode.err).contains("This API is for users");

        var usage = deploy("--port", port(), cluster.lab.bridgeIp());
        assertThat(usage.exit).isEqualTo(2);
        assertThat(cluster.client.containersTagged().tag()).as("configuration unchanged").isEqualTo(before);
    }

    @Test
    void aRevokedUserCertificateIsRefusedWithTheReason() throws Exception {
        var mallory = cluster.certificates.user("mallory");
        var args = new String[] {"status", "--port", port(), "--cacert", mallory.ca().toString(), "--cert", mallory.certificate().toString(),
                "--key", mallory.key().toString(), cluster.lab.bridgeIp()};
        assertThat(deploy(args).exit()).isZero();
        cluster.certificates.ca().revoke(cluster.certificates.dir(), dev.flocker.api.tls.Pem.certificate(mallory.certificate()));
        var refused = deploy(args);
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).contains("refused this client's certificate: it was revoked");
        assertThat(deploy("status", "--port", port(), cluster.lab.bridgeIp()).exit()).as("other users are still served").isZero();
    }
    @Test
    void waitOnATerminalRewritesOneLinePerMoveInPlace() throws Exception {
        var host1 = cluster.host(1).ip();
        var host2 = cluster.host(2).ip();
        var app = file("tty-app.yml", """
                services:
                  tty:
                    image: flocker/busybox:local
                    command: ["sh", "-c", "exec sleep 100000"]
                    volumes: ["/data"]
                """);
        var onN1 = deploymentFile("tty", 1, "tty");
        var onN2 = deploymentFile("tty", 2, "tty");
        var control = cluster.lab.bridgeIp();
        succeeds("--port", port(), "--wait", "--timeout", "120", control, onN1, app);
        var dataset = cluster.named("tty").get(0).datasetId();
        MovesTest.writeFiles(cluster.mountpoint(1, dataset), 12, 32 << 20); // 384 MiB: the pre-copy takes seconds

        var session = "fdtty" + ProcessHandle.current().pid();
        var java = Path.of(System.getProperty("java.home"), "bin", "java") + " -cp " + System.getProperty("java.class.path") + " "
                + DeployMain.class.getName() + " --port " + port() + " --wait --timeout 180 " + control + " " + onN2 + " " + app;
        var certificates = cluster.certificates.user("user").certificate().getParent().toString();
        run("tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "40", "-c", certificates, java + "; echo EXIT=$?; sleep 600");
        try {
            var screens = new ArrayList<String>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(200);
            String screen = "";
            while (!screen.contains("EXIT=") && System.nanoTime() < deadline) {
                Thread.sleep(200);
                screen = run("tmux", "capture-pane", "-p", "-t", session);
                screens.add(screen);
            }
            System.out.println("the terminal at the end:\n" + screen);
            assertThat(screen).contains("converged").contains("EXIT=0");
            // While it moved, the move had one line with a progress bar, rewritten in place: never two lines for it at once.
            assertThat(screens).anySatisfy(s -> assertThat(s).containsPattern("tty " + host1.replace(".", "\\.") + " -> "
                    + host2.replace(".", "\\.") + " \\[[#-]{20}\\] +[0-9]+%"));
            assertThat(screens).allSatisfy(s -> assertThat(s.lines().filter(l -> l.contains("tty " + host1 + " -> ")).count()).isLessThanOrEqualTo(1));
        } finally {
            run("tmux", "kill-session", "-t", session);
        }
    }

    private static String run(String... command) throws IOException, InterruptedException {
        var process = new ProcessBuilder(command).redirectErrorStream(true).start();
        var output = new String(process.getInputStream().readAllBytes());
        process.waitFor(30, TimeUnit.SECONDS);
        return output;
    }
}
