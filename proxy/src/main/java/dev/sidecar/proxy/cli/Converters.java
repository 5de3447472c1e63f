package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.Backend;
import dev.sidecar.iptables.Cidr;
import dev.sidecar.iptables.InvalidConfigException;
import dev.sidecar.iptables.PortRange;
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
