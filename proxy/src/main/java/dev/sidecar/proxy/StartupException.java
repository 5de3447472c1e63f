package dev.sidecar.proxy;

/**
 * The proxy could not start safely: no native transport (epoll or io_uring), a listener could not bind, or the
 * privilege drop failed or could not be proven. The message is one user-facing line naming what failed.
 */
public final class StartupException extends Exception {
    public StartupException(String message, Throwable cause) {
        super(message, cause);
    }
}
