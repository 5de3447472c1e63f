package dev.sidecar.proxy.cli;

import dev.sidecar.proxy.admin.AdminSettings;
import picocli.CommandLine.Option;

/**
 * Options of the admin endpoint, shared by every command that runs the proxy
 * ({@code @Mixin AdminOptions admin;}). Each has an environment default, shown in {@code --help};
 * the command line wins.
 */
public final class AdminOptions {

    @Option(names = "--admin-port", paramLabel = "PORT", converter = Converters.Port.class,
            defaultValue = "${env:" + Env.ADMIN_PORT + ":-4191}",
            description = "Port of the admin endpoint (/live, /ready, /metrics) on all interfaces;"
                    + " env " + Env.ADMIN_PORT + ". Default: ${DEFAULT-VALUE}.")
    int adminPort = AdminSettings.DEFAULT_PORT;

    @Option(names = "--shutdown-endpoint", arity = "0..1", paramLabel = "BOOL",
            defaultValue = "${env:" + Env.SHUTDOWN_ENDPOINT + ":-false}", fallbackValue = "true",
            converter = Converters.Bool.class,
            description = "Enable POST /shutdown on the admin port (loopback peers only);"
                    + " env " + Env.SHUTDOWN_ENDPOINT + ". Default: ${DEFAULT-VALUE}.")
    boolean shutdownEndpoint;

    /** The admin endpoint on all interfaces, IPv6 too when {@code ipv6}. */
    public AdminSettings settings(boolean ipv6) {
        return AdminSettings.allInterfaces(adminPort, ipv6, shutdownEndpoint);
    }

    public int adminPort() {
        return adminPort;
    }

    public boolean shutdownEndpoint() {
        return shutdownEndpoint;
    }
}
