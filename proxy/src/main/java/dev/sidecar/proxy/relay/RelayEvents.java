package dev.sidecar.proxy.relay;

/**
 * What the relay reports about each connection. Metrics and logs implement it; the relay handlers
 * only call it. Every method is called on an event loop, so implementations must be cheap and must
 * never block.
 */
public interface RelayEvents {

    /** Which listener accepted the connection. */
    enum Direction {
        INBOUND,
        OUTBOUND;

        /** Lower-case label value, e.g. for metrics. */
        public String label() {
            return this == INBOUND ? "inbound" : "outbound";
        }
    }

    /** Why a connection was refused or ended abnormally. */
    enum Failure {
        /** The original destination refused the upstream connect. */
        REFUSED,
        /** The upstream connect did not complete within the connect timeout. */
        TIMEOUT,
        /** No route to the original destination. */
        UNREACHABLE,
        /** Either side reset an established relay. */
        RESET,
        /**
         * A peer of an established relay stopped answering: keepalive probes or sent data went
         * unacknowledged past the limits of {@link DeadPeerDetection}.
         */
        DEAD_PEER,
        /** The original destination is one of the proxy's own listeners. */
        LOOP,
        /** The accepted connection was not redirected (no SO_ORIGINAL_DST). */
        NO_ORIGINAL_DST,
        /** An inbound connection's original destination is not one of the pod's own addresses. */
        NOT_LOCAL,
        /**
         * The upstream connect found no free local address and port (EADDRNOTAVAIL): the pod's
         * ephemeral ports to that destination are used up, the destination is not to blame.
         */
        NO_LOCAL_PORT,
        /**
         * The proxy was out of room: the connection came over {@code --max-connections}, or a
         * socket could not be made because the process ran out of file descriptors. Reset at once,
         * never relayed.
         */
        OVERLOAD;

        /** Lower-case label value, e.g. for metrics. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A connection was accepted and its original destination port is known (0 when unknown). */
    void opened(Direction direction, int targetPort);

    /** The upstream connect succeeded after {@code connectNanos}. */
    void connected(Direction direction, long connectNanos);

    /** The connection was refused or ended abnormally. */
    void failed(Direction direction, Failure reason);

    /**
     * {@code bytes} read from one side were passed on to the other: the client's when
     * {@code fromClient}, else the target's. Called once per buffer read while the relay runs, so
     * long-lived connections are counted as they go, not only when they end.
     */
    void relayed(Direction direction, boolean fromClient, int bytes);

    /** The relay ended; byte counts are the totals each side sent through the proxy. */
    void closed(Direction direction, int targetPort, long bytesFromClient, long bytesFromTarget, long durationNanos);

    /** Reports nothing. */
    RelayEvents NONE = new RelayEvents() {
        @Override public void opened(Direction d, int port) {}
        @Override public void connected(Direction d, long nanos) {}
        @Override public void failed(Direction d, Failure reason) {}
        @Override public void relayed(Direction d, boolean fromClient, int bytes) {}
        @Override public void closed(Direction d, int port, long in, long out, long nanos) {}
    };
}
