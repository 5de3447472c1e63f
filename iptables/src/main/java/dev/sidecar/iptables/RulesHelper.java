package dev.sidecar.iptables;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A backend whose reads and writes go through a small privileged helper process: a fixed POSIX
 * shell program ({@code rules-helper.sh}) started while the JVM is still root, which stays root
 * after the JVM drops to the proxy uid. It reads the tables it was started for (the plan's: nat,
 * and mangle in tproxy mode) of the families it was started for, applies restore text only when
 * every line is allowed by the {@link RestorePolicy} it was given at start, and runs {@code ip}
 * only for a line that is one of that policy's route steps (tproxy mode's policy routing); it
 * refuses anything else, and exits when its stdin closes (the JVM died). So {@code sidecar run}
 * can check, and repair, its rules while no thread of the JVM holds CAP_NET_ADMIN
 * ({@code iptables-save} needs it, iptables-legacy CAP_NET_RAW too, and {@code ip rule add} it).
 *
 * <p>One request at a time ({@code synchronized}); every answer must arrive within the timeout
 * the helper was started with plus a margin, or the helper is given up on: later calls fail at once.
 */
public final class RulesHelper implements IptablesBackend, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RulesHelper.class);
    /** {@code $0} of the helper, so it is recognisable in {@code ps}. */
    public static final String NAME = "sidecar-rules-helper";
    private static final Duration MARGIN = Duration.ofSeconds(5);

    private final Variant variant;
    private final Process process;
    private final OutputStream requests;
    private final InputStream answers;
    private final Duration deadline;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private String broken;

    private RulesHelper(Variant variant, Process process, Duration timeout) {
        this.variant = variant;
        this.process = process;
        this.requests = process.getOutputStream();
        this.answers = process.getInputStream();
        this.deadline = timeout.plus(MARGIN);
    }

    /** Starts the helper for the nat table alone (redirect mode); see {@link #start(Variant, List, List, List, Duration)}. */
    public static RulesHelper start(Variant variant, List<String> prefix, List<RestorePolicy> policies, Duration timeout)
            throws IOException {
        return start(variant, prefix, List.of(Chains.TABLE), policies, timeout);
    }

    /**
     * Starts the helper for {@code tables} (the plan's: {@link RedirectPlan#tables}) of
     * {@code policies}' families (each family's policy says what it may restore and which route
     * steps it may run; {@link RestorePolicy#readOnly} for none) and hands it the policies. Call it
     * while still root; the helper keeps the privileges the caller has now.
     *
     * @param prefix runs the helper behind it, e.g. {@code ip netns exec <ns>} in tests
     * @param tables the only tables it will read
     * @param timeout how long one iptables command may take inside the helper
     */
    public static RulesHelper start(Variant variant, List<String> prefix, List<String> tables, List<RestorePolicy> policies,
            Duration timeout) throws IOException {
        for (String table : tables) {
            if (!table.matches("[a-z]+")) {
                throw new IllegalArgumentException("not a table name: " + table);
            }
        }
        long seconds = Math.max(1, timeout.toSeconds());
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of("/bin/sh", "-c", script(), NAME, variant.toString(), Long.toString(seconds),
                String.join(",", tables)));
        policies.forEach(p -> command.add(RestorePolicy.word(p.family())));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        RulesHelper helper = new RulesHelper(variant, p, Duration.ofSeconds(seconds));
        StringBuilder preamble = new StringBuilder();
        policies.forEach(policy -> policy.entries().forEach(e -> preamble.append(e).append('\n')));
        preamble.append(".\n");
        helper.send(preamble.toString());
        log.debug("rules helper started (pid {}) for the {} tables of {} with iptables-{}", p.pid(), tables,
                policies.stream().map(x -> x.family().label()).toList(), variant);
        return helper;
    }

    private static String script() throws IOException {
        try (InputStream in = RulesHelper.class.getResourceAsStream("rules-helper.sh")) {
            if (in == null) {
                throw new IOException("rules-helper.sh missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The helper's process id (it runs as the user that started it). */
    public long pid() {
        return process.pid();
    }

    /** Whether the helper still runs and answered every request so far in time. */
    public synchronized boolean isUsable() {
        return broken == null && process.isAlive();
    }

    @Override
    public Variant variant() {
        return variant;
    }

    @Override
    public String save(IpFamily family) {
        return save(family, Chains.TABLE);
    }

    /** One of the tables the helper was started for; any other is refused by the helper. */
    @Override
    public synchronized String save(IpFamily family, String table) {
        String what = variant.binary(family, "save") + " -t " + table;
        Answer a = ask("save " + RestorePolicy.word(family) + " " + table + "\n", what);
        if (a.status != 0) {
            throw ProcessIptablesBackend.classify(variant, family, what, a.status, a.text);
        }
        return a.text;
    }

    /** Not offered: the helper reads only the tables of the plan. */
    @Override
    public String saveAll(IpFamily family) {
        throw new UnsupportedOperationException("the rules helper reads only the tables of the plan");
    }

    @Override
    public synchronized void restore(IpFamily family, String restoreText) {
        List<String> lines = restoreText.lines().toList();
        log.info("rules helper: applying with {} -w --noflush:\n{}", variant.binary(family, "restore"), restoreText.stripTrailing());
        StringBuilder request = new StringBuilder("restore ").append(RestorePolicy.word(family)).append(' ')
                .append(lines.size()).append('\n');
        lines.forEach(l -> request.append(l).append('\n'));
        Answer a = ask(request.toString(), variant.binary(family, "restore"));
        if (a.status != 0) {
            throw ProcessIptablesBackend.classify(variant, family, variant.binary(family, "restore") + " -w --noflush",
                    a.status, a.text);
        }
    }

    /**
     * Runs {@code ip args...} as the helper, which does so only when the line is one of the plan's
     * route steps (adding or deleting it) in the family's policy; the family is the one {@code args}
     * start with ({@code -4} or {@code -6}).
     *
     * @throws IptablesCommandException when it is refused, or {@code ip} exits non-zero
     */
    public synchronized String route(List<String> args) {
        String shown = "ip " + String.join(" ", args);
        IpFamily family = args.isEmpty() ? null : switch (args.get(0)) {
            case "-4" -> IpFamily.IPV4;
            case "-6" -> IpFamily.IPV6;
            default -> null;
        };
        if (family == null || args.stream().anyMatch(a -> a.isEmpty() || a.contains(" ") || a.contains("\n"))) {
            throw new IptablesCommandException(shown, -1, "refused: not a route step of the plan");
        }
        log.info("rules helper: running {}", shown);
        Answer a = ask("route " + RestorePolicy.word(family) + " 1\n" + String.join(" ", args) + "\n", shown);
        if (a.status != 0) {
            throw new IptablesCommandException(shown, a.status, a.text);
        }
        return a.text;
    }

    /**
     * Policy routing through the helper: {@code ip ... show} runs as this process through
     * {@code reads} (listing rules and routes needs no privilege), every other command (adding or
     * deleting a route step) goes to {@link #route}.
     */
    public IpRoutes routes(IpRoutes reads) {
        return args -> args.size() > 2 && args.get(2).equals("show") ? reads.ip(args) : route(args);
    }

    /** Closes the helper's stdin, so it exits after its current request; waits a moment for it. */
    @Override
    public synchronized void close() {
        try {
            requests.close();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            process.waitFor(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record Answer(int status, String text) {}

    private Answer ask(String request, String what) {
        if (broken != null) {
            throw new IptablesEnvironmentException("the rules helper is gone (" + broken + "); " + what + " cannot run");
        }
        try {
            send(request);
            long until = System.nanoTime() + deadline.toNanos();
            String[] head = line(until).split(" ");
            if (head[0].equals("refused") && head.length == 2) {
                String why = String.join("\n", lines(Integer.parseInt(head[1]), until)).strip();
                throw new IptablesCommandException(what, -1, "refused by the rules helper: " + why);
            }
            if (!head[0].equals("status") || head.length != 3) {
                throw gone("unexpected answer '" + String.join(" ", head) + "'");
            }
            List<String> body = lines(Integer.parseInt(head[2]), until);
            return new Answer(Integer.parseInt(head[1]), String.join("\n", body) + "\n");
        } catch (IOException | NumberFormatException e) {
            throw gone(e.getMessage());
        }
    }

    private IptablesEnvironmentException gone(String why) {
        broken = why;
        close(); // its answers can no longer be told apart; stop it rather than misread it
        return new IptablesEnvironmentException("the rules helper is gone (" + why + ")");
    }

    private void send(String text) throws IOException {
        requests.write(text.getBytes(StandardCharsets.UTF_8));
        requests.flush();
    }

    private List<String> lines(int n, long until) throws IOException {
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(line(until));
        }
        return out;
    }

    // Polls instead of blocking, so a helper that hangs costs at most the deadline, not the watch.
    private String line(long until) throws IOException {
        byte[] chunk = new byte[8192];
        while (true) {
            byte[] have = pending.toByteArray();
            for (int i = 0; i < have.length; i++) {
                if (have[i] == '\n') {
                    pending.reset();
                    pending.write(have, i + 1, have.length - i - 1);
                    return new String(have, 0, i, StandardCharsets.UTF_8);
                }
            }
            int ready = answers.available();
            if (ready > 0 || !process.isAlive()) {
                int n = answers.read(chunk, 0, Math.max(1, Math.min(ready, chunk.length)));
                if (n < 0) {
                    throw new IOException("it exited " + exitCode());
                }
                pending.write(chunk, 0, n);
            } else if (System.nanoTime() > until) {
                throw new IOException("no answer within " + deadline.toSeconds() + "s");
            } else {
                sleep();
            }
        }
    }

    private String exitCode() {
        try {
            return process.waitFor(1, TimeUnit.SECONDS) ? Integer.toString(process.exitValue()) : "(still running)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(interrupted)";
        }
    }

    private static void sleep() throws IOException {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for an answer");
        }
    }
}
