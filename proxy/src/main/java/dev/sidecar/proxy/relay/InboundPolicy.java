package dev.sidecar.proxy.relay;

/**
 * How the inbound listener treats what it accepts (outbound connections are never changed by it):
 * which original destinations may be relayed, which ports get a PROXY protocol header, and whether
 * the listener is transparent (tproxy mode).
 *
 * @param destinations which original destinations inbound connections may be relayed to (the pod's own addresses)
 * @param proxyProtocol the header inbound connections to its ports start with
 * @param transparent tproxy mode: the inbound listeners and their upstream sockets are transparent,
 *     inbound targets are the accepted sockets' local addresses ({@link TargetResolver#LOCAL_ADDRESS})
 *     and the app is called from the client's address
 */
public record InboundPolicy(InboundDestinations destinations, ProxyProtocolHeader proxyProtocol, boolean transparent) {

    /** Relayed to {@code destinations}, unchanged and through the redirect. */
    public static InboundPolicy only(InboundDestinations destinations) {
        return new InboundPolicy(destinations, ProxyProtocolHeader.NONE, false);
    }
}
