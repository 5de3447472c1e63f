package dev.sidecar.proxy;

import dev.sidecar.proxy.cli.SidecarCommand;
import java.util.Map;

/** Entry point of the {@code sidecar} command: parse, run, exit with the command's code. */
public final class Main {
    private Main() {}

    /**
     * Netty defaults the sidecar changes, set before any Netty class is initialised; a {@code -D}
     * of the same name still wins.
     */
    private static final Map<String, String> NETTY_DEFAULTS = Map.of(
            // One buffer allocator in the process, the relay's pooled one (RelaySettings). Netty
            // 4.2's default is another (adaptive), which its helpers and any channel not given ours
            // would use: a second set of arenas.
            "io.netty.allocator.type", "pooled",
            // Netty's Flight Recorder events (a chunk allocated or freed) load about 90 classes of
            // JFR's at the first allocation, in a process nobody records. -Dio.netty.jfr.enabled=true
            // brings them back for a profile.
            "io.netty.jfr.enabled", "false");

    public static void main(String[] args) {
        NETTY_DEFAULTS.forEach((name, value) -> {
            if (System.getProperty(name) == null) {
                System.setProperty(name, value);
            }
        });
        System.exit(SidecarCommand.commandLine(args).execute(args));
    }
}
