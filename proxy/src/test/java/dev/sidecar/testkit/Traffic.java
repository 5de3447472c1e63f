package dev.sidecar.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Runs {@link TrafficMain} as its own process inside a namespace, optionally as another uid
 * ({@code setpriv}), from world-readable copies of its class files and {@link Payload}'s.
 *
 * <p>Each {@code connect} and {@code reset} client gets a source port of its own, counted up from
 * 61000, above the namespaces' ephemeral range (32768-60999), so that the address a client reports
 * is the address the proxy sees. With ephemeral ports it sometimes was not: a new connection from a
 * port that an earlier, already closed connection to another destination had used is redirected
 * to the same proxy port, so its NAT reply tuple would equal the one conntrack still holds for the
 * earlier connection (in TIME_WAIT), and the kernel then quietly rewrites the new connection's
 * source port to keep the tuples unique.
 */
public final class Traffic implements AutoCloseable {
    private static final int FIRST_SOURCE_PORT = 61_000;
    private final AtomicInteger nextSourcePort = new AtomicInteger(FIRST_SOURCE_PORT);
    private final Path classes;
    private final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private final List<Process> servers = new ArrayList<>();

    public Traffic() throws IOException {
        classes = Files.createTempDirectory("rly-traffic", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Path pkg = Files.createDirectories(classes.resolve("dev/sidecar/testkit"));
        Path from = Path.of(TrafficMain.class.getProtectionDomain().getCodeSource().getLocation().getPath(), "dev/sidecar/testkit");
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("TrafficMain") || p.getFileName().toString().startsWith("Payload")).toList()) {
                Files.copy(f, pkg.resolve(f.getFileName()));
            }
        }
        for (Path p : List.of(classes.resolve("dev"), classes.resolve("dev/sidecar"), pkg)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    /** Starts a server in {@code ns} as {@code uid} on {@code port}; returns once it listens. */
    public Server serve(String ns, int uid, int port) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(NetnsLab.inNs(ns, command(uid, "serve", Integer.toString(port))))
                .redirectErrorStream(true).start();
        servers.add(p);
        Server server = new Server(p);
        server.await("listening", 20);
        return server;
    }

    /** Starts a {@code record} server in {@code ns} as {@code uid} on {@code port}; returns once it listens. */
    public Server record(String ns, int uid, int port) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(NetnsLab.inNs(ns, command(uid, "record", Integer.toString(port))))
                .redirectErrorStream(true).start();
        servers.add(p);
        Server server = new Server(p);
        server.await("listening", 20);
        return server;
    }

    /** Runs {@code send host port text repeat} to completion: the text at once on connect, then FIN. */
    public Result send(String ns, int uid, String host, int port, String text, int repeat) throws IOException, InterruptedException {
        return finish(new ProcessBuilder(NetnsLab.inNs(ns, command(uid, "send", host, Integer.toString(port), text,
                Integer.toString(repeat)))).redirectErrorStream(true).start());
    }

    /** A running {@code serve} process and the lines it printed. */
    public static final class Server {
        private final Process process;
        private final List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();

        Server(Process process) {
            this.process = process;
            Thread t = new Thread(() -> {
                try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException ended) {
                    // process gone
                }
            }, "traffic-server");
            t.setDaemon(true);
            t.start();
        }

        /** The first line starting with {@code prefix}, waiting up to {@code seconds}. */
        public String await(String prefix, int seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < deadline) {
                for (String line : lines) {
                    if (line.startsWith(prefix)) {
                        return line;
                    }
                }
                if (!process.isAlive()) {
                    break;
                }
                Thread.sleep(20);
            }
            throw new AssertionError("server printed no line starting with '" + prefix + "': " + lines + "\n" + socketsOfTestNamespaces());
        }

        /** The first line that passes {@code test}, waiting up to {@code seconds}. */
        public String awaitLine(java.util.function.Predicate<String> test, int seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < deadline) {
                for (String line : lines) {
                    if (test.test(line)) {
                        return line;
                    }
                }
                if (!process.isAlive()) {
                    break;
                }
                Thread.sleep(20);
            }
            throw new AssertionError("server printed no matching line: " + lines);
        }

        /** The line for the connection that asked for bytes from {@code seed}. */
        public String connection(long seed) throws InterruptedException {
            return await("seed=" + seed + " ", 30);
        }
    }

    /**
     * {@code ss -tanmoi} of every namespace the tests made (named {@code sc-...}): where a stalled
     * stream's bytes wait (which socket's Recv-Q or Send-Q), for the failure message.
     */
    static String socketsOfTestNamespaces() {
        StringBuilder out = new StringBuilder("TCP sockets of the test namespaces:\n");
        try {
            for (String ns : NetnsLab.run("ip", "netns", "list").lines().map(l -> l.split(" ")[0]).filter(n -> n.startsWith("sc-")).toList()) {
                out.append("== ").append(ns).append('\n').append(NetnsLab.run(NetnsLab.inNs(ns, "ss", "-tanmoi")));
            }
        } catch (RuntimeException e) {
            out.append("(ss failed: ").append(e.getMessage()).append(")\n");
        }
        return out.toString();
    }

    /** The result line of one client run, parsed into key=value pairs. */
    public record Result(Map<String, String> fields, String line) {
        public String get(String key) {
            return fields.get(key);
        }

        /** True when both directions completed: no error in either. */
        public boolean ok() {
            return !fields.containsKey("error");
        }

        /** The client's source port, known even when the connection failed before it was established. */
        public String port() {
            String local = fields.get("local");
            return local.substring(local.lastIndexOf(':') + 1);
        }
    }

    /** Runs one client to completion: {@code connect host port send seedSend recv seedRecv [rate]}. */
    public Result connect(String ns, int uid, String host, int port, long send, long seedSend, long recv, long seedRecv,
            double mibPerSecond) throws IOException, InterruptedException {
        Process p = start(ns, uid, host, port, send, seedSend, recv, seedRecv, mibPerSecond);
        return finish(p);
    }

    /** As above with a server stall (negative: the server reads that many bytes, then resets). */
    public Result connect(String ns, int uid, String host, int port, long send, long seedSend, long recv, long seedRecv,
            double mibPerSecond, long serverStallMillis) throws IOException, InterruptedException {
        return finish(start(ns, uid, host, port, send, seedSend, recv, seedRecv, mibPerSecond, serverStallMillis));
    }

    /** Starts a client without waiting; see {@link #finish}. */
    public Process start(String ns, int uid, String host, int port, long send, long seedSend, long recv, long seedRecv,
            double mibPerSecond) throws IOException {
        return start(ns, uid, host, port, send, seedSend, recv, seedRecv, mibPerSecond, 0);
    }

    /** As {@link #start}, and the server reads nothing for its first {@code serverStallMillis}. */
    public Process start(String ns, int uid, String host, int port, long send, long seedSend, long recv, long seedRecv,
            double mibPerSecond, long serverStallMillis) throws IOException {
        return new ProcessBuilder(NetnsLab.inNs(ns, command(uid, "connect", host, Integer.toString(port), Long.toString(send),
                Long.toString(seedSend), Long.toString(recv), Long.toString(seedRecv), Double.toString(mibPerSecond),
                Long.toString(serverStallMillis))))
                .redirectErrorStream(true).start();
    }

    /** Runs {@code many host port n bytes}; returns its result line ({@code ok=N bad=M ...}). */
    public String many(String ns, int uid, String host, int port, int n, long bytes) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(NetnsLab.inNs(ns, command(uid, "many", host, Integer.toString(port), Integer.toString(n),
                Long.toString(bytes)))).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        p.waitFor(60, TimeUnit.SECONDS);
        return out;
    }

    /**
     * Runs {@code hold host port n} (n connections at once from n source ports of their own, see
     * {@link TrafficMain}); returns its result line parsed ({@code relayed reset closed hung ms}).
     */
    public Map<String, Integer> hold(String ns, int uid, String host, int port, int n) throws IOException, InterruptedException {
        int first = nextSourcePort.getAndAdd(n);
        if (first + n - 1 > 65_535) {
            throw new IllegalStateException("more clients than source ports " + FIRST_SOURCE_PORT + "-65535 in one test class");
        }
        List<String> cmd = new ArrayList<>(List.of(command(uid, "hold", host, Integer.toString(port), Integer.toString(n))));
        cmd.add(cmd.indexOf("-cp"), "-Dtraffic.localPort=" + first);
        Process p = new ProcessBuilder(NetnsLab.inNs(ns, cmd.toArray(String[]::new))).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        p.waitFor(60, TimeUnit.SECONDS);
        String last = out.substring(out.lastIndexOf('\n') + 1);
        if (!last.startsWith("relayed=")) {
            throw new IllegalStateException("hold client printed no result: " + out);
        }
        Map<String, Integer> fields = new HashMap<>();
        for (String part : last.split(" ")) {
            String[] kv = part.split("=");
            fields.put(kv[0], Integer.parseInt(kv[1]));
        }
        return fields;
    }

    /** Runs {@code reset host port seed}: 1000 bytes, then an abort with RST; returns the client's address. */
    public String reset(String ns, int uid, String host, int port, long seed) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(NetnsLab.inNs(ns, command(uid, "reset", host, Integer.toString(port), Long.toString(seed))))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        p.waitFor(30, TimeUnit.SECONDS);
        if (!out.startsWith("local=")) {
            throw new IllegalStateException("reset client failed: " + out);
        }
        return out.substring("local=".length());
    }

    /** Waits for a client started with {@link #start} and parses its last line. */
    public Result finish(Process p) throws IOException, InterruptedException {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("client did not finish: " + out);
        }
        String last = out.substring(out.lastIndexOf('\n') + 1);
        Map<String, String> fields = new HashMap<>();
        for (String part : last.split(" ")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                fields.put(part.substring(0, eq), part.substring(eq + 1));
            }
        }
        if (!fields.containsKey("local")) {
            throw new IllegalStateException("client printed no result: " + out);
        }
        if (fields.containsKey("error")) { // error messages contain spaces
            fields.put("error", last.substring(last.indexOf("error=") + 6));
        }
        return new Result(fields, last);
    }

    private String[] command(int uid, String... args) {
        List<String> cmd = new ArrayList<>();
        if (uid != 0) {
            cmd.addAll(List.of("setpriv", "--reuid", Integer.toString(uid), "--regid", Integer.toString(uid), "--clear-groups"));
        }
        cmd.addAll(List.of(java, "-Xmx64m", "-XX:TieredStopAtLevel=1"));
        if (args[0].equals("connect") || args[0].equals("reset") || args[0].equals("send")) {
            int port = nextSourcePort.getAndIncrement();
            if (port > 65_535) {
                throw new IllegalStateException("more clients than source ports " + FIRST_SOURCE_PORT + "-65535 in one test class");
            }
            cmd.add("-Dtraffic.localPort=" + port);
        }
        cmd.addAll(List.of("-cp", classes.toString(), TrafficMain.class.getName()));
        cmd.addAll(List.of(args));
        return cmd.toArray(String[]::new);
    }

    @Override
    public void close() {
        for (Process p : servers) {
            p.destroyForcibly();
        }
        try (Stream<Path> walk = Files.walk(classes)) {
            for (Path p : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
