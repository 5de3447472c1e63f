package dev.sidecar.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A blocking TCP server on 127.0.0.1 that runs one {@link Behaviour} per accepted connection on its
 * own thread: the far end of a relay test (echo, sink, resetting peer...). Records what went wrong
 * on its side, and the peak number of connections open at once.
 */
public final class TestPeer implements AutoCloseable {

    /** What the peer does with one connection; throwing is recorded as a failure. */
    @FunctionalInterface
    public interface Behaviour {
        void serve(Socket socket) throws Exception;
    }

    private final ServerSocket server;
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();
    private final AtomicInteger accepted = new AtomicInteger();

    public TestPeer(Behaviour behaviour) throws IOException {
        this(behaviour, 512);
    }

    public TestPeer(Behaviour behaviour, int backlog) throws IOException {
        this(behaviour, backlog, 0);
    }

    /** As above, with accepted sockets' receive buffer fixed at {@code receiveBuffer} bytes (0: autotuned). */
    public TestPeer(Behaviour behaviour, int backlog, int receiveBuffer) throws IOException {
        server = new ServerSocket();
        if (receiveBuffer > 0) {
            server.setReceiveBufferSize(receiveBuffer); // before the bind, so accepted sockets inherit it
        }
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), backlog);
        Thread acceptor = new Thread(() -> acceptLoop(behaviour), "test-peer-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A peer that accepts nothing at all: connections pile up in the backlog. */
    public static ServerSocket silent(int backlog) throws IOException {
        return new ServerSocket(0, backlog, InetAddress.getLoopbackAddress());
    }

    private void acceptLoop(Behaviour behaviour) {
        while (!server.isClosed()) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException closed) {
                return;
            }
            sockets.add(s);
            accepted.incrementAndGet();
            peak.accumulateAndGet(open.incrementAndGet(), Math::max);
            Thread t = new Thread(() -> {
                try (s) {
                    behaviour.serve(s);
                } catch (Throwable e) {
                    failures.add(e);
                } finally {
                    open.decrementAndGet();
                }
            }, "test-peer-conn");
            t.setDaemon(true);
            t.start();
        }
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    public List<Throwable> failures() {
        return failures;
    }

    public int peakOpen() {
        return peak.get();
    }

    public int accepted() {
        return accepted.get();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
