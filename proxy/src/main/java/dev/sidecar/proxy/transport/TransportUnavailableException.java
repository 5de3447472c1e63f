package dev.sidecar.proxy.transport;

/** The transport the operator asked for cannot work on this kernel or under this seccomp profile. */
public final class TransportUnavailableException extends RuntimeException {
    TransportUnavailableException(Transport transport, String problem) {
        super("the " + transport.label() + " transport is unavailable here (--transport " + transport.label() + "): "
                + problem + (transport == Transport.IO_URING ? "; use --transport epoll or auto" : ""));
    }
}
