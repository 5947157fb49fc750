package dev.flocker.lab;

import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.JSch;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Runs one command on a peer over SSH with JSch, key authentication and a pinned host key, and prints
 * its output. Launched inside a lab host's namespace so the connection really leaves that host.
 * Arguments: host private-key-file known-hosts-file command.
 */
public final class SshProbe {
    public static void main(String[] args) throws Exception {
        System.out.print(run(args[0], args[1], args[2], args[3]));
    }

    static String run(String host, String keyFile, String knownHosts, String command) throws Exception {
        var jsch = new JSch();
        jsch.addIdentity(keyFile);
        jsch.setKnownHosts(knownHosts);
        var session = jsch.getSession("root", host, 22);
        session.setConfig("StrictHostKeyChecking", "yes");
        session.setConfig("PreferredAuthentications", "publickey");
        session.setConfig("cipher.c2s", "aes128-gcm@openssh.com");
        session.setConfig("cipher.s2c", "aes128-gcm@openssh.com");
        session.connect(10_000);
        try {
            var channel = (ChannelExec) session.openChannel("exec");
            channel.setCommand(command);
            var out = new ByteArrayOutputStream();
            var err = new ByteArrayOutputStream();
            channel.setOutputStream(out);
            channel.setErrStream(err);
            channel.connect(10_000);
            while (!channel.isClosed()) {
                Thread.sleep(10);
            }
            if (channel.getExitStatus() != 0) {
                throw new IllegalStateException("'" + command + "' on " + host + " exited " + channel.getExitStatus() + ": " + err.toString(StandardCharsets.UTF_8));
            }
            return out.toString(StandardCharsets.UTF_8);
        } finally {
            session.disconnect();
        }
    }
}
