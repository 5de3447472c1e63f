package dev.sidecar.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A tiny TCP server for traffic tests, run inside a namespace as its own process: it listens on
 * every port given and answers each connection with one line, {@code <name>:<port> orig=<ip>:<port>},
 * then closes. {@code orig} is the connection's original destination as the kernel's conntrack
 * table recorded it (the tuple SO_ORIGINAL_DST reads), or {@code unknown} when the kernel exposes no
 * {@code /proc/net/nf_conntrack}. Prints {@code ready} once every port is bound; exits after 120 s.
 *
 * <pre>{@code ip netns exec pod java -cp test-classes dev.sidecar.testkit.WhoAnswered pod 4140 4143}</pre>
 */
public final class WhoAnswered {
    private WhoAnswered() {}

    public static void main(String[] args) throws Exception {
        String name = args[0];
        List<ServerSocket> servers = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(Integer.parseInt(args[i])));
            servers.add(s);
        }
        for (ServerSocket s : servers) {
            Thread t = new Thread(() -> serve(name, s));
            t.setDaemon(true);
            t.start();
        }
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(120_000);
    }

    private static void serve(String name, ServerSocket server) {
        while (true) {
            try (Socket c = server.accept(); OutputStream out = c.getOutputStream()) {
                String orig = originalDestination(c);
                out.write((name + ":" + server.getLocalPort() + " orig=" + orig + "\n").getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                return;
            }
        }
    }

    /** Finds the conntrack entry whose reply tuple is this connection and returns its original destination. */
    static String originalDestination(Socket c) throws IOException {
        Path table = Path.of("/proc/net/nf_conntrack");
        if (!Files.exists(table)) {
            return "unknown";
        }
        InetAddress local = c.getLocalAddress();
        InetAddress peer = c.getInetAddress();
        for (String line : Files.readAllLines(table)) {
            List<String> src = values(line, "src="), dst = values(line, "dst="), sport = values(line, "sport="), dport = values(line, "dport=");
            if (src.size() < 2 || sport.size() < 2) {
                continue;
            }
            // The reply tuple runs from our socket back to the peer.
            if (same(src.get(1), local) && sport.get(1).equals(Integer.toString(c.getLocalPort()))
                    && same(dst.get(1), peer) && dport.get(1).equals(Integer.toString(c.getPort()))) {
                String ip = InetAddress.getByName(dst.get(0)).getHostAddress();
                return (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + dport.get(0);
            }
        }
        return "none";
    }

    private static boolean same(String text, InetAddress address) throws IOException {
        return InetAddress.getByName(text).equals(address);
    }

    private static List<String> values(String line, String key) {
        List<String> out = new ArrayList<>();
        for (String field : line.split("\\s+")) {
            if (field.startsWith(key)) {
                out.add(field.substring(key.length()));
            }
        }
        return out;
    }
}
