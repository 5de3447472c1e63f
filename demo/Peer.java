import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * The demo's application and its peers, in one single-file program ({@code java Peer.java ...}).
 *
 * <pre>
 *   serve PORT [PORT...]        accept forever; read until FIN, answer "SHA256-HEX BYTES\n", close
 *   send HOST PORT BYTES        send BYTES random bytes, half-close, check the answer;
 *                               prints "local=IP:PORT bytes=N sha256=ok|MISMATCH"
 * </pre>
 * Exit code 0 when the server saw exactly the bytes that were sent.
 */
public final class Peer {
    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("serve")) {
            for (int i = 1; i < args.length; i++) {
                int port = Integer.parseInt(args[i]);
                Thread t = new Thread(() -> serve(port), "serve-" + port);
                t.start();
            }
        } else if (args.length == 4 && args[0].equals("send")) {
            System.exit(send(args[1], Integer.parseInt(args[2]), Long.parseLong(args[3])) ? 0 : 1);
        } else {
            System.err.println("usage: Peer serve PORT... | Peer send HOST PORT BYTES");
            System.exit(2);
        }
    }

    private static void serve(int port) {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(port), 128);
            while (true) {
                Socket s = server.accept();
                new Thread(() -> answer(s)).start();
            }
        } catch (IOException e) {
            System.err.println("serve " + port + ": " + e.getMessage());
            System.exit(1);
        }
    }

    private static void answer(Socket s) {
        try (s) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            InputStream in = s.getInputStream();
            byte[] buf = new byte[64 * 1024];
            long total = 0;
            for (int n; (n = in.read(buf)) > 0; total += n) {
                sha.update(buf, 0, n);
            }
            String reply = HexFormat.of().formatHex(sha.digest()) + " " + total + "\n";
            s.getOutputStream().write(reply.getBytes(StandardCharsets.US_ASCII));
        } catch (Exception e) {
            System.err.println("answer: " + e.getMessage());
        }
    }

    private static boolean send(String host, int port, long bytes) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 3000);
            s.setSoTimeout(10_000);
            String local = s.getLocalAddress().getHostAddress() + ":" + s.getLocalPort();
            OutputStream out = s.getOutputStream();
            SplittableRandom random = new SplittableRandom(bytes);
            byte[] buf = new byte[64 * 1024];
            for (long left = bytes; left > 0; ) {
                int n = (int) Math.min(buf.length, left);
                for (int i = 0; i < n; i++) {
                    buf[i] = (byte) random.nextInt();
                }
                sha.update(buf, 0, n);
                out.write(buf, 0, n);
                left -= n;
            }
            s.shutdownOutput();
            String reply = new String(new DataInputStream(s.getInputStream()).readAllBytes(), StandardCharsets.US_ASCII).trim();
            String expected = HexFormat.of().formatHex(sha.digest()) + " " + bytes;
            boolean ok = reply.equals(expected);
            System.out.println("local=" + local + " bytes=" + bytes + " sha256=" + (ok ? "ok" : "MISMATCH(" + reply + ")"));
            return ok;
        }
    }
}
