package dev.sidecar.testkit;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Golden files: compares output with a checked-in file under {@code src/test/resources/golden/},
 * failing with a unified diff. With {@code -Dgolden.update=true} it rewrites the file (atomically)
 * instead; golden diffs are then reviewed like code.
 */
public final class Golden {
    private Golden() {}

    /** The golden directory of the module the tests run in. */
    public static Path root() {
        return Path.of(System.getProperty("golden.dir", "src/test/resources/golden"));
    }

    public static boolean updating() {
        return Boolean.getBoolean("golden.update");
    }

    /** Reads a golden file; fails when it does not exist. */
    public static String read(String relative) {
        Path file = root().resolve(relative);
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("golden file missing: " + file + " (run with -Dgolden.update=true to create it)", e);
        }
    }

    /** Asserts {@code actual} equals the golden file (surrounding whitespace ignored), or rewrites it. */
    public static void assertMatches(String relative, String actual) {
        Path file = root().resolve(relative);
        if (updating()) {
            write(file, actual.strip() + "\n");
            return;
        }
        String expected = read(relative);
        if (!expected.strip().equals(actual.strip())) {
            fail("golden mismatch for " + file + " (rerun with -Dgolden.update=true to accept):\n"
                    + unifiedDiff(relative, expected.strip(), actual.strip()));
        }
    }

    private static void write(Path file, String content) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, content, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A unified diff (whole file as one hunk, from an LCS) of two texts. */
    public static String unifiedDiff(String name, String expected, String actual) {
        String[] a = expected.split("\n", -1);
        String[] b = actual.split("\n", -1);
        int[][] lcs = new int[a.length + 1][b.length + 1];
        for (int i = a.length - 1; i >= 0; i--) {
            for (int j = b.length - 1; j >= 0; j--) {
                lcs[i][j] = a[i].equals(b[j]) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        List<String> out = new ArrayList<>();
        out.add("--- golden/" + name);
        out.add("+++ actual");
        out.add("@@ -1," + a.length + " +1," + b.length + " @@");
        int i = 0, j = 0;
        while (i < a.length || j < b.length) {
            if (i < a.length && j < b.length && a[i].equals(b[j])) {
                out.add(" " + a[i++]);
                j++;
            } else if (j < b.length && (i == a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
                out.add("+" + b[j++]);
            } else {
                out.add("-" + a[i++]);
            }
        }
        return String.join("\n", out);
    }
}
