package dev.sidecar.proxy.cli;

import java.lang.reflect.Field;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * The environment variable of every option, named once. An option declares its variable with the
 * constant, in its default and its description:
 * <pre>{@code
 * @Option(names = "--inbound-port", defaultValue = "${env:" + Env.INBOUND_PORT + ":-4143}",
 *         description = "... (env " + Env.INBOUND_PORT + "). Default: ${DEFAULT-VALUE}.")
 * }</pre>
 * and {@link #of(OptionSpec)} reads the name back from that declaration, so an error message can
 * say which variable a bad value came from without a second table to keep in step.
 */
final class Env {
    static final String INBOUND_PORT = "SIDECAR_INBOUND_PORT";
    static final String OUTBOUND_PORT = "SIDECAR_OUTBOUND_PORT";
    static final String PROXY_UID = "SIDECAR_PROXY_UID";
    static final String PROXY_GID = "SIDECAR_PROXY_GID";
    static final String SKIP_INBOUND_PORTS = "SIDECAR_SKIP_INBOUND_PORTS";
    static final String SKIP_OUTBOUND_PORTS = "SIDECAR_SKIP_OUTBOUND_PORTS";
    static final String REDIRECT_INBOUND_PORTS = "SIDECAR_REDIRECT_INBOUND_PORTS";
    static final String SKIP_INBOUND_SUBNETS = "SIDECAR_SKIP_INBOUND_SUBNETS";
    static final String SKIP_OUTBOUND_SUBNETS = "SIDECAR_SKIP_OUTBOUND_SUBNETS";
    static final String IPV6 = "SIDECAR_IPV6";
    static final String BACKEND = "SIDECAR_BACKEND";
    static final String INBOUND_MODE = "SIDECAR_INBOUND_MODE";

    static final String NO_IPTABLES = "SIDECAR_NO_IPTABLES";
    static final String CONNECT_TIMEOUT = "SIDECAR_CONNECT_TIMEOUT";
    static final String INBOUND_CONNECT_TIMEOUT = "SIDECAR_INBOUND_CONNECT_TIMEOUT";
    static final String OUTBOUND_CONNECT_TIMEOUT = "SIDECAR_OUTBOUND_CONNECT_TIMEOUT";
    static final String SHUTDOWN_GRACE = "SIDECAR_SHUTDOWN_GRACE";
    static final String INBOUND_IPS = "SIDECAR_INBOUND_IPS";
    static final String MAX_CONNECTIONS = "SIDECAR_MAX_CONNECTIONS";
    static final String KEEPALIVE = "SIDECAR_KEEPALIVE";
    static final String USER_TIMEOUT = "SIDECAR_USER_TIMEOUT";
    static final String TRANSPORT = "SIDECAR_TRANSPORT";
    static final String INBOUND_PROXY_PROTOCOL_PORTS = "SIDECAR_INBOUND_PROXY_PROTOCOL_PORTS";
    static final String PROXY_PROTOCOL_VERSION = "SIDECAR_PROXY_PROTOCOL_VERSION";
    static final String RULES_CHECK_INTERVAL = "SIDECAR_RULES_CHECK_INTERVAL";
    static final String RULES_REPAIR = "SIDECAR_RULES_REPAIR";

    static final String ADMIN_PORT = "SIDECAR_ADMIN_PORT";
    static final String SHUTDOWN_ENDPOINT = "SIDECAR_SHUTDOWN_ENDPOINT";

    static final String LOG_LEVEL = "SIDECAR_LOG_LEVEL";
    static final String LOG_FORMAT = "SIDECAR_LOG_FORMAT";

    private static final Pattern REFERENCE = Pattern.compile("\\$\\{env:([A-Z0-9_]+)");

    private Env() {}

    /** The variable {@code option}'s declared default reads, if it reads one. */
    static Optional<String> of(OptionSpec option) {
        // picocli hands out the default already resolved; the declaration still holds the reference.
        if (!(option.userObject() instanceof Field field) || field.getAnnotation(Option.class) == null) {
            return Optional.empty();
        }
        Matcher m = REFERENCE.matcher(field.getAnnotation(Option.class).defaultValue());
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }
}
