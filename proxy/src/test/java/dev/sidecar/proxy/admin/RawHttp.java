package dev.sidecar.proxy.admin;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A deliberately dumb HTTP client for tests: writes exact bytes, reads until the server closes, so
 * tests control malformed input and can see exactly what came back.
 */
final class RawHttp {

    /** One parsed response. Header names are lower-cased. */
    record Response(int status, Map<String, String> headers, String body) {}

    private RawHttp() {}

    /** {@code METHOD path} with {@code Connection: close}; returns the single response. */
    static Response request(InetSocketAddress server, String method, String path) throws IOException {
        String raw = method + " " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
        return parse(exchange(server, raw.getBytes(StandardCharsets.US_ASCII)));
    }

    /** Sends {@code bytes} as is and returns everything received until the server closes. */
    static String exchange(InetSocketAddress server, byte[] bytes) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(server, 5_000);
            socket.setSoTimeout(10_000);
            try {
                socket.getOutputStream().write(bytes);
                socket.getOutputStream().flush();
            } catch (SocketException e) {
                // The server may answer and close before a large request is fully written; still read.
            }
            return readAll(socket.getInputStream());
        }
    }

    static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            for (int n; (n = in.read(buf)) != -1; ) {
                received.write(buf, 0, n);
            }
        } catch (SocketException e) {
            // A reset after the response (unread request bytes) ends the stream too.
        }
        return received.toString(StandardCharsets.UTF_8);
    }

    static Response parse(String raw) {
        int headEnd = raw.indexOf("\r\n\r\n");
        if (headEnd < 0) {
            throw new AssertionError("no complete HTTP response in: " + raw);
        }
        String[] lines = raw.substring(0, headEnd).split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        Map<String, String> headers = new TreeMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        return new Response(Integer.parseInt(statusLine[1]), headers, raw.substring(headEnd + 4));
    }
}
