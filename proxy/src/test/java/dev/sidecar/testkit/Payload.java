package dev.sidecar.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * Deterministic pseudo-random test data, streamed without holding it in memory, and SHA-256 of what
 * was sent or received, so a test can prove every byte arrived in order.
 */
public final class Payload {
    private Payload() {}

    /** Writes {@code size} bytes generated from {@code seed}; returns their SHA-256 (hex). */
    public static String send(OutputStream out, long seed, long size) throws IOException {
        MessageDigest sha = sha256();
        SplittableRandom random = new SplittableRandom(seed);
        byte[] chunk = new byte[64 * 1024];
        for (long left = size; left > 0; ) {
            int n = (int) Math.min(chunk.length, left);
            fill(random, chunk, n);
            sha.update(chunk, 0, n);
            out.write(chunk, 0, n);
            left -= n;
        }
        out.flush();
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The SHA-256 (hex) {@link #send} produces for this seed and size, without sending. */
    public static String expected(long seed, long size) throws IOException {
        return send(OutputStream.nullOutputStream(), seed, size);
    }

    /** Reads to end of stream; returns the SHA-256 (hex) and the byte count. */
    public static Received receive(InputStream in) throws IOException {
        MessageDigest sha = sha256();
        byte[] chunk = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = in.read(chunk)) >= 0; ) {
            sha.update(chunk, 0, n);
            total += n;
        }
        return new Received(HexFormat.of().formatHex(sha.digest()), total);
    }

    /** What a receiver saw. */
    public record Received(String sha256, long bytes) {}

    private static void fill(SplittableRandom random, byte[] chunk, int n) {
        for (int i = 0; i < n; i += 8) {
            long v = random.nextLong();
            for (int j = 0; j < 8 && i + j < n; j++) {
                chunk[i + j] = (byte) (v >>> (8 * j));
            }
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
