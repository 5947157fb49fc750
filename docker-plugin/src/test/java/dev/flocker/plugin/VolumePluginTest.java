package dev.flocker.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flocker.api.client.FlockerClient;
import dev.flocker.api.model.Json;
import dev.flocker.api.model.NodeId;
import dev.flocker.control.ControlService;
import dev.flocker.lab.FreePorts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin protocol over real HTTP (TCP and a unix socket) against a real control service, without agents: what
 * Docker sends, what it gets back, and that malformed or hostile requests get an {@code Err} text, never a crash.
 * Moves under real dockerds are tested in the agent's DockerPluginTest.
 */
@Tag("integration")
class VolumePluginTest {
    static final NodeId SELF = NodeId.of("11111111-1111-4111-8111-111111111111");
    static final NodeId OTHER = NodeId.of("22222222-2222-4222-8222-222222222222");
    @TempDir
    static Path dir;
    static ControlService control;
    static FlockerClient api;
    static VolumePlugin plugin;
    static PluginHttpServer tcp;
    static PluginHttpServer unix;

    @BeforeAll
    static void start() throws IOException {
        var certificates = dev.flocker.ca.ClusterCertificates.in(dir.resolve("certificates"), "plugin-test", List.of("127.0.0.1"));
        control = ControlService.start(new ControlService.Settings(dir.resolve("control"), "127.0.0.1", 0, 0, FreePorts.next(), List.of(),
                Duration.ofSeconds(15), Duration.ofMillis(100), certificates.control()));
        api = new FlockerClient(URI.create("https://127.0.0.1:" + control.apiPort()), certificates.user("plugin"));
        plugin = new VolumePlugin(api, SELF, new VolumePlugin.Settings(Duration.ofSeconds(30), Duration.ofSeconds(2), Duration.ofSeconds(1),
                Duration.ofMillis(50), Duration.ofSeconds(60)), dir.resolve("mounts.json"));
        tcp = PluginHttpServer.start(PluginEndpoint.parse("tcp://127.0.0.1:" + FreePorts.next()), plugin);
        unix = PluginHttpServer.start(PluginEndpoint.parse("unix://" + dir.resolve("plugins/flocker.sock")), plugin);
    }

    @AfterAll
    static void stop() {
        tcp.close();
        unix.close();
        plugin.close();
        control.close();
    }

