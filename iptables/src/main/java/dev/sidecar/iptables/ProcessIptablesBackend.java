package dev.sidecar.iptables;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the real {@code iptables-<variant>-save} and {@code -restore} binaries (found on PATH).
 * The only class in the project that starts processes for iptables. Failures become one-line
 * exceptions: {@link IptablesEnvironmentException} when the machine is the problem (missing binary,
 * missing privileges, no nat table), {@link IptablesCommandException} otherwise.
 */
public final class ProcessIptablesBackend implements IptablesBackend {
    private static final Logger log = LoggerFactory.getLogger(ProcessIptablesBackend.class);
    private static final long TIMEOUT_SECONDS = 60;

    private final Variant variant;
    private final List<String> prefix;

    /** Runs the binaries in this process's own network namespace. */
    public ProcessIptablesBackend(Variant variant) {
        this(variant, List.of());
    }

    /**
     * Runs every binary behind {@code prefix}, e.g. {@code ip netns exec <ns>} to work on another
     * network namespace (tests use this so nothing ever touches the machine's own namespace).
     */
    public ProcessIptablesBackend(Variant variant, List<String> prefix) {
        this.variant = variant;
        this.prefix = List.copyOf(prefix);
    }

    @Override
    public Variant variant() {
        return variant;
    }

    @Override
    public String save(IpFamily family) {
        return run(family, List.of(variant.binary(family, "save"), "-t", Chains.TABLE), null);
    }

    @Override
    public String save(IpFamily family, String table) {
        return run(family, List.of(variant.binary(family, "save"), "-t", table), null);
    }

    @Override
    public String saveAll(IpFamily family) {
        return run(family, List.of(variant.binary(family, "save")), null);
    }

    @Override
    public void restore(IpFamily family, String restoreText) {
        // -w waits for the xtables lock (legacy) instead of failing when another writer holds it.
        List<String> command = List.of(variant.binary(family, "restore"), "-w", "--noflush");
        log.info("running {} with input:\n{}", String.join(" ", command), restoreText.stripTrailing());
        run(family, command, restoreText);
    }

    private String run(IpFamily family, List<String> command, String stdin) {
        String shown = String.join(" ", command);
        log.debug("running {}", shown);
        List<String> full = new ArrayList<>(prefix);
        full.addAll(command);
        Process p;
        try {
            p = new ProcessBuilder(full).start();
        } catch (IOException e) {
            throw new IptablesEnvironmentException(command.get(0) + " not found on PATH: install the iptables package"
                    + " (Debian: apt-get install iptables) or choose the other backend", e);
        }
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // The process exited early (it will report why on stderr); keep going to read it.
            log.debug("{} closed its input early: {}", shown, e.toString());
        }
        String out = drain(p.getInputStream());
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IptablesCommandException(shown, -1, "timed out after " + TIMEOUT_SECONDS + "s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IptablesCommandException(shown, -1, "interrupted");
        }
        String errText = err.join();
        if (p.exitValue() != 0) {
            log.debug("{} exited {}: {}", shown, p.exitValue(), errText.strip());
            throw classify(variant, family, shown, p.exitValue(), errText + out);
        }
        if (!errText.isBlank()) {
            log.debug("{} said: {}", shown, errText.strip());
        }
        return out;
    }

    /** Turns a failed run into the exception a user can act on; package-private for tests. */
    static RuntimeException classify(Variant variant, IpFamily family, String command, int exit, String output) {
        String binary = command.split(" ")[0];
        if (output.contains("exec of") && output.contains("No such file or directory")) {
            // The binary was started through a prefix (ip netns exec), which reports it missing this way.
            return new IptablesEnvironmentException(binary + " not found on PATH: install the iptables package"
                    + " (Debian: apt-get install iptables) or choose the other backend");
        }
        if (output.contains("Permission denied") || output.contains("Operation not permitted")) {
            return new IptablesEnvironmentException(binary + ": permission denied; iptables needs root or CAP_NET_ADMIN"
                    + " in this network namespace (run as root, or grant CAP_NET_ADMIN)");
        }
        if (output.contains("Table does not exist") || output.contains("can't initialize")
                || output.contains("unable to initialize table")
                || output.contains("does not exist (do you need to insmod?)")) {
            String module = variant == Variant.LEGACY ? (family == IpFamily.IPV4 ? "iptable_nat" : "ip6table_nat") : "nft_chain_nat";
            return new IptablesEnvironmentException("the kernel has no " + family.label() + " nat table for " + binary
                    + ": load it with 'modprobe " + module + "' or use a kernel with NAT support");
        }
        return new IptablesCommandException(command, exit, output);
    }

    private static String drain(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
