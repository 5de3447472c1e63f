package dev.sidecar.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import java.util.stream.Collectors;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Property: whatever string reaches an option of {@code run}, {@code iptables install} or
 * {@code iptables show}, typed as a flag or set as its environment variable, the CLI either
 * accepts it because it is one of the documented forms (the {@link Kind} models below are the
 * README's grammar), or exits 2 with exactly one line on stderr that names the option (and the
 * variable) and the value, and installs nothing.
 *
 * <p>{@link Cli#environment} stands in for the environment (picocli's own {@code ${env:...}}
 * lookup is proven with real variables by AdminOptionsTest and SidecarCliIT); {@code run} stops
 * where it would start the sidecar ({@link Cli#stoppingRunBeforeStart()}).
 */
class OptionGrammarTest {

    /** Every kind of value, with the documented grammar applied to the value without surrounding spaces and tabs. */
    enum Kind {
        PORT, ID, COUNT, DURATION, KEEPALIVE, USER_TIMEOUT, INTERVAL, BOOL, PORT_LIST, SUBNET_LIST, ADDRESS_LIST, TRANSPORT, PROXY_PROTOCOL_VERSION, BACKEND, INBOUND_MODE, LOG_LEVEL, LOG_FORMAT, OUTPUT;

        private static final Pattern DURATION_FORM = Pattern.compile("([0-9]{1,9})(ms|s|m)?", Pattern.CASE_INSENSITIVE);
        private static final Pattern IPV4 = Pattern.compile("([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})(/([0-9]{1,3}))?");
        private static final Pattern IPV6ISH = Pattern.compile("[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(/[0-9]{1,3})?");

        /** TRUE: documented form; FALSE: not; null: an IPv6 literal the model does not decide. */
        Boolean accepts(String value) {
            String v = trim(value);
            return switch (this) {
                case PORT -> isPort(v);
                case ID -> v.matches("[0-9]{1,10}") && Long.parseLong(v) >= 1 && Long.parseLong(v) <= Integer.MAX_VALUE;
                case COUNT -> v.matches("[0-9]{1,9}") && Long.parseLong(v) >= 1;
                case DURATION -> isDuration(v);
                case KEEPALIVE -> isDuration(v) && wholeSecondsUpTo(v, 32767);
                case USER_TIMEOUT -> oneOf(v, "off", "0") || isDuration(v) && millis(v) <= Integer.MAX_VALUE;
                case INTERVAL -> oneOf(v, "off", "0") || isDuration(v);
                case BOOL -> oneOf(v, "true", "false");
                case PORT_LIST -> !v.isEmpty() && Arrays.stream(value.split(",", -1)).allMatch(e -> isPortRange(trim(e)));
                case SUBNET_LIST -> subnets(value);
                case ADDRESS_LIST -> addresses(value);
                case TRANSPORT -> oneOf(v, "auto", "io_uring", "epoll");
                case PROXY_PROTOCOL_VERSION -> oneOf(v, "1", "2");
                case BACKEND -> oneOf(v, "auto", "nft", "legacy");
                case INBOUND_MODE -> oneOf(v, "redirect", "tproxy");
                case LOG_LEVEL -> oneOf(v, "error", "warn", "info", "debug", "trace");
                case LOG_FORMAT -> oneOf(v, "plain", "json");
                case OUTPUT -> oneOf(v, "text", "json");
            };
        }

        private static boolean isPort(String v) {
            return v.matches("[0-9]{1,5}") && Integer.parseInt(v) >= 1 && Integer.parseInt(v) <= 65535;
        }

        private static boolean isPortRange(String v) {
            int dash = v.indexOf('-', 1);
            if (dash < 0) {
                return isPort(v);
            }
            String low = trim(v.substring(0, dash));
            String high = trim(v.substring(dash + 1));
            return isPort(low) && isPort(high) && Integer.parseInt(low) <= Integer.parseInt(high);
        }

        private static long millis(String v) {
            Matcher m = DURATION_FORM.matcher(v);
            m.matches();
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(Locale.ROOT);
            return switch (unit) {
                case "ms" -> n;
                case "m" -> n * 60_000;
                default -> n * 1000;
            };
        }

        private static boolean wholeSecondsUpTo(String v, long maxSeconds) {
            long ms = millis(v);
            return ms % 1000 == 0 && ms / 1000 <= maxSeconds;
        }

        private static boolean isDuration(String v) {
            Matcher m = DURATION_FORM.matcher(v);
            return m.matches() && Long.parseLong(m.group(1)) > 0;
        }

        /** IPv4 or IPv6 CIDRs or bare addresses. */
        private static Boolean subnets(String value) {
            return ipList(value, m -> m.group(6) == null
                    || Integer.parseInt(m.group(6)) >= 1 && Integer.parseInt(m.group(6)) <= 32, true);
        }

        /** Addresses an inbound connection can be made to: no prefix, no 0.0.0.0, 127/8 or 224/4. */
        private static Boolean addresses(String value) {
            return ipList(value, m -> {
                int first = Integer.parseInt(m.group(1));
                boolean any = m.group(0).matches("0+\\.0+\\.0+\\.0+");
                return m.group(5) == null && !any && first != 127 && !(first >= 224 && first <= 239);
            }, false);
        }

        /**
         * A non-empty list whose IPv4 entries have octets up to 255 and pass {@code ipv4}; IPv6
         * entries (with a prefix only if {@code prefixes}) are left undecided (null) as far as
         * syntax goes: that is InetAddress's, the model only bounds their alphabet.
         */
        private static Boolean ipList(String value, Predicate<Matcher> ipv4, boolean prefixes) {
            if (trim(value).isEmpty()) {
                return false;
            }
            boolean undecided = false;
            for (String entry : value.split(",", -1)) {
                String e = trim(entry);
                Matcher m = IPV4.matcher(e);
                if (m.matches()) {
                    for (int i = 1; i <= 4; i++) {
                        if (Integer.parseInt(m.group(i)) > 255) {
                            return false;
                        }
                    }
                    if (!ipv4.test(m)) {
                        return false;
                    }
                } else if (IPV6ISH.matcher(e).matches() && (prefixes || !e.contains("/"))) {
                    undecided = true;
                } else {
                    return false;
                }
            }
            return undecided ? null : true;
        }

        private static boolean oneOf(String v, String... words) {
            return Arrays.asList(words).contains(v.toLowerCase(Locale.ROOT));
        }
    }

    record Opt(String name, String env, Kind kind, Set<String> commands) {
        Opt(String name, String env, Kind kind, String... commands) {
            this(name, env, kind, Set.of(commands));
        }
    }

    private static final String RUN = "run";
    private static final String INSTALL = "iptables install";
    private static final String SHOW = "iptables show";

    /** Every option of the three commands, with its variable and kind (help goldens list the same). */
    static final List<Opt> OPTIONS = List.of(
            new Opt("--inbound-port", Env.INBOUND_PORT, Kind.PORT, RUN, INSTALL, SHOW),
            new Opt("--outbound-port", Env.OUTBOUND_PORT, Kind.PORT, RUN, INSTALL, SHOW),
            new Opt("--proxy-uid", Env.PROXY_UID, Kind.ID, RUN, INSTALL, SHOW),
            new Opt("--proxy-gid", Env.PROXY_GID, Kind.ID, RUN, INSTALL, SHOW),
            new Opt("--skip-inbound-ports", Env.SKIP_INBOUND_PORTS, Kind.PORT_LIST, RUN, INSTALL, SHOW),
            new Opt("--skip-outbound-ports", Env.SKIP_OUTBOUND_PORTS, Kind.PORT_LIST, RUN, INSTALL, SHOW),
            new Opt("--redirect-inbound-ports", Env.REDIRECT_INBOUND_PORTS, Kind.PORT_LIST, RUN, INSTALL, SHOW),
            new Opt("--skip-inbound-subnets", Env.SKIP_INBOUND_SUBNETS, Kind.SUBNET_LIST, RUN, INSTALL, SHOW),
            new Opt("--skip-outbound-subnets", Env.SKIP_OUTBOUND_SUBNETS, Kind.SUBNET_LIST, RUN, INSTALL, SHOW),
            new Opt("--ipv6", Env.IPV6, Kind.BOOL, RUN, INSTALL, SHOW),
            new Opt("--backend", Env.BACKEND, Kind.BACKEND, RUN, INSTALL, SHOW),
            new Opt("--inbound-mode", Env.INBOUND_MODE, Kind.INBOUND_MODE, RUN, INSTALL, SHOW),
            new Opt("--log-level", Env.LOG_LEVEL, Kind.LOG_LEVEL, RUN, INSTALL, SHOW),
            new Opt("--log-format", Env.LOG_FORMAT, Kind.LOG_FORMAT, RUN, INSTALL, SHOW),
            new Opt("--no-iptables", Env.NO_IPTABLES, Kind.BOOL, RUN),
            new Opt("--connect-timeout", Env.CONNECT_TIMEOUT, Kind.DURATION, RUN),
            new Opt("--inbound-connect-timeout", Env.INBOUND_CONNECT_TIMEOUT, Kind.DURATION, RUN),
            new Opt("--outbound-connect-timeout", Env.OUTBOUND_CONNECT_TIMEOUT, Kind.DURATION, RUN),
            new Opt("--shutdown-grace", Env.SHUTDOWN_GRACE, Kind.DURATION, RUN),
            new Opt("--admin-port", Env.ADMIN_PORT, Kind.PORT, RUN),
            new Opt("--shutdown-endpoint", Env.SHUTDOWN_ENDPOINT, Kind.BOOL, RUN),
            new Opt("--inbound-ips", Env.INBOUND_IPS, Kind.ADDRESS_LIST, RUN),
            new Opt("--max-connections", Env.MAX_CONNECTIONS, Kind.COUNT, RUN),
            new Opt("--keepalive", Env.KEEPALIVE, Kind.KEEPALIVE, RUN),
            new Opt("--user-timeout", Env.USER_TIMEOUT, Kind.USER_TIMEOUT, RUN),
            new Opt("--transport", Env.TRANSPORT, Kind.TRANSPORT, RUN),
            new Opt("--inbound-proxy-protocol-ports", Env.INBOUND_PROXY_PROTOCOL_PORTS, Kind.PORT_LIST, RUN),
            new Opt("--proxy-protocol-version", Env.PROXY_PROTOCOL_VERSION, Kind.PROXY_PROTOCOL_VERSION, RUN),
            new Opt("--rules-check-interval", Env.RULES_CHECK_INTERVAL, Kind.INTERVAL, RUN),
            new Opt("--rules-repair", Env.RULES_REPAIR, Kind.BOOL, RUN),
            new Opt("--output", null, Kind.OUTPUT, SHOW));

    enum Origin { ATTACHED, SEPARATE, ENVIRONMENT }

    record Case(String command, Opt option, Origin origin, String value) {}

    @Property(tries = 300)
    void everyValueIsADocumentedFormOrOneLineNamingOptionAndValueWithExitTwoAndNothingInstalled(@ForAll("cases") Case c) {
        Cli cli = c.command.equals(RUN) ? Cli.stoppingRunBeforeStart() : new Cli();
        if (c.origin == Origin.ENVIRONMENT) {
            cli.environment.put(c.option.env, c.value);
        }
        int exit = cli.run(args(c));
        Boolean documented = documented(c);

        if (exit == ExitCode.USAGE.code()) {
            assertThat(documented).as("refused a documented form: %s (%s)", c, cli.err).isNotEqualTo(Boolean.TRUE);
            assertThat(cli.errLines()).as("%s", c).hasSize(1);
            String line = cli.errLines().get(0);
            assertThat(line).as("%s", c).startsWith("sidecar: ").satisfiesAnyOf(
                    l -> assertThat(l).contains("'" + c.option.name + "'"),
                    l -> assertThat(c.option.kind == Kind.PORT && line.matches(".*'--(inbound|outbound|admin)-port'.*")).isTrue());
            // The whole value, or the entry of a list at fault, as typed or without its surrounding blanks.
            List<String> named = new ArrayList<>(List.of(c.value));
            named.addAll(Arrays.asList(c.value.split(",", -1)));
            assertThat(named.stream().flatMap(v -> java.util.stream.Stream.of(v, trim(v))).map(Failures::printable)
                    .anyMatch(v -> line.contains("'" + v + "'"))).as("names the value: %s", line).isTrue();
            if (c.origin == Origin.ENVIRONMENT) {
                assertThat(line).endsWith("(from environment variable " + c.option.env + ")");
            }
            assertThat(cli.installersMade).as("%s", c).isZero();
            assertThat(cli.backend.calls()).as("%s", c).isEmpty();
            assertThat(cli.routes.calls()).as("%s", c).isEmpty();
        } else {
            assertThat(documented).as("accepted an undocumented form: %s (exit %d, %s)", c, exit, cli.err).isNotEqualTo(Boolean.FALSE);
            switch (c.command) {
                case RUN -> {
                    assertThat(exit).as("%s: %s", c, cli.err).isEqualTo(ExitCode.SOFTWARE.code());
                    assertThat(cli.firstErrLine()).contains(Cli.RunWouldStart.class.getName());
                }
                case INSTALL -> {
                    assertThat(exit).as("%s: %s", c, cli.err).isZero();
                    assertThat(cli.backend.calls()).contains("restore v4");
                }
                default -> {
                    assertThat(exit).as("%s: %s", c, cli.err).isZero();
                    assertThat(cli.out()).isNotEmpty();
                    assertThat(cli.installersMade).isZero();
                }
            }
        }
    }

    @Example
    void theModelCoversEveryOptionOfTheThreeCommands() {
        CommandLine sidecar = SidecarCommand.commandLine();
        for (String command : List.of(RUN, INSTALL, SHOW)) {
            CommandLine cl = sidecar;
            for (String word : command.split(" ")) {
                cl = cl.getSubcommands().get(word);
            }
            Set<String> declared = cl.getCommandSpec().options().stream().map(OptionSpec::longestName)
                    .filter(n -> !n.equals("--help") && !n.equals("--version")).collect(Collectors.toSet());
            Set<String> modelled = OPTIONS.stream().filter(o -> o.commands.contains(command)).map(Opt::name).collect(Collectors.toSet());
            assertThat(modelled).as("a new option of '%s' needs its grammar in OPTIONS", command).isEqualTo(declared);
        }
    }

    @AfterContainer
    static void restoreLogging() {
        LogSetup.apply(LogLevel.INFO, LogFormat.PLAIN);
    }

    /** The model's verdict, including the ports the other port options hold by default. */
    private static Boolean documented(Case c) {
        Boolean form = c.option.kind.accepts(c.value);
        if (!Boolean.TRUE.equals(form) || c.option.kind != Kind.PORT) {
            return form;
        }
        int port = Integer.parseInt(trim(c.value));
        boolean run = c.command.equals(RUN);
        boolean conflicts = switch (c.option.name) {
            case "--inbound-port" -> port == 4140 || run && port == 4191;
            case "--outbound-port" -> port == 4143 || run && port == 4191;
            default -> port == 4143 || port == 4140; // --admin-port
        };
        return !conflicts;
    }

    private static String[] args(Case c) {
        List<String> args = new ArrayList<>(Arrays.asList(c.command.split(" ")));
        // Fixed companions: IPv6 on, so IPv6 subnets are valid; quiet logs; the run harness needs the installer.
        if (!c.option.name.equals("--ipv6")) {
            args.add("--ipv6");
        }
        if (!c.option.name.equals("--log-level")) {
            args.add("--log-level=error");
        }
        switch (c.origin) {
            case ATTACHED -> args.add(c.option.name + "=" + c.value);
            case SEPARATE -> {
                args.add(c.option.name);
                args.add(c.value);
            }
            case ENVIRONMENT -> { }
        }
        return args.toArray(String[]::new);
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Opt> option = Arbitraries.of(OPTIONS);
        return option.flatMap(o -> Combinators.combine(
                Arbitraries.of(o.commands.stream().sorted().toList()),
                origins(o),
                values(o.kind)).as((command, origin, value) -> new Case(command, o, origin, value)))
                .filter(OptionGrammarTest::harnessCanRun);
    }

    /** Booleans take their value attached only ({@code --ipv6 x} leaves x a stray argument); --output has no variable. */
    private static Arbitrary<Origin> origins(Opt o) {
        List<Origin> origins = new ArrayList<>(List.of(Origin.ATTACHED));
        if (o.kind != Kind.BOOL) {
            origins.add(Origin.SEPARATE);
        }
        if (o.env != null) {
            origins.add(Origin.ENVIRONMENT);
        }
        return Arbitraries.of(origins);
    }

    private static boolean harnessCanRun(Case c) {
        // A value that looks like an option is picocli's to refuse as a separate word, not a value.
        if (c.origin == Origin.SEPARATE && c.value.startsWith("-")) {
            return false;
        }
        // run with --no-iptables true would really start; the harness stops only where the installer is made.
        return !(c.option.name.equals("--no-iptables") && trim(c.value).equalsIgnoreCase("true"));
    }

    private static Arbitrary<String> values(Kind kind) {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, adversarial()),
                net.jqwik.api.Tuple.of(3, nearlyValid(kind)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of("", " ", ",", ", ,", "\t", "0", "-1", "+1", "１", "٣", "0x50",
                        "99999999999999999999", "2147483648", "1e3", "true", "false", "TRUE", "yes", "on", "1", "null")));
    }

    /** Random strings over digits of several scripts, white space of several kinds, signs, separators and controls. */
    private static Arbitrary<String> adversarial() {
        return Arbitraries.strings().withChars("0123456789０８٠٣ \t\n\r\u00a0\u2003-+,.:/msSMtruefalsjonxyzıſ\u212a\u0000\u0001\u001b\u007f\u2028")
                .ofMinLength(0).ofMaxLength(14);
    }

    /** Documented forms of the kind, sometimes spoiled by one adversarial character or padded with blanks. */
    private static Arbitrary<String> nearlyValid(Kind kind) {
        Arbitrary<String> valid = switch (kind) {
            case PORT -> Arbitraries.integers().between(0, 70000).map(String::valueOf);
            case ID -> Arbitraries.longs().between(0, 3_000_000_000L).map(String::valueOf);
            case KEEPALIVE, USER_TIMEOUT, INTERVAL -> Combinators.combine(Arbitraries.integers().between(0, 40000),
                    Arbitraries.of("", "ms", "s", "m", "MS")).as((n, unit) -> n + unit)
                    .flatMap(d -> Arbitraries.of(d, "off", "OFF", "0", "never"));
            case COUNT -> Arbitraries.longs().between(0, 2_000_000_000L).map(String::valueOf);
            case DURATION -> Combinators.combine(Arbitraries.integers().between(0, 5000), Arbitraries.of("", "ms", "s", "m", "MS", "h"))
                    .as((n, unit) -> n + unit);
            case BOOL -> Arbitraries.of("true", "false", "True", "FALSE", "tRUE", "falſe", "trUe");
            case PORT_LIST -> Arbitraries.integers().between(0, 70000).map(String::valueOf)
                    .list().ofMinSize(1).ofMaxSize(4).map(l -> String.join(",", l))
                    .flatMap(s -> Arbitraries.of(s, s.replace(",", ", "), s + ",", s.replaceFirst(",", "-"), "," + s));
            case SUBNET_LIST -> Arbitraries.of("10.0.0.0/8", "198.18.0.7", "256.0.0.1", "10.0.0.0/33", "10.0.0.0/0",
                    "2001:db8::/32", "2001:db8::/129", "::ffff:10.0.0.1", "fe80::1%lo", "1.2.3.4/").list().ofMinSize(1).ofMaxSize(3)
                    .map(l -> String.join(",", l));
            case ADDRESS_LIST -> Arbitraries.of("198.18.0.7", "10.0.0.0/8", "127.0.0.1", "0.0.0.0", "224.0.0.1", "256.0.0.1",
                    "2001:db8::7", "::1", "::", "ff02::1", "2001:db8::/32").list().ofMinSize(1).ofMaxSize(3)
                    .map(l -> String.join(",", l));
            case TRANSPORT -> Arbitraries.of("auto", "io_uring", "EPOLL", "io-uring", "iouring", "nio");
            case PROXY_PROTOCOL_VERSION -> Arbitraries.of("1", "2", "3", "0", "01", "v2", "\uff12", "1.0");
            case BACKEND -> Arbitraries.of("auto", "nft", "LEGACY", "iptables");
            case INBOUND_MODE -> Arbitraries.of("redirect", "TPROXY", "tproxy", "nat", "transparent");
            case LOG_LEVEL -> Arbitraries.of("error", "WARN", "info", "debug", "trace", "verbose");
            case LOG_FORMAT -> Arbitraries.of("plain", "JSON", "xml", "jſon", "plaın");
            case OUTPUT -> Arbitraries.of("text", "Json", "yaml");
        };
        Arbitrary<String> pad = Arbitraries.of("", " ", "\t", " \t", "\u00a0", "\n", "\u0000");
        return Combinators.combine(pad, valid, pad).as((a, v, b) -> a + v + b);
    }

    private static String trim(String s) {
        return s.replaceAll("^[ \\t]+|[ \\t]+$", "");
    }
}