    @Test
    void activatesAsAVolumeDriverWithGlobalScopeOnBothTransports() throws IOException {
        assertThat(call("/Plugin.Activate", "").json.get("Implements").toString()).isEqualTo("[\"VolumeDriver\"]");
        assertThat(call("/VolumeDriver.Capabilities", "{}").json.at("/Capabilities/Scope").asText()).isEqualTo("global");
        try (var channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(dir.resolve("plugins/flocker.sock")));
            var reply = exchange(Channels.newInputStream(channel), Channels.newOutputStream(channel), request("/Plugin.Activate", "{}"));
            assertThat(reply.status).isEqualTo(200);
            assertThat(reply.json.get("Err").asText()).isEmpty();
        }
        assertThat(Files.getPosixFilePermissions(dir.resolve("plugins/flocker.sock")).toString()).doesNotContain("OTHERS");
    }

    @Test
    void aSecondServerOnALiveSocketIsRefusedAndAStaleSocketIsReplaced() throws IOException {
        var socket = PluginEndpoint.parse("unix://" + dir.resolve("plugins/flocker.sock"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PluginHttpServer.start(socket, plugin))
                .hasMessageContaining("another process already serves");
        var stale = dir.resolve("stale.sock");
        try (var left = java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            left.bind(UnixDomainSocketAddress.of(stale));
        } // closed without removing the file, as a killed process leaves it
        try (var server = PluginHttpServer.start(PluginEndpoint.parse("unix://" + stale), plugin)) {
            assertThat(server.endpoint().socket()).exists();
        }
    }

    @Test
    void createIsIdempotentByNameAndKeepsSizeAndOptions() throws IOException {
        assertThat(err(call("/VolumeDriver.Create", "{\"Name\":\"web-data\",\"Opts\":{\"size\":\"100MiB\",\"tier\":\"ssd\"}}"))).isEmpty();
        assertThat(err(call("/VolumeDriver.Create", "{\"Name\":\"web-data\",\"Opts\":null}"))).isEmpty();
        var named = api.datasets().value().stream().filter(d -> "web-data".equals(d.name())).toList();
        assertThat(named).hasSize(1);
        assertThat(named.get(0).maximumSize()).isEqualTo(100L << 20);
        assertThat(named.get(0).primary()).isEqualTo(SELF);
        assertThat(named.get(0).metadata()).containsEntry("tier", "ssd");

        var got = call("/VolumeDriver.Get", "{\"Name\":\"web-data\"}").json;
        assertThat(got.at("/Volume/Name").asText()).isEqualTo("web-data");
        assertThat(got.at("/Volume/Mountpoint").asText()).as("no agent has mounted it").isEmpty();
        assertThat(got.at("/Volume/Status/dataset_id").asText()).isEqualTo(named.get(0).datasetId().toString());
        assertThat(got.at("/Volume/Status/option.tier").asText()).isEqualTo("ssd");
        assertThat(call("/VolumeDriver.List", "{}").json.get("Volumes").findValuesAsText("Name")).contains("web-data");
        // docker volume inspect shows when it was created (it showed 0001-01-01T00:00:00Z), in RFC 3339.
        var created = java.time.Instant.parse(got.at("/Volume/CreatedAt").asText());
        assertThat(created).isBetween(java.time.Instant.now().minusSeconds(60), java.time.Instant.now().plusSeconds(1));
        assertThat(got.at("/Volume/Status").has("option.created_at")).isFalse();
        var listed = call("/VolumeDriver.List", "{}").json.get("Volumes");
        for (var volume : listed) {
            if (volume.get("Name").asText().equals("web-data")) {
                assertThat(volume.get("CreatedAt").asText()).isEqualTo(got.at("/Volume/CreatedAt").asText());
            }
        }
        assertThat(err(call("/VolumeDriver.Create", "{\"Name\":\"v2\",\"Opts\":{\"created_at\":\"x\"}}"))).contains("reserved");
    }

    @Test
    void removeDeletesTheDatasetAndIsRefusedWhileAnotherHostHoldsIt() throws IOException {
        call("/VolumeDriver.Create", "{\"Name\":\"leased\"}");
        var id = api.datasets().value().stream().filter(d -> "leased".equals(d.name())).findFirst().orElseThrow().datasetId();
        api.acquireLease(id, OTHER, 60.0);
        assertThat(err(call("/VolumeDriver.Remove", "{\"Name\":\"leased\"}"))).contains("volume leased is in use on node " + OTHER);
        assertThat(api.datasets().value().stream().filter(d -> d.datasetId().equals(id)).findFirst().orElseThrow().deleted()).isFalse();
        // Another host's Mount is refused while the lease holds, and leaves nothing behind.
        assertThat(err(call("/VolumeDriver.Mount", "{\"Name\":\"leased\",\"ID\":\"c1\"}"))).contains("is in use on node " + OTHER);
        api.releaseLease(id);

        assertThat(err(call("/VolumeDriver.Remove", "{\"Name\":\"leased\"}"))).isEmpty();
        assertThat(api.datasets().value().stream().filter(d -> d.datasetId().equals(id)).findFirst().orElseThrow().deleted()).isTrue();
        assertThat(err(call("/VolumeDriver.Get", "{\"Name\":\"leased\"}"))).isEqualTo("no such volume: leased");
        assertThat(err(call("/VolumeDriver.Remove", "{\"Name\":\"leased\"}"))).isEqualTo("no such volume: leased");
        // The name can be used again.
        assertThat(err(call("/VolumeDriver.Create", "{\"Name\":\"leased\"}"))).isEmpty();
    }

    @Test
    void aMountThatCannotCompleteSaysWhyAndGivesTheLeaseBack() throws IOException {
        call("/VolumeDriver.Create", "{\"Name\":\"unserved\"}");
        var id = api.datasets().value().stream().filter(d -> "unserved".equals(d.name())).findFirst().orElseThrow().datasetId();
        var reply = call("/VolumeDriver.Mount", "{\"Name\":\"unserved\",\"ID\":\"abc\"}");
        assertThat(reply.status).isEqualTo(200);
        assertThat(err(reply)).startsWith("volume unserved did not reach this host within 2 s: ").contains("is not reporting");
        assertThat(reply.json.has("Mountpoint")).isFalse();
        assertThat(api.leases()).noneMatch(l -> l.path("dataset_id").asText().equals(id.toString()));
        assertThat(err(call("/VolumeDriver.Path", "{\"Name\":\"unserved\"}"))).contains("is not on this host");
        assertThat(err(call("/VolumeDriver.Unmount", "{\"Name\":\"unserved\",\"ID\":\"abc\"}"))).as("unknown mounts are ignored").isEmpty();
    }

    @Test
    void badRequestsGetAnErrTextThatSaysWhatIsWrong() throws IOException {
        assertThat(call("/VolumeDriver.Create", "{not json").status).isEqualTo(400);
        assertThat(err(call("/VolumeDriver.Create", "{not json"))).contains("not valid JSON");
        assertThat(call("/VolumeDriver.Create", "[1,2]").status).isEqualTo(400);
        assertThat(err(call("/VolumeDriver.Create", "{}"))).contains("needs \"Name\"");
        assertThat(err(call("/VolumeDriver.Create", "{\"Name\":42}"))).contains("needs \"Name\"");
        assertThat(err(call("/VolumeDriver.Create", "{\"Name\":\"../../etc\"}"))).contains("volume name '../../etc' is invalid");
        assertThat(err(call("/VolumeDriver.Create", "{\"Name\":\"x" + "y".repeat(300) + "\"}"))).contains("is invalid");
        assertThat(err(call("/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":{\"size\":\"ten gigs\"}}"))).contains("size 'ten gigs' is not a size");
        assertThat(err(call("/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":{\"size\":\"12\"}}"))).contains("below the minimum of 64MiB");
        assertThat(err(call("/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":\"size=1G\"}"))).contains("\"Opts\" must be an object");
        assertThat(err(call("/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":{\"size\":5}}"))).contains("must have a text value");
        assertThat(err(call("/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":{\"name\":\"other\"}}"))).contains("reserved");
        assertThat(err(call("/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":{\"replicas\":\"9\"}}")))
                .contains("option replicas '9' must be 0 to 4 (standby copies on other nodes)");
        assertThat(err(call("/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":{\"replicas\":\"1\"}}")))
                .as("no other node reports: the control service's 409 reaches Docker").contains("replicas: 1 standby copies need 1 nodes");
        assertThat(err(call("/VolumeDriver.Mount", "{\"Name\":\"v1\"}"))).contains("needs \"ID\"");
        assertThat(err(call("/VolumeDriver.Mount", "{\"Name\":\"nosuch\",\"ID\":\"x\"}"))).isEqualTo("no such volume: nosuch");
        assertThat(call("/VolumeDriver.Nonsense", "{}").status).isEqualTo(404);
        assertThat(api.datasets().value()).noneMatch(d -> "v1".equals(d.name()) || "../../etc".equals(d.name()));
    }

    @Test
    void theHttpLayerBoundsRequestsAndKeepsConnectionsAlive() throws IOException {
        try (var socket = new Socket("127.0.0.1", tcp.port())) {
            var in = socket.getInputStream();
            var out = socket.getOutputStream();
            for (int i = 0; i < 3; i++) {
                assertThat(exchange(in, out, request("/VolumeDriver.Capabilities", "{}")).status).isEqualTo(200);
            }
            var chunked = "POST /VolumeDriver.Capabilities HTTP/1.1\r\nHost: plugin\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n1\r\n}\r\n0\r\n\r\n";
            assertThat(exchange(in, out, chunked.getBytes(StandardCharsets.US_ASCII)).status).isEqualTo(200);
        }
        assertThat(raw("GET /Plugin.Activate HTTP/1.1\r\nHost: x\r\n\r\n").status).isEqualTo(405);
        assertThat(raw("POST /VolumeDriver.Get HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n").status).isEqualTo(413);
        assertThat(raw("POST /VolumeDriver.Get HTTP/1.1\r\nContent-Length: -4\r\n\r\n").status).isEqualTo(400);
        assertThat(raw("this is not http\r\n\r\n").status).isEqualTo(400);
        assertThat(raw("POST /x HTTP/1.1\r\n" + "X-A: b\r\n".repeat(200) + "\r\n").status).isEqualTo(431);
        assertThat(raw("POST /" + "a".repeat(10_000) + " HTTP/1.1\r\n\r\n").status).isEqualTo(431);
        assertThat(call("/Plugin.Activate", "{}").status).as("still serving").isEqualTo(200);
    }

    @Test
    void thousandsOfHostileRequestsNeverCrashNorChangeTheConfigurationWrongly() throws IOException {
        var before = api.datasets().value().size();
        var files = files();
        var random = new Random(42);
        var paths = List.of("/Plugin.Activate", "/VolumeDriver.Create", "/VolumeDriver.Remove", "/VolumeDriver.Mount",
                "/VolumeDriver.Unmount", "/VolumeDriver.Path", "/VolumeDriver.Get", "/VolumeDriver.List", "/VolumeDriver.Capabilities",
                "/../../etc/passwd", "/VolumeDriver.Create%00");
        var hostile = List.of("\"../x\"", "\"a/b\"", "\"\"", "null", "1e999", "{\"$ne\":1}", "\"x\\u0000y\"", "\"; rm -rf /\"",
                "\"" + "z".repeat(5000) + "\"", "[]", "true", "\"-rf\"", "\"$(reboot)\"", "\"\\n\"");
        int statuses5xx = 0;
        try (var socket = new Socket("127.0.0.1", tcp.port())) {
            var in = socket.getInputStream();
            var out = socket.getOutputStream();
            for (int i = 0; i < 2000; i++) {
                var path = paths.get(random.nextInt(paths.size()));
                var body = switch (random.nextInt(5)) {
                    case 0 -> "{\"Name\":" + hostile.get(random.nextInt(hostile.size())) + ",\"ID\":" + hostile.get(random.nextInt(hostile.size())) + "}";
                    case 1 -> "{\"Name\":\"ok\",\"Opts\":{\"size\":" + hostile.get(random.nextInt(hostile.size())) + "}}";
                    case 2 -> "{\"Name\":\"ok\",\"Opts\":" + hostile.get(random.nextInt(hostile.size())) + "}";
                    case 3 -> randomBytes(random);
                    default -> "{\"Name\":" + hostile.get(random.nextInt(hostile.size())) + "}";
                };
                var reply = exchange(in, out, request(path, body));
                if (reply.status >= 500) {
                    statuses5xx++;
                }
                assertThat(reply.json.has("Err")).as("every answer carries Err: " + path + " " + body).isTrue();
            }
        }
        assertThat(statuses5xx).isZero();
        var after = api.datasets().value();
        // Only the well-formed name "ok" may have been created (case 1 and 2 with valid options); nothing else.
        assertThat(after.stream().filter(d -> !d.deleted()).map(d -> d.name()).distinct())
                .allMatch(n -> List.of("ok", "web-data", "leased", "unserved").contains(n));
        assertThat(after.size()).isLessThanOrEqualTo(before + 1);
        assertThat(files()).as("files the plugin wrote: only its mounts file, if anything").isSubsetOf(union(files, dir.resolve("mounts.json")));
        assertThat(call("/Plugin.Activate", "{}").status).isEqualTo(200);
    }

    /** Every file under the test's directory but the control service's data. */
    private static java.util.Set<Path> files() throws IOException {
        try (var walk = Files.walk(dir)) {
            return walk.filter(p -> !p.startsWith(dir.resolve("control"))).collect(java.util.stream.Collectors.toSet());
        }
    }

    private static java.util.Set<Path> union(java.util.Set<Path> set, Path more) {
        var all = new java.util.HashSet<>(set);
        all.add(more);
        all.add(dir.resolve("mounts.json.tmp"));
        return all;
    }

    private static String randomBytes(Random random) {
        var bytes = new byte[random.nextInt(200)];
        random.nextBytes(bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    // ---- HTTP by hand, as Docker's Go client sends it ------------------------------------------------------------

    record Reply(int status, JsonNode json) {
    }

    private static String err(Reply reply) {
        return reply.json.get("Err").asText();
    }

    private static Reply call(String path, String body) throws IOException {
        try (var socket = new Socket("127.0.0.1", tcp.port())) {
            return exchange(socket.getInputStream(), socket.getOutputStream(), request(path, body));
        }
    }

    private static Reply raw(String request) throws IOException {
        try (var socket = new Socket("127.0.0.1", tcp.port())) {
            return exchange(socket.getInputStream(), socket.getOutputStream(), request.getBytes(StandardCharsets.ISO_8859_1));
        }
    }

    private static byte[] request(String path, String body) {
        var bytes = body.getBytes(StandardCharsets.ISO_8859_1);
        var head = "POST " + path + " HTTP/1.1\r\nHost: plugin\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + bytes.length + "\r\n\r\n";
        var all = new byte[head.length() + bytes.length];
        System.arraycopy(head.getBytes(StandardCharsets.ISO_8859_1), 0, all, 0, head.length());
        System.arraycopy(bytes, 0, all, head.length(), bytes.length);
        return all;
    }

    private static Reply exchange(InputStream in, OutputStream out, byte[] request) throws IOException {
        out.write(request);
        out.flush();
        var status = readLine(in);
        int length = 0;
        for (var line = readLine(in); !line.isEmpty(); line = readLine(in)) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        var body = in.readNBytes(length);
        return new Reply(Integer.parseInt(status.split(" ")[1]), Json.MAPPER.readTree(body));
    }

    private static String readLine(InputStream in) throws IOException {
        var line = new StringBuilder();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("connection closed after: " + line);
            }
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }
}
