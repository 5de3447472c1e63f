package dev.sidecar.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * Deterministic pseudo-random test data, streamed without holding it in memory, and SHA-256 of what
 * was sent or received, so a test can prove every byte arrived in order. Depends on the JDK only:
 * {@link TrafficMain} uses it from a bare class-file copy in other processes.
 */
public final class Payload {
    private Payload() {}

    /** Writes {@code size} bytes generated from {@code seed}; returns their SHA-256 (hex). */
    public static String send(OutputStream out, long seed, long size) throws IOException {
        return send(out, seed, size, 0);
    }

    /** As {@link #send(OutputStream, long, long)}, at most {@code mibPerSecond} (0: unpaced). */
    public static String send(OutputStream out, long seed, long size, double mibPerSecond) throws IOException {
        MessageDigest sha = sha256();
        SplittableRandom random = new SplittableRandom(seed);
        byte[] chunk = new byte[64 * 1024];
        long start = System.nanoTime();
        for (long sent = 0; sent < size; ) {
            int n = (int) Math.min(chunk.length, size - sent);
            fill(random, chunk, n);
            sha.update(chunk, 0, n);
            out.write(chunk, 0, n);
            sent += n;
            if (mibPerSecond > 0) {
                pace(start + (long) (sent / (mibPerSecond * 1024 * 1024) * 1e9));
            }
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

    private static void pace(long dueNanos) throws InterruptedIOException {
        long wait = dueNanos - System.nanoTime();
        if (wait > 0) {
            try {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while pacing");
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
