package dev.sidecar.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * {@code bin/sidecar run} started exactly as a user would (the real launcher, as root) inside a
 * test namespace, with its log collected line by line. Debug logging is on, so every relayed
 * connection leaves one line.
 */
public final class SidecarProcess implements AutoCloseable {
    private static final Path LAUNCHER = Path.of(System.getProperty("sidecar.launcher", "../bin/sidecar")).toAbsolutePath().normalize();

    private final Process process;
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final Thread reader;

    private SidecarProcess(Process process) {
        this.process = process;
        reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ended) {
                // the process is gone
            }
        }, "sidecar-log");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code sidecar run args...} in {@code ns} and waits until it accepts connections. */
    public static SidecarProcess start(String ns, String... args) throws Exception {
        return start(ns, List.of(), args);
    }

    /**
     * As {@link #start(String, String...)}, with soft and hard {@code RLIMIT_NOFILE} set to
     * {@code maxFds} for the launcher and the JVM ({@code prlimit}, as {@code ulimit -n} would).
     */
    public static SidecarProcess startWithFdLimit(String ns, int maxFds, String... args) throws Exception {
        return start(ns, List.of("prlimit", "--nofile=" + maxFds + ":" + maxFds), args);
    }

    /**
     * As {@link #start(String, String...)}, with the launcher run by {@code wrapper} (a command and
     * its arguments, e.g. one that installs a seccomp filter first, or sets a limit).
     */
    public static SidecarProcess start(String ns, List<String> wrapper, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.addAll(List.of("env", "SIDECAR_LOG_LEVEL=DEBUG", LAUNCHER.toString(), "run"));
        cmd.addAll(List.of(args));
        SidecarProcess p = new SidecarProcess(new ProcessBuilder(NetnsLab.inNs(ns, cmd.toArray(String[]::new)))
                .redirectErrorStream(true).start());
        try {
            p.await(l -> l.contains("Sidecar: accepting"), 30);
        } catch (AssertionError | InterruptedException e) {
            p.kill(); // a sidecar that never came up must not outlive the test
            throw e;
        }
        return p;
    }

    /**
     * One HTTP/1.0 request to {@code 127.0.0.1:port} from inside {@code ns} (bash's /dev/tcp, so no
     * client needs installing); returns the whole response, status line first.
     */
    public static String http(String ns, int port, String method, String path) throws Exception {
        String script = "exec 3<>/dev/tcp/127.0.0.1/$0 && printf '%s %s HTTP/1.0\\r\\n\\r\\n' \"$1\" \"$2\" >&3 && cat <&3";
        Process p = new ProcessBuilder(NetnsLab.inNs(ns, "bash", "-c", script, Integer.toString(port), method, path))
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        String response = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return response;
    }

    /** Waits up to {@code seconds} for a log line matching {@code test}; fails with the log. */
    public String await(Predicate<String> test, int seconds) throws InterruptedException {
        return await(test, seconds, null);
    }

    /**
     * As {@link #await(Predicate, int)}; on failure the lines that mention {@code about} (a client
     * address, say) come first in the message, before the whole log, so a truncated report still
     * shows what the sidecar did say about it.
     */
    public String await(Predicate<String> test, int seconds, String about) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            for (String line : lines) {
                if (test.test(line)) {
                    return line;
                }
            }
            if (!process.isAlive() && lines.stream().noneMatch(test)) {
                throw new AssertionError("sidecar exited " + process.exitValue() + " first; log:\n" + log());
            }
            Thread.sleep(20);
        }
        String near = about == null ? "" : "; lines about " + about + ": "
                + lines.stream().filter(l -> l.contains(about)).toList();
        throw new AssertionError("no matching sidecar log line in " + seconds + " s" + near + "; log:\n" + log());
    }

    /** Every connection line ({@code inbound|outbound CLIENT -> TARGET sent=...}) so far. */
    public List<String> connectionLines() {
        return lines.stream().filter(l -> l.contains("ConnectionLog:")).toList();
    }

    public String log() {
        return String.join("\n", lines);
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    /** Sends SIGTERM and waits for the exit code. */
    public int terminate(int seconds) throws Exception {
        process.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our end of its log pipe
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("sidecar did not exit within " + seconds + " s of SIGTERM; log:\n" + log());
        }
        reader.join(5000); // the last lines may still be in the pipe
        return process.exitValue();
    }

    /** SIGKILL, as a crash would. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }
}
