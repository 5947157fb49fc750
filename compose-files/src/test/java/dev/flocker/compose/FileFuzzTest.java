package dev.flocker.compose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.flocker.api.model.Configuration;
import dev.flocker.api.model.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Whatever a file holds, reading and applying it either works or fails with a {@link ConfigurationError} that says
 * what is wrong: never another exception (which the CLI would print as a stack trace), never a silently wrong value.
 */
class FileFuzzTest {
    static final Map<String, List<String>> PLACEMENT = Map.of("10.0.0.11", List.of("web", "db"));

    /** The cases users met, each in a Compose service otherwise valid. */
    @ParameterizedTest
    @ValueSource(strings = {
            "{\"image\": \"Not A Valid/Image::x\"}",
            "{\"image\": \"x\", \"environment\": {\"\": \"v\"}}",
            "{\"image\": \"x\", \"environment\": [\"A=B=C\", \"=v\"]}",
            "{\"image\": \"x\", \"environment\": {\"A=B\": \"v\"}}",
            "{\"image\": \"x\", \"volumes\": [\"/data/../etc:/x\"]}",
            "{\"image\": \"x\", \"volumes\": [\"/../etc\"]}",
            "{\"image\": \"x\", \"mem_limit\": \"99999999999g\"}",
            "{\"image\": \"x\", \"mem_limit\": -5}",
            "{\"image\": \"x\", \"mem_limit\": 0}",
            "{\"image\": \"x\", \"cpu_shares\": 99999999}",
            "{\"image\": \"x\", \"ports\": [\"99999:80\"]}",
            "{\"image\": \"x\", \"ports\": [\"80:0\"]}",
            "{\"image\": \"x\", \"links\": [\"db:\"]}"})
    void aBadValueIsAConfigurationErrorNamingTheApplication(String web) {
        var text = "{\"services\": {\"web\": " + web + ", \"db\": {\"image\": \"postgres:15\", \"ports\": [\"15432:5432\"]}}}";
        try {
            read(Json.read(text, Object.class));
            fail("accepted: " + web);
        } catch (ConfigurationError e) {
            assertThat(e.getMessage()).contains("Application 'web' has a config error.");
        }
    }

    /** Thousands of files made by replacing values of a valid one with odd ones: only ConfigurationError escapes. */
    @Test
    void randomlyBrokenFilesFailOnlyWithConfigurationErrors() {
        var random = new Random(27_11_2026);
        Object[] odd = {null, "", " ", "..", "/..", "A=B", "=", "${X}", "-1", -1, 0, 99999, Long.MAX_VALUE, 1.5, -0.0, true, "yes",
                "\u0000", "é", "x".repeat(5000), List.of(), List.of(1, "a"), Map.of(), Map.of("k", List.of()), "99999999999g", "80:80:80",
                "a:b", "/data:/x:ro:extra", "on-failure:x", "no"};
        int accepted = 0;
        for (int i = 0; i < 3000; i++) {
            var file = valid();
            mutate(file, random, odd, 1 + random.nextInt(3));
            try {
                read(file);
                accepted++;
            } catch (ConfigurationError e) {
                assertThat(e.getMessage()).isNotBlank();
            } catch (RuntimeException e) {
                throw new AssertionError("file " + Json.write(file) + " raised " + e, e);
            }
        }
        assertThat(accepted).as("some mutations are still valid files").isPositive();
    }

    private static void read(Object file) {
        var apps = ApplicationFile.parse(file);
        Deployment.apply(Configuration.EMPTY, ComposeFilesTest.CLUSTER, apps, PLACEMENT);
    }

    /** The features a Compose file can use here, all in one valid file: each is somewhere the fuzzing breaks it. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> valid() {
        return (Map<String, Object>) Json.read("""
                {"services": {
                  "web": {"image": "nginx:1.25", "ports": ["8080:80"], "environment": {"MODE": "prod"}, "links": ["db:database"],
                          "command": "nginx -g 'daemon off;'", "restart": "on-failure", "mem_limit": "256m", "cpu_shares": 512,
                          "depends_on": {"db": {"condition": "service_healthy"}}, "expose": ["80", "8000-8010/tcp"], "init": true,
                          "entrypoint": ["/docker-entrypoint.sh"], "cpus": "0.5", "profiles": ["frontend"], "user": "101:101",
                          "working_dir": "/srv", "hostname": "web", "labels": {"team": "shop"}, "read_only": true, "tmpfs": ["/run"],
                          "shm_size": "64m", "extra_hosts": ["db.local:10.0.0.5"], "stop_signal": "SIGQUIT", "stop_grace_period": "10s",
                          "configs": ["site", {"source": "site", "target": "/etc/site.conf", "mode": 292}], "secrets": ["token"],
                          "volumes": [{"type": "volume", "source": "shared", "target": "/srv", "read_only": true}]},
                  "db": {"image": "postgres:15", "container_name": "db", "ports": ["15432:5432"],
                         "volumes": ["shared:/var/lib/postgresql/data:rw", "/wal", {"type": "tmpfs", "target": "/tmp"}],
                         "environment": ["POSTGRES_PASSWORD=x"],
                         "healthcheck": {"test": ["CMD", "pg_isready"], "interval": "1s", "timeout": "2s", "retries": 3, "start_period": "1m"},
                         "deploy": {"replicas": 1, "resources": {"limits": {"memory": "1g", "cpus": 2}},
                                    "restart_policy": {"condition": "on-failure", "max_attempts": 3}}}},
                 "volumes": {"shared": {"driver": "flocker", "driver_opts": {"size": "1G"}}, "other": {"external": true, "name": "x"}},
                 "configs": {"site": {"content": "server {}"}}, "secrets": {"token": {"x-content-base64": "czNjcmV0"}}}""",
                Object.class);
    }

    /** Replaces {@code count} values anywhere in the tree (map values or list items) with odd ones. */
    @SuppressWarnings("unchecked")
    private static void mutate(Object node, Random random, Object[] odd, int count) {
        for (int n = 0; n < count; n++) {
            var slots = new ArrayList<Runnable>();
            collect(node, random, odd, slots);
            if (!slots.isEmpty()) {
                slots.get(random.nextInt(slots.size())).run();
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static void collect(Object node, Random random, Object[] odd, List<Runnable> slots) {
        if (node instanceof Map<?, ?> map) {
            var m = (Map<String, Object>) map;
            for (var key : new ArrayList<>(m.keySet())) {
                slots.add(() -> m.put(key, copy(odd[random.nextInt(odd.length)])));
                collect(m.get(key), random, odd, slots);
            }
        } else if (node instanceof List<?> list) {
            var l = (List<Object>) list;
            for (int i = 0; i < l.size(); i++) {
                int index = i;
                slots.add(() -> l.set(index, copy(odd[random.nextInt(odd.length)])));
                collect(l.get(i), random, odd, slots);
            }
        }
    }

    private static Object copy(Object value) {
        if (value instanceof Map<?, ?> map) {
            return new LinkedHashMap<>(map);
        }
        if (value instanceof List<?> list) {
            return new ArrayList<>(list);
        }
        return value;
    }
}
