package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.Backend;
import dev.sidecar.iptables.RedirectInstaller;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * The {@code sidecar} command: lists the subcommands and builds the configured
 * {@link CommandLine}. Subcommands reach shared services (the installer factory) through it, and
 * inherit its logging options; before any subcommand runs, the command line is checked once more
 * and logging is set up, so no subcommand can forget either.
 */
@Command(name = "sidecar", mixinStandardHelpOptions = true, versionProvider = SidecarCommand.ManifestVersion.class,
        description = "A transparent Linkerd-style sidecar proxy: iptables NAT redirect plus a TCP relay.")
public final class SidecarCommand {
    /** The subcommands, in the order the help lists them. */
    private static final List<Class<?>> SUBCOMMANDS = List.of(RunCommand.class, IptablesCommand.class);

    private final Function<Backend, RedirectInstaller> installers;

    @Mixin LoggingOptions logging;

    public SidecarCommand(Function<Backend, RedirectInstaller> installers) {
        this.installers = installers;
    }

    /** The command line of the real program, with every subcommand: installers drive the real iptables binaries. */
    public static CommandLine commandLine() {
        return commandLine(RedirectInstaller::create);
    }

    /** The command line of the real program, to execute {@code args} (see {@link #commandLine(Function, String...)}). */
    public static CommandLine commandLine(String... args) {
        return commandLine(RedirectInstaller::create, args);
    }

    /**
     * A command line whose installers come from {@code installers} (tests pass a recording backend),
     * to execute {@code args}. picocli builds each command's model by reflection, which costs a
     * cold JVM about 130 ms for the whole tree, a quarter of a sidecar's start-up, some 30 ms of it
     * for {@code iptables}' four subcommands: when {@code args} start with a subcommand's name, only
     * that subcommand is built. Anything else (no arguments, an option first, a misspelt name) gets
     * them all, so help and suggestions are whole.
     */
    public static CommandLine commandLine(Function<Backend, RedirectInstaller> installers, String... args) {
        SidecarCommand sidecar = new SidecarCommand(installers);
        CommandLine cl = new CommandLine(sidecar);
        List<Class<?>> built = SUBCOMMANDS;
        for (Class<?> subcommand : SUBCOMMANDS) {
            if (args.length > 0 && nameOf(subcommand).equals(args[0])) {
                built = List.of(subcommand);
            }
        }
        for (Class<?> subcommand : built) {
            cl.addSubcommand(subcommand);
        }
        // An argument is its own value: "@file" must not make picocli read arguments from a file.
        cl.setExpandAtFiles(false);
        cl.setExecutionStrategy(parsed -> {
            rejectValuedNegations(parsed);
            sidecar.logging.apply();
            return new CommandLine.RunLast().execute(parsed);
        });
        return Failures.install(cl);
    }

    private static String nameOf(Class<?> subcommand) {
        return subcommand.getAnnotation(Command.class).name();
    }

    /**
     * picocli lets a negated boolean take a value and then ignores the negation ({@code --no-ipv6=true}
     * turns IPv6 on), a trap no operator would expect: the negated form takes no value.
     */
    private static void rejectValuedNegations(ParseResult parsed) {
        ParseResult leaf = parsed;
        while (leaf.hasSubcommand()) {
            leaf = leaf.subcommand();
        }
        CommandSpec spec = leaf.commandSpec();
        List<String> args = parsed.originalArgs();
        for (OptionSpec option : spec.options()) {
            if (!option.negatable()) {
                continue;
            }
            String negated = spec.commandLine().getNegatableOptionTransformer().makeNegative(option.longestName(), spec);
            for (int i = 0; i < args.size(); i++) {
                String value = null;
                if (args.get(i).startsWith(negated + "=")) {
                    value = args.get(i).substring(negated.length() + 1);
                } else if (args.get(i).equals(negated) && i + 1 < args.size() && isBooleanWord(args.get(i + 1))) {
                    value = args.get(i + 1);
                }
                if (value != null) {
                    throw new ParameterException(spec.commandLine(), "Invalid value for option '" + negated + "': '" + value
                            + "': the negated form takes no value; use " + option.longestName() + "=true|false", option, value);
                }
            }
        }
    }

    private static boolean isBooleanWord(String arg) {
        String s = dev.sidecar.iptables.InputText.trim(arg).toLowerCase(Locale.ROOT);
        return s.equals("true") || s.equals("false");
    }

    /** Makes the installer for a resolved backend choice. */
    RedirectInstaller installer(Backend backend) {
        return installers.apply(backend);
    }

    /** The version from the jar manifest ({@code Implementation-Version}), or "dev" when run from classes. */
    public static final class ManifestVersion implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"sidecar " + version()};
        }

        /** The bare version, e.g. {@code 0.1.0-SNAPSHOT}. */
        public String version() {
            String v = SidecarCommand.class.getPackage().getImplementationVersion();
            return v == null ? "dev" : v;
        }
    }
}
