import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * The demo's application and its peers, in one single-file program ({@code java Peer.java ...}).
 *
 * <pre>
 *   serve PORT[/pp] [...]       accept forever; read until FIN, answer "SHA256-HEX BYTES CLIENT\n", close;
 *                               CLIENT is who the app saw: its socket's peer, or on a /pp port the
 *                               source of the PROXY protocol v2 header that must come first
 *   send HOST PORT BYTES        send BYTES random bytes, half-close, check the answer;
 *                               prints "local=IP:PORT bytes=N sha256=ok|MISMATCH seen=CLIENT"
 * </pre>
 * Exit code 0 when the server saw exactly the bytes that were sent.
 */
public final class Peer {
    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("serve")) {
            for (int i = 1; i < args.length; i++) {
                boolean proxyProtocol = args[i].endsWith("/pp");
                int port = Integer.parseInt(args[i].replace("/pp", ""));
                Thread t = new Thread(() -> serve(port, proxyProtocol), "serve-" + port);
                t.start();
            }
        } else if (args.length == 4 && args[0].equals("send")) {
            System.exit(send(args[1], Integer.parseInt(args[2]), Long.parseLong(args[3])) ? 0 : 1);
        } else {
            System.err.println("usage: Peer serve PORT... | Peer send HOST PORT BYTES");
            System.exit(2);
        }
    }

    private static void serve(int port, boolean proxyProtocol) {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(port), 128);
            while (true) {
                Socket s = server.accept();
                new Thread(() -> answer(s, proxyProtocol)).start();
            }
        } catch (IOException e) {
            System.err.println("serve " + port + ": " + e.getMessage());
            System.exit(1);
        }
    }

    private static void answer(Socket s, boolean proxyProtocol) {
        try (s) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            InputStream in = s.getInputStream();
            InetSocketAddress peer = (InetSocketAddress) s.getRemoteSocketAddress();
            String seen = (proxyProtocol ? proxyV2Source(new DataInputStream(in)) : peer).toString().replaceFirst("^[^/]*/", "");
            byte[] buf = new byte[64 * 1024];
            long total = 0;
            for (int n; (n = in.read(buf)) > 0; total += n) {
                sha.update(buf, 0, n);
            }
            String reply = HexFormat.of().formatHex(sha.digest()) + " " + total + " " + seen + "\n";
            s.getOutputStream().write(reply.getBytes(StandardCharsets.US_ASCII));
        } catch (Exception e) {
            System.err.println("answer: " + e.getMessage());
        }
    }

    private static final byte[] V2_SIGNATURE = {13, 10, 13, 10, 0, 13, 10, 81, 85, 73, 84, 10};

    /** Reads a PROXY protocol v2 header (PROXY command, TCP over IPv4 or IPv6) and returns its source. */
    private static InetSocketAddress proxyV2Source(DataInputStream in) throws IOException {
        byte[] head = new byte[16];
        in.readFully(head);
        if (!Arrays.equals(Arrays.copyOf(head, 12), V2_SIGNATURE) || head[12] != 0x21) {
            throw new IOException("no PROXY protocol v2 header");
        }
        byte[] body = new byte[((head[14] & 0xff) << 8) | (head[15] & 0xff)];
        in.readFully(body);
        int addressBytes = switch (head[13]) {
            case 0x11 -> 4; // TCP over IPv4
            case 0x21 -> 16; // TCP over IPv6
            default -> throw new IOException("unexpected PROXY protocol family " + head[13]);
        };
        InetAddress source = InetAddress.getByAddress(Arrays.copyOf(body, addressBytes));
        int port = ((body[2 * addressBytes] & 0xff) << 8) | (body[2 * addressBytes + 1] & 0xff);
        return new InetSocketAddress(source, port);
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
            String expected = HexFormat.of().formatHex(sha.digest()) + " " + bytes + " ";
            boolean ok = reply.startsWith(expected);
            String seen = ok ? reply.substring(expected.length()) : "?";
            System.out.println("local=" + local + " bytes=" + bytes + " sha256=" + (ok ? "ok" : "MISMATCH(" + reply + ")")
                    + " seen=" + seen);
            return ok;
        }
    }
}
