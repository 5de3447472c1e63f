package dev.sidecar.bench;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/** Blocking-stream helpers shared by the benchmarks and their target server. */
final class Streams {
    private Streams() {}

    /** Reads and discards exactly {@code n} bytes, using {@code buf} as scratch. */
    static void skipFully(InputStream in, long n, byte[] buf) throws IOException {
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) {
                throw new EOFException(n + " bytes missing");
            }
            n -= r;
        }
    }

    /** Reads exactly {@code len} bytes into {@code buf}. */
    static void readFully(InputStream in, byte[] buf, int len) throws IOException {
        for (int off = 0; off < len; ) {
            int r = in.read(buf, off, len - off);
            if (r < 0) {
                throw new EOFException((len - off) + " bytes missing");
            }
            off += r;
        }
    }
}
