package dev.sidecar.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Socket;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Against a real listening socket on 127.0.0.1: what the kernel does with its accept queue. */
@Timeout(30)
class ListenQueueTest {

    @Test
    void everyQueuedConnectionIsResetAndTheListenerAcceptsAgain() throws Exception {
        Epoll.ensureAvailability(); // loads Netty's native library, for its unix Socket
        Socket listener = Socket.newSocketStream();
        List<java.net.Socket> clients = new ArrayList<>();
        try {
            // An explicit port, as the proxy's listeners have: the kernel keeps it across the
            // shutdown. (A socket bound to port 0 would come back on a new ephemeral port.)
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), freePort()));
            listener.listen(16);
            InetSocketAddress address = listener.localAddress();
            for (int i = 0; i < 3; i++) {
                clients.add(connect(address));
            }
            Thread.sleep(100); // the handshakes complete in the kernel; nobody accepts

            int queued = ListenQueue.resetAll(listener.intValue(), 16);

            assertThat(queued).isEqualTo(3);
            for (java.net.Socket c : clients) {
                assertThat(howItEnds(c.getInputStream())).isEqualTo("reset");
            }
            java.net.Socket later = connect(address);
            clients.add(later);
            byte[] remote = new byte[26];
            int fd = -1;
            for (int i = 0; i < 100 && (fd = listener.accept(remote)) < 0; i++) {
                Thread.sleep(10);
            }
            assertThat(fd).as("the listener accepts again").isNotNegative();
            new Socket(fd).close();
        } finally {
            for (java.net.Socket c : clients) {
                c.close();
            }
            listener.close();
        }
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static java.net.Socket connect(InetSocketAddress address) throws IOException {
        java.net.Socket s = new java.net.Socket(address.getAddress(), address.getPort());
        s.setSoTimeout(5_000);
        return s;
    }

    private static String howItEnds(InputStream in) throws IOException {
        try {
            return in.read() < 0 ? "eof" : "data";
        } catch (SocketException e) {
            return String.valueOf(e.getMessage()).toLowerCase().contains("reset") ? "reset" : e.getMessage();
        }
    }
}
