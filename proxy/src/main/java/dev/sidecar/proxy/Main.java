package dev.sidecar.proxy;

/** Entry point of the {@code sidecar} command. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.out.println("sidecar: not yet");
    }
}
