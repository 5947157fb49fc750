package dev.flocker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flocker.api.model.Application;
import dev.flocker.api.model.NodeId;
import dev.flocker.deploy.DeployMain;
import dev.flocker.lab.LabExtension.WithLab;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code flocker-deploy ui} in a real headless Chromium during a real move on the lab: the page shows the cluster,
 * moves an application when its Move button is clicked and the confirmation accepted, shows the move's progress live
 * and then the application on its new host, with what the move cost.
 */
@Tag("e2e")
@WithLab(name = "tui", nodes = 2)
class DashboardTest extends AgentLabTest {
    static final NodeId N1 = LabCluster.nodeId(1);
    static final NodeId N2 = LabCluster.nodeId(2);

    @Test
    void theDashboardMovesAnApplicationAndShowsTheMoveLive() throws Exception {
        var id = cluster.client.createDataset(N1, null, Map.of("name", "ledger"), null, null).datasetId();
        cluster.client.createContainer(new Application(N1, "ledger", "flocker/busybox:local", List.of(new Application.Port(8080, 18300)),
                Map.of(), null, List.of("sh", "-c", "exec sleep 100000"), List.of(new Application.Volume(id, "/data")), null, null, List.of()));
        cluster.await("the app runs on n1", 60, () -> N1.equals(cluster.primaryOf(id)));
        MovesTest.writeFiles(cluster.mountpoint(1, id), 12, 32 << 20); // 384 MiB: the page sees the copy in progress

        var certificates = cluster.certificates.user("user").certificate().getParent();
        var command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), DeployMain.class.getName(), "--port", Integer.toString(cluster.control.apiPort()),
                "ui", "--listen", "127.0.0.1:0", cluster.lab.bridgeIp()));
        var ui = new ProcessBuilder(command).directory(certificates.toFile()).redirectErrorStream(true).start();
        try (var browser = HeadlessChromium.start(work.resolve("chromium"))) {
            var announced = new BufferedReader(new InputStreamReader(ui.getInputStream())).readLine();
            assertThat(announced).startsWith("Dashboard of https://").contains("at http://127.0.0.1:");
            var url = announced.substring(announced.indexOf("http://127.0.0.1:"), announced.indexOf("/ (")) + "/";
            refusesOtherPagesAndOtherHosts(url);

            browser.open(url);
            browser.await("the application running on n1", Duration.ofSeconds(30),
                    "!!document.querySelector('tr[data-app=\"ledger\"][data-running=\"yes\"][data-node-host=\"" + cluster.host(1).ip() + "\"]')");
            assertThat(browser.text("#nodes")).contains(cluster.host(1).ip()).contains(cluster.host(2).ip());
            assertThat(browser.text("#datasets")).contains("ledger").contains(id.toString());
            browser.await("live events", Duration.ofSeconds(10), "document.getElementById('live').className === 'on'");

            // The user picks n2 and clicks Move; the page asks for confirmation, which the user gives.
            browser.evaluate("document.querySelector('select[data-move-app=\"ledger\"]').value = '" + N2 + "'; "
                    + "document.querySelector('button[data-move-app=\"ledger\"]').click(); true");
            browser.await("the move in progress", Duration.ofSeconds(60),
                    "!!document.querySelector('#moves li.active[data-dataset=\"" + id + "\"]')");
            var during = browser.text("#moves");
            browser.screenshot(work.resolve("dashboard-moving.png"));
            browser.await("the application running on n2", Duration.ofSeconds(120),
                    "!!document.querySelector('tr[data-app=\"ledger\"][data-running=\"yes\"][data-node-host=\"" + cluster.host(2).ip() + "\"]')");
            browser.await("the finished move with its cost", Duration.ofSeconds(30),
                    "(document.querySelector('#moves li.done[data-dataset=\"" + id + "\"]') || {innerText: ''}).innerText.includes('moved in')");
            var done = browser.text("#moves");
            browser.screenshot(Path.of("target", "dashboard.png"));
            System.out.println("the page during the move:\n" + during + "\nand after it:\n" + done);
            assertThat(during).contains("ledger").contains(cluster.host(1).ip() + " → " + cluster.host(2).ip());
            assertThat(done).contains("done").contains("moved in").contains("handoff");
            // The page's looks overlap (events, the one-second look, a click's): an older one that answers after a newer
            // one was shown must not put the older cluster back. Here the older look's moves answer late, and empty.
            var raced = browser.evaluate("""
                    (async () => {
                      const real = window.fetch;
                      let late = true;
                      window.fetch = (path, options) => {
                        if (late && String(path).endsWith("/v1/state/moves")) {
                          late = false;
                          return new Promise((answer) => setTimeout(() => answer(new Response("[]",
                              { status: 200, headers: { "Content-Type": "application/json" } })), 1000));
                        }
                        return real(path, options);
                      };
                      try {
                        const older = refresh();
                        await new Promise((wait) => setTimeout(wait, 100));
                        await refresh();
                        await older;
                      } finally {
                        window.fetch = real;
                      }
                      return document.getElementById("moves").innerText;
                    })()""").asText();
            assertThat(raced).as("the moves after an older look answered last").contains("done").contains("moved in");
            assertThat(N2.equals(cluster.primaryOf(id))).isTrue();
        } finally {
            ui.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Another page in the browser cannot change the cluster through the relay, nor can a rebinding name reach it. */
    private static void refusesOtherPagesAndOtherHosts(String url) throws Exception {
        var http = HttpClient.newHttpClient();
        var post = http.send(HttpRequest.newBuilder(URI.create(url + "v1/configuration/datasets"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"primary\":\"" + N1 + "\"}")).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(403);
        assertThat(post.body()).contains("X-Flocker-UI");
        var address = URI.create(url);
        try (var socket = new java.net.Socket(address.getHost(), address.getPort())) {
            socket.getOutputStream().write("GET /v1/version HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n".getBytes());
            var status = new BufferedReader(new InputStreamReader(socket.getInputStream())).readLine();
            assertThat(status).as("a page served under another name (DNS rebinding)").contains(" 403");
        }
        var version = http.send(HttpRequest.newBuilder(URI.create(url + "v1/version")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(version.statusCode()).isEqualTo(200);
        assertThat(version.body()).contains("flocker");
    }
}
