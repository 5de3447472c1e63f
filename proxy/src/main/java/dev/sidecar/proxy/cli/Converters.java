package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.Backend;
import dev.sidecar.iptables.Cidr;
import dev.sidecar.iptables.InvalidConfigException;
import dev.sidecar.iptables.PortRange;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * picocli converters for the redirect options. Each wraps a parser of the iptables module and turns
 * its complaint into a {@link TypeConversionException}; picocli prefixes the option name, so the
 * user sees the flag, the value and the reason on one line.
 */
final class Converters {
    private Converters() {}

    /** A single port, 1-65535. */
    static final class Port implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return wrap(() -> PortRange.checkPort(value));
        }
    }

    /** One entry of a port list: {@code 443} or {@code 6000-6010}. */
    static final class Ports implements ITypeConverter<PortRange> {
        @Override
        public PortRange convert(String value) {
            return wrap(() -> PortRange.parse(value));
        }
    }

    /** One entry of a subnet list: an IPv4 or IPv6 CIDR or bare address. */
    static final class Subnet implements ITypeConverter<Cidr> {
        @Override
        public Cidr convert(String value) {
            return wrap(() -> Cidr.parse(value));
        }
    }

    /** A uid or gid: 0 to 2147483647. */
    static final class Id implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            if (!value.strip().matches("[0-9]{1,10}") || Long.parseLong(value.strip()) > Integer.MAX_VALUE) {
                throw new TypeConversionException("'" + value + "': not a numeric id (expected 0-" + Integer.MAX_VALUE + ")");
            }
            return Integer.parseInt(value.strip());
        }
    }

    /** Addresses as {@code --inbound-ips} takes them: a value type, so picocli hands the converter the whole list. */
    record AddressList(List<InetAddress> addresses) {}

    /**
     * A comma-separated list of IPv4/IPv6 addresses (literals only, never a name to resolve), at
     * least one. Entries are trimmed. Each must be an address a connection can be made to from
     * outside the pod: no subnet, no unspecified, loopback or multicast address.
     */
    static final class Addresses implements ITypeConverter<AddressList> {
        @Override
        public AddressList convert(String value) {
            if (value.isBlank()) {
                throw new TypeConversionException("'" + value + "': empty list; leave the option out to use the namespace's own addresses");
            }
            List<InetAddress> out = new ArrayList<>();
            for (String entry : value.split(",", -1)) {
                out.add(one(value, entry.strip()));
            }
            return new AddressList(List.copyOf(out));
        }

        private static InetAddress one(String value, String entry) {
            if (entry.isEmpty()) {
                throw new TypeConversionException("'" + value + "': empty entry in the list");
            }
            if (entry.contains("/")) {
                throw new TypeConversionException("'" + entry + "': a single address, not a subnet");
            }
            InetAddress a;
            try {
                a = InetAddress.getByAddress(Cidr.parse(entry).network());
            } catch (InvalidConfigException e) {
                // The subnet parser's words; a subnet was already turned away above.
                throw new TypeConversionException("'" + e.value() + "': " + e.reason().replace(" or CIDR", ""));
            } catch (UnknownHostException impossible) {
                throw new IllegalStateException(impossible);
            }
            if (a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isMulticastAddress()) {
                throw new TypeConversionException("'" + entry + "': " + (a.isMulticastAddress() ? "a multicast" : a.isAnyLocalAddress()
                        ? "the unspecified" : "a loopback") + " address is never an inbound connection's destination");
            }
            return a;
        }
    }

    /** {@code auto}, {@code nft} or {@code legacy}. */
    static final class BackendName implements ITypeConverter<Backend> {
        @Override
        public Backend convert(String value) {
            return wrap(() -> Backend.parse(value));
        }
    }

    private interface Parse<T> {
        T get();
    }

    private static <T> T wrap(Parse<T> parse) {
        try {
            return parse.get();
        } catch (InvalidConfigException e) {
            throw new TypeConversionException("'" + e.value() + "': " + e.reason());
        }
    }
}
