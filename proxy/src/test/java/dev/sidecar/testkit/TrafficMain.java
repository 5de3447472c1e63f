package dev.sidecar.testkit;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A tiny traffic program that namespace tests run as a separate process (any uid, any namespace).
 * It depends on the JDK only, so a test can copy its class file where every uid can read it.
 *
 * <pre>
 * serve PORT                          accept forever; per connection read a 24-byte header (size,
 *                                     seed, stall ms), send size bytes from seed while reading the
 *                                     rest to EOF (after stalling), then print:
 *                                     seed=S received=N sha=HEX from=ADDR
 * connect HOST PORT SEND SEED_SEND RECV SEED_RECV [MIB_PER_S [STALL_MS]]
 *                                     ask for RECV bytes from SEED_RECV (and a server that reads
 *                                     nothing for STALL_MS), send SEND bytes from SEED_SEND (at
 *                                     most MIB_PER_S), read to EOF, then print:
 *                                     local=ADDR received=N sha=HEX sentsha=HEX ms=T
 *                                     or when either direction failed: local=ADDR error=MESSAGE
 *                                     ms=T (exit 1), ADDR being ?:PORT (the bound source port)
 *                                     when the connection failed before it was established
 * </pre>
 * reset HOST PORT SEED             send a header asking for nothing and 1000 bytes, wait, then
 *                                     abort with a reset (SO_LINGER 0); prints local=ADDR
 * many HOST PORT N BYTES               open N connections at once, then on each send BYTES and ask
 *                                     for BYTES (seeds from the connection's index), and check
 *                                     every answer; prints ok=N bad=M
 * hold HOST PORT N                    open N connections at once, each from source port
 *                                     -Dtraffic.localPort + its index, ask on each for 1 byte, and
 *                                     wait up to 5 s for every answer; prints
 *                                     relayed=A reset=B closed=C hung=D ms=T (T: from the first
 *                                     connect to the last answer), then closes them all
 * record PORT                        accept forever; per connection read to EOF, then print
 *                                     recorded from=ADDR hex=HEX (every byte that arrived) and close
 * send HOST PORT TEXT [REPEAT]        send TEXT (REPEAT times) at once on connect, then FIN, read to
 *                                     EOF, then print local=ADDR received=N ms=T
 *                                     or on failure: local=ADDR error=MESSAGE ms=T (exit 1), ADDR
 *                                     being ?:PORT as for connect
 * A negative stall asks the server to read that many bytes and then reset the connection; the
 * server then prints seed=S reset; a server whose connection failed prints seed=S error=MESSAGE.
 * The bytes for a seed are {@link Payload}'s, so {@link Payload#expected} gives their SHA-256.
 */
public final class TrafficMain {
    private TrafficMain() {}

    public static void main(String[] args) throws Exception {
        if (args[0].equals("serve")) {
            serve(Integer.parseInt(args[1]));
        } else if (args[0].equals("record")) {
            record(Integer.parseInt(args[1]));
        } else if (args[0].equals("send")) {
            System.exit(send(args[1], Integer.parseInt(args[2]), args[3], args.length > 4 ? Integer.parseInt(args[4]) : 1));
        } else if (args[0].equals("many")) {
            System.exit(many(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]), Long.parseLong(args[4])));
        } else if (args[0].equals("hold")) {
            hold(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
        } else if (args[0].equals("reset")) {
            resetAfterSending(args[1], Integer.parseInt(args[2]), Long.parseLong(args[3]));
        } else {
            double rate = args.length > 7 ? Double.parseDouble(args[7]) : 0;
            long stall = args.length > 8 ? Long.parseLong(args[8]) : 0;
            System.exit(connect(args[1], Integer.parseInt(args[2]), Long.parseLong(args[3]), Long.parseLong(args[4]),
                    Long.parseLong(args[5]), Long.parseLong(args[6]), rate, stall));
        }
    }

    private static void serve(int port) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getByName("::"), port), 4096); // a burst of thousands waits here
            System.out.println("listening " + port);
            System.out.flush();
            while (true) {
                Socket s = server.accept();
                new Thread(() -> serveOne(s)).start();
            }
        }
    }

    private static void record(int port) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getByName("::"), port));
            println("listening " + port);
            while (true) {
                Socket s = server.accept();
                new Thread(() -> {
                    try (s) {
                        byte[] got = s.getInputStream().readAllBytes();
                        println("recorded from=" + s.getRemoteSocketAddress() + " hex=" + java.util.HexFormat.of().formatHex(got));
                    } catch (IOException e) {
                        println("recorded from=" + s.getRemoteSocketAddress() + " error=" + e.getMessage());
                    }
                }).start();
            }
        }
    }

    private static int send(String host, int port, String text, int repeat) {
        long start = System.nanoTime();
        String local = unconnected();
        try (Socket s = open(host, port)) {
            local = String.valueOf(s.getLocalSocketAddress());
            s.setSoTimeout(30_000);
            s.getOutputStream().write(text.repeat(repeat).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.shutdownOutput();
            long received = s.getInputStream().readAllBytes().length;
            println("local=" + local + " received=" + received + " ms=" + ms(start));
            return 0;
        } catch (Exception e) {
            println("local=" + local + " error=" + e.getMessage() + " ms=" + ms(start));
            return 1;
        }
    }

    private static void serveOne(Socket s) {
        long seed = -1;
        try (s) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            long size = in.readLong();
            seed = in.readLong();
            long stall = in.readLong();
            if (stall < 0) {
                in.readNBytes((int) -stall);
                s.setSoLinger(true, 0);
                println("seed=" + seed + " reset");
                return;
            }
            Thread sender = sendInBackground(s, size, seed, 0);
            sleep(stall);
            Payload.Received got = Payload.receive(in);
            sender.join();
            println("seed=" + seed + " received=" + got.bytes() + " sha=" + got.sha256() + " from=" + s.getRemoteSocketAddress());
        } catch (Exception e) {
            println("seed=" + seed + " error=" + e.getMessage());
        }
    }

    private static int many(String host, int port, int n, long bytes) throws Exception {
        java.util.List<Socket> sockets = new java.util.ArrayList<>();
        int ok = 0;
        try {
            for (int i = 0; i < n; i++) { // all open before any carries data
                Socket s = new Socket(host, port);
                s.setSoTimeout(30_000);
                sockets.add(s);
            }
            for (int i = 0; i < n; i++) {
                Socket s = sockets.get(i);
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                out.writeLong(bytes);
                out.writeLong(100_000 + i);
                out.writeLong(0);
                Payload.send(out, 200_000 + i, bytes);
                s.shutdownOutput();
            }
            for (int i = 0; i < n; i++) {
                Payload.Received got = Payload.receive(sockets.get(i).getInputStream());
                if (got.equals(new Payload.Received(Payload.expected(100_000 + i, bytes), bytes))) {
                    ok++;
                }
            }
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
        println("ok=" + ok + " bad=" + (n - ok) + " local=" + host);
        return ok == n ? 0 : 1;
    }

    /**
     * Every connection open at once, as a crowd of clients would be, then how each was answered:
     * the byte it asked for (relayed), a reset, a plain end of stream, or nothing within 5 s (hung).
     */
    private static void hold(String host, int port, int n) throws Exception {
        int firstPort = Integer.getInteger("traffic.localPort");
        java.util.List<Socket> sockets = new java.util.ArrayList<>();
        int relayed = 0, reset = 0, closed = 0, hung = 0;
        long start = System.nanoTime(), lastAnswer = start;
        try {
            boolean[] failed = new boolean[n];
            for (int i = 0; i < n; i++) {
                Socket s = new Socket();
                sockets.add(s);
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(firstPort + i));
                try {
                    s.connect(new InetSocketAddress(host, port), 5_000);
                } catch (java.net.SocketTimeoutException e) {
                    throw e; // not even the handshake: nothing this mode can tell
                } catch (IOException e) {
                    failed[i] = true; // reset during the handshake
                }
            }
            for (int i = 0; i < n; i++) {
                if (failed[i]) {
                    continue;
                }
                try {
                    DataOutputStream out = new DataOutputStream(sockets.get(i).getOutputStream());
                    out.writeLong(1);
                    out.writeLong(300_000 + i);
                    out.writeLong(0);
                    out.flush();
                } catch (IOException e) { // reset before we could ask
                    failed[i] = true;
                }
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            for (int i = 0; i < n; i++) {
                Socket s = sockets.get(i);
                if (failed[i]) {
                    reset++; // the write met the reset; a read would only see end of stream now
                    continue;
                }
                try {
                    s.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                    int b = s.getInputStream().read();
                    if (b >= 0) {
                        relayed++;
                    } else {
                        closed++;
                    }
                    lastAnswer = System.nanoTime();
                } catch (java.net.SocketTimeoutException e) {
                    hung++;
                } catch (IOException e) {
                    reset++;
                    lastAnswer = System.nanoTime();
                }
            }
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
        println("relayed=" + relayed + " reset=" + reset + " closed=" + closed + " hung=" + hung + " ms="
                + (lastAnswer - start) / 1_000_000);
    }

    /**
     * A connected client socket, from the source port {@code -Dtraffic.localPort} names when it is
     * set (see {@link Traffic}), else from an ephemeral one.
     */
    private static Socket open(String host, int port) throws IOException {
        Socket s = new Socket();
        int localPort = Integer.getInteger("traffic.localPort", 0);
        if (localPort != 0) {
            s.bind(new InetSocketAddress(localPort));
        }
        s.connect(new InetSocketAddress(host, port));
        return s;
    }

    /**
     * What {@code local=} says of a connection that failed before it was established: a peer that
     * resets at once can fail connect() itself (the RST lands before the connecting thread wakes),
     * and then only the bound source port names it.
     */
    private static String unconnected() {
        return "?:" + Integer.getInteger("traffic.localPort", 0);
    }

    private static void resetAfterSending(String host, int port, long seed) throws Exception {
        try (Socket s = open(host, port)) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeLong(0);
            out.writeLong(seed);
            out.writeLong(0);
            out.write(new byte[1000]);
            out.flush();
            Thread.sleep(300); // the server is connected and reading
            s.setSoLinger(true, 0);
            println("local=" + s.getLocalSocketAddress());
        }
    }

    private static int connect(String host, int port, long send, long seedSend, long recv, long seedRecv, double rate,
            long stall) {
        long start = System.nanoTime();
        String local = unconnected();
        try (Socket s = open(host, port)) {
            local = String.valueOf(s.getLocalSocketAddress());
            s.setSoTimeout(60_000);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeLong(recv);
            out.writeLong(seedRecv);
            out.writeLong(stall);
            String[] sentSha = new String[1];
            IOException[] sendFailure = new IOException[1];
            Thread sender = new Thread(() -> {
                try {
                    sentSha[0] = Payload.send(s.getOutputStream(), seedSend, send, rate);
                    s.shutdownOutput();
                } catch (IOException e) {
                    sendFailure[0] = e;
                }
            });
            sender.start();
            Payload.Received got = Payload.receive(s.getInputStream());
            sender.join();
            // Of the reader and the writer, whichever calls the kernel next takes a reset (the
            // socket error is reported once); the other then sees end of stream or a clean return.
            if (sendFailure[0] != null) {
                throw sendFailure[0];
            }
            println("local=" + local + " received=" + got.bytes() + " sha=" + got.sha256() + " sentsha=" + sentSha[0] + " ms=" + ms(start));
            return 0;
        } catch (Exception e) {
            println("local=" + local + " error=" + e.getMessage() + " ms=" + ms(start));
            return 1;
        }
    }

    private static Thread sendInBackground(Socket s, long size, long seed, double rate) {
        Thread t = new Thread(() -> {
            try {
                Payload.send(s.getOutputStream(), seed, size, rate);
                s.shutdownOutput();
            } catch (IOException ignored) {
                // the receiver reports what arrived
            }
        });
        t.start();
        return t;
    }

    private static synchronized void println(String line) {
        System.out.println(line);
        System.out.flush();
    }

    private static long ms(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}
