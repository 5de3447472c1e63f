package dev.sidecar.iptables;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the real {@code ip} binary (iproute2, found on PATH) for tproxy mode's policy routing; the
 * only class that starts {@code ip}. Output and errors are read together: {@code ip} prints little.
 */
public final class ProcessIpRoutes implements IpRoutes {
    private static final Logger log = LoggerFactory.getLogger(ProcessIpRoutes.class);
    private static final long TIMEOUT_SECONDS = 30;

    private final List<String> prefix;

    /** Runs {@code ip} in this process's own network namespace. */
    public ProcessIpRoutes() {
        this(List.of());
    }

    /** Runs {@code ip} behind {@code prefix}, e.g. {@code ip netns exec <ns>} (tests). */
    public ProcessIpRoutes(List<String> prefix) {
        this.prefix = List.copyOf(prefix);
    }

    @Override
    public String ip(List<String> args) {
        List<String> full = new ArrayList<>(prefix);
        full.add("ip");
        full.addAll(args);
        String shown = "ip " + String.join(" ", args);
        log.debug("running {}", shown);
        Process p;
        try {
            p = new ProcessBuilder(full).redirectErrorStream(true).start();
            p.getOutputStream().close();
        } catch (IOException e) {
            throw new IptablesEnvironmentException("ip not found on PATH: install iproute2 (Debian: apt-get install iproute2)", e);
        }
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IptablesCommandException(shown, -1, "timed out after " + TIMEOUT_SECONDS + "s");
            }
            if (p.exitValue() != 0) {
                if (out.contains("Operation not permitted")) {
                    throw new IptablesEnvironmentException(shown + ": permission denied; policy routing needs root or"
                            + " CAP_NET_ADMIN in this network namespace");
                }
                throw new IptablesCommandException(shown, p.exitValue(), out);
            }
            return out;
        } catch (IOException e) {
            throw new IptablesCommandException(shown, -1, e.getMessage());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IptablesCommandException(shown, -1, "interrupted");
        }
    }
}
