package dev.sidecar.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Throwaway network namespaces for integration tests: every namespace it makes is deleted by
 * {@link #close()}, even when the test failed, so nothing is ever installed in the machine's own
 * namespace. Addresses stay in 198.18.0.0/15 and 2001:db8::/32.
 *
 * <pre>{@code
 * try (NetnsLab lab = new NetnsLab("ipt")) {
 *     String pod = lab.namespace("pod");
 *     lab.exec(pod, "iptables-save", "-t", "nat");
 * }
 * }</pre>
 */
public final class NetnsLab implements AutoCloseable {
    private final String prefix;
    private final List<String> namespaces = new ArrayList<>();

    /** @param tag a short word naming the test suite; it goes into every namespace name. */
    public NetnsLab(String tag) {
        // Every namespace test needs root: fail it with the reason, not with ip's "Operation not permitted".
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new IllegalStateException(
                    "namespace tests need root; run as root or skip them explicitly with -Dnetns.skip=true");
        }
        this.prefix = "sc-" + tag + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff)) + "-";
    }

    /** Creates a namespace with loopback up and returns its full name. */
    public String namespace(String name) {
        String ns = prefix + name;
        run("ip", "netns", "add", ns);
        namespaces.add(ns);
        exec(ns, "ip", "link", "set", "lo", "up");
        return ns;
    }

    /**
     * Joins two namespaces with a veth pair and gives each end an address with prefix length,
     * e.g. {@code "198.18.0.1/24"} or {@code "2001:db8::1/64"}. Returns the two interface names.
     */
    public String[] link(String nsA, String addrA, String nsB, String addrB) {
        String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        String a = "va" + id, b = "vb" + id;
        run("ip", "link", "add", a, "netns", nsA, "type", "veth", "peer", "name", b, "netns", nsB);
        address(nsA, a, addrA);
        address(nsB, b, addrB);
        exec(nsA, "ip", "link", "set", a, "up");
        exec(nsB, "ip", "link", "set", b, "up");
        return new String[] {a, b};
    }

    /** Adds one more address to an interface (IPv6 addresses skip duplicate address detection). */
    public void address(String ns, String dev, String cidr) {
        if (cidr.contains(":")) {
            exec(ns, "ip", "-6", "addr", "add", cidr, "dev", dev, "nodad");
        } else {
            exec(ns, "ip", "addr", "add", cidr, "dev", dev);
        }
    }

    /** Runs a command inside a namespace; fails the test with its output when it exits non-zero. */
    public String exec(String ns, String... command) {
        return run(inNs(ns, command));
    }

    /** Runs a command inside a namespace and returns its result whatever the exit code. */
    public Result tryExec(String ns, String... command) {
        return tryRun(inNs(ns, command));
    }

    /** Starts a long-running process inside a namespace; the caller must destroy it. */
    public Process start(String ns, String... command) throws IOException {
        return new ProcessBuilder(inNs(ns, command)).redirectErrorStream(true).start();
    }

    /** The command line that runs {@code command} inside {@code ns}. */
    public static String[] inNs(String ns, String... command) {
        String[] full = new String[command.length + 4];
        full[0] = "ip";
        full[1] = "netns";
        full[2] = "exec";
        full[3] = ns;
        System.arraycopy(command, 0, full, 4, command.length);
        return full;
    }

    /** Deletes every namespace this lab made, in reverse order; never throws. */
    @Override
    public void close() {
        for (int i = namespaces.size() - 1; i >= 0; i--) {
            tryRun("ip", "netns", "delete", namespaces.get(i));
        }
        namespaces.clear();
    }

    /** Exit code and merged output of a finished command. */
    public record Result(int exitCode, String output) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    static String run(String... command) {
        Result r = tryRun(command);
        if (!r.ok()) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + r.exitCode() + ": " + r.output());
        }
        return r.output();
    }

    static Result tryRun(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out: " + String.join(" ", command));
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }
}
