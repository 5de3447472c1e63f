package dev.sidecar.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * One persistent benchmark connection to a target, either straight to it ({@code direct}) or
 * through a {@link RelayUnderTest} started for it ({@code relay}). Closing it closes both.
 */
final class ClientPath implements AutoCloseable {
    private final RelayUnderTest relay;
    private final Socket socket;
    final InputStream in;
    final OutputStream out;

    private ClientPath(RelayUnderTest relay, InetSocketAddress to) throws IOException {
        this.relay = relay;
        this.socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(to, 5000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** @param path {@code direct}, {@code relay}, or {@code relay-uncounted} (the relay without metrics) */
    static ClientPath open(String path, InetSocketAddress target) throws IOException {
        return switch (path) {
            case "direct" -> new ClientPath(null, target);
            case "relay", "relay-uncounted" -> {
                RelayUnderTest relay = RelayUnderTest.start(target, path.equals("relay"));
                try {
                    yield new ClientPath(relay, relay.address());
                } catch (IOException e) {
                    relay.close();
                    throw e;
                }
            }
            default -> throw new IllegalArgumentException("unknown path '" + path + "' (direct, relay, relay-uncounted)");
        };
    }

    @Override
    public void close() throws IOException {
        try {
            socket.close();
        } finally {
            if (relay != null) {
                relay.close();
            }
        }
    }
}
