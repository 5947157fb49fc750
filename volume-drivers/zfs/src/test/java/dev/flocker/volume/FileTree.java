package dev.flocker.volume;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/** Test helpers for data in a mounted dataset: write random files, and a checksum of a whole tree. */
public final class FileTree {
    private FileTree() {
    }

    /** SHA-256 over every regular file's relative path and content, in path order. */
    public static String checksum(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            var digest = MessageDigest.getInstance("SHA-256");
            for (var file : files.filter(Files::isRegularFile).sorted().toList()) {
                digest.update(root.relativize(file).toString().getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
                try (var in = Files.newInputStream(file)) {
                    var buffer = new byte[1 << 16];
                    for (int n; (n = in.read(buffer)) >= 0; ) {
                        digest.update(buffer, 0, n);
                    }
                }
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@code bytes} of pseudo-random (incompressible) data to {@code file}. */
    public static void writeRandom(Path file, long bytes, long seed) {
        var random = new SplittableRandom(seed);
        var buffer = new byte[1 << 20];
        try {
            Files.createDirectories(file.getParent());
            try (var out = Files.newOutputStream(file)) {
                for (long left = bytes; left > 0; ) {
                    random.nextBytes(buffer);
                    int n = (int) Math.min(buffer.length, left);
                    out.write(buffer, 0, n);
                    left -= n;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
