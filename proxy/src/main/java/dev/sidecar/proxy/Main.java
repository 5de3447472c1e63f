package dev.sidecar.proxy;

import dev.sidecar.proxy.cli.SidecarCommand;

/** Entry point of the {@code sidecar} command: parse, run, exit with the command's code. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(SidecarCommand.commandLine().execute(args));
    }
}
