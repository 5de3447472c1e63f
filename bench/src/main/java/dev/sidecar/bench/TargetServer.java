package dev.sidecar.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The far end of a benchmark connection: a blocking TCP server on 127.0.0.1 with one daemon thread
 * per connection, so the benchmarks measure the relay and not an event loop of their own.
 *
 * <ul>
 *   <li>{@link Kind#ECHO} sends back every byte it reads.
 *   <li>{@link Kind#BULK} reads a one-byte command: {@code 'u'} means "read {@code blockBytes}
 *       bytes, then answer one byte", {@code 'd'} means "send {@code blockBytes} bytes".
 * </ul>
 */
final class TargetServer implements AutoCloseable {

    /** What the server does with a connection. */
    enum Kind { ECHO, BULK }

    static final byte UPLOAD = 'u';
    static final byte DOWNLOAD = 'd';

    private final ServerSocket server;
    private final Kind kind;
    private final int blockBytes;
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();

    private TargetServer(Kind kind, int blockBytes) throws IOException {
        this.kind = kind;
        this.blockBytes = blockBytes;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "target-" + kind.name().toLowerCase() + "-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    static TargetServer start(Kind kind, int blockBytes) throws IOException {
        return new TargetServer(kind, blockBytes);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                s.setTcpNoDelay(true);
                accepted.add(s);
                Thread t = new Thread(() -> serve(s), "target-" + kind.name().toLowerCase());
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        byte[] buf = new byte[Math.max(blockBytes, 64 * 1024)];
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            if (kind == Kind.ECHO) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    out.write(buf, 0, n);
                }
                return;
            }
            for (int cmd; (cmd = in.read()) >= 0; ) {
                if (cmd == UPLOAD) {
                    Streams.skipFully(in, blockBytes, buf);
                    out.write(1);
                } else if (cmd == DOWNLOAD) {
                    out.write(buf, 0, blockBytes);
                } else {
                    throw new IOException("unknown command " + cmd);
                }
            }
        } catch (IOException ended) {
            // the benchmark closed its connection; nothing to report
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : accepted) {
            s.close();
        }
    }
}
