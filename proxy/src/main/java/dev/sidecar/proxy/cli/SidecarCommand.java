package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.Backend;
import dev.sidecar.iptables.RedirectInstaller;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/**
 * The {@code sidecar} command: lists the subcommands and builds the configured
 * {@link CommandLine}. Subcommands reach shared services (the installer factory) through it.
 */
@Command(name = "sidecar", mixinStandardHelpOptions = true, versionProvider = SidecarCommand.ManifestVersion.class,
        description = "A transparent Linkerd-style sidecar proxy: iptables NAT redirect plus a TCP relay.",
        subcommands = {RunCommand.class, IptablesCommand.class})
public final class SidecarCommand {
    private final Function<Backend, RedirectInstaller> installers;

    public SidecarCommand(Function<Backend, RedirectInstaller> installers) {
        this.installers = installers;
    }

    /** The command line of the real program: installers drive the real iptables binaries. */
    public static CommandLine commandLine() {
        return commandLine(RedirectInstaller::create);
    }

    /** A command line whose installers come from {@code installers} (tests pass a recording backend). */
    public static CommandLine commandLine(Function<Backend, RedirectInstaller> installers) {
        return Failures.install(new CommandLine(new SidecarCommand(installers)));
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
