package dev.flocker.control.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import dev.flocker.api.tls.TlsFiles;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * A process on a host that is not a replica, trying the replicas' cluster port as an intruder would: plain bytes in
 * Hazelcast's protocol, TLS with a certificate that is not a control service's, and a Hazelcast member that tries to
 * join. Prints one {@code key=value} line per attempt for {@link ReplicaPortTest}.
 */
public final class Intruder {
    private Intruder() {
    }

    public static void main(String[] args) throws Exception {
        try {
            attempt(args);
        } finally {
            System.exit(0); // a member that failed to start may leave threads behind
        }
    }

    private static void attempt(String[] args) throws Exception {
        var host = args[0];
        int port = Integer.parseInt(args[1]);
        var user = new TlsFiles(Path.of(args[2]), Path.of(args[3]), Path.of(args[4]));
        try (var socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 5000);
            socket.setSoTimeout(5000);
            socket.getOutputStream().write("HZC".getBytes()); // Hazelcast's member protocol header
            socket.getOutputStream().flush();
            var answer = new byte[256];
            int n = readSome(socket, answer);
            System.out.println("plain-answer=" + (n <= 0 ? "none" : HexFormat.of().formatHex(answer, 0, n)));
        }
        try (var socket = user.context().getSocketFactory().createSocket()) {
            socket.connect(new InetSocketAddress(host, port), 5000);
            socket.setSoTimeout(5000);
            ((javax.net.ssl.SSLSocket) socket).startHandshake();
            socket.getOutputStream().write("HZC".getBytes());
            int n = readSome(socket, new byte[16]);
            // TLS 1.3 finishes the client's side of the handshake before the server has judged its certificate: a
            // refusal then shows as the connection closing without an answer.
            System.out.println("tls-user=" + (n > 0 ? "answered" : "refused (closed without an answer)"));
        } catch (IOException e) {
            System.out.println("tls-user=refused (" + e.getMessage() + ")");
        }
        var config = new Config();
        config.setClusterName("flocker");
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "none");
        config.setProperty("hazelcast.max.join.seconds", "15");
        var network = config.getNetworkConfig();
        network.setPort(5799).setPortAutoIncrement(false);
        network.getJoin().getMulticastConfig().setEnabled(false);
        network.getJoin().getAutoDetectionConfig().setEnabled(false);
        network.getJoin().getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(5).addMember(host + ":" + port);
        com.hazelcast.core.HazelcastInstance member;
        try {
            member = Hazelcast.newHazelcastInstance(config);
        } catch (IllegalStateException e) {
            System.out.println("join=failed (" + e.getMessage() + ")");
            return;
        }
        try {
            Thread.sleep(5000);
            System.out.println("join=alone members=" + member.getCluster().getMembers().size() + " configuration-entries="
                    + member.getMap("flocker-configuration").size());
        } finally {
            member.shutdown();
        }
    }

    private static int readSome(Socket socket, byte[] buffer) {
        try {
            return socket.getInputStream().read(buffer);
        } catch (IOException e) {
            return -1;
        }
    }
}
