package dev.sidecar.proxy.cli;

import dev.sidecar.iptables.Backend;
import dev.sidecar.iptables.Cidr;
import dev.sidecar.iptables.InboundMode;
import dev.sidecar.iptables.InputText;
import dev.sidecar.iptables.InvalidConfigException;
import dev.sidecar.iptables.PortRange;
import dev.sidecar.iptables.RedirectConfig;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The picocli converters of every option, one per kind of value, so each kind has one grammar
 * whichever option or environment variable it comes from. Each wraps a parser of the iptables
 * module where one exists and turns its complaint into a {@link TypeConversionException}; picocli
 * prefixes the option name, so the user sees the flag, the value and the reason on one line.
 *
 * <p>The grammar, as README's options table states it: spaces and tabs around a value or a list
 * entry are dropped, nothing else is; numbers are ASCII digits; an empty value is never a value
 * (leave the option out instead).
 */
final class Converters {
    private Converters() {}

    /** A single port, 1-65535: every port option uses this one. */
    static final class Port implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return wrap(() -> PortRange.checkPort(value));
        }
    }

    /** A whole port list, {@code 22,6000-6010}: no empty entry, no empty list. */
    static final class PortList implements ITypeConverter<List<PortRange>> {
        @Override
        public List<PortRange> convert(String value) {
            return list(value, PortRange::parse);
        }
    }

    /** A whole subnet list of IPv4 and IPv6 CIDRs or bare addresses: no empty entry, no empty list. */
    static final class SubnetList implements ITypeConverter<List<Cidr>> {
        @Override
        public List<Cidr> convert(String value) {
            return list(value, Cidr::parse);
        }
    }

    /** A uid or gid, 1 to 2147483647: 0 is root, whose traffic would bypass the proxy. */
    static final class Id implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            String s = InputText.trim(value);
            if (!s.matches("[0-9]{1,10}") || Long.parseLong(s) > RedirectConfig.MAX_ID) {
                throw new TypeConversionException("'" + value + "': not a numeric id (expected "
                        + RedirectConfig.MIN_ID + "-" + RedirectConfig.MAX_ID + ")");
            }
            int id = Integer.parseInt(s);
            if (id < RedirectConfig.MIN_ID) {
                throw new TypeConversionException("'" + value + "': is root, whose traffic would bypass the proxy (expected "
                        + RedirectConfig.MIN_ID + "-" + RedirectConfig.MAX_ID + ")");
            }
            return id;
        }
    }

    /**
     * {@code true} or {@code false}, any case. Strict: a typo such as {@code ture}, or an empty
     * {@code SIDECAR_NO_IPTABLES=}, must not silently mean false.
     */
    static final class Bool implements ITypeConverter<Boolean> {
        @Override
        public Boolean convert(String value) {
            return switch (InputText.word(value)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new TypeConversionException("'" + value + "' is not true or false");
            };
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
            return new AddressList(list(value, Addresses::one, "to use the namespace's own addresses"));
        }

        private static InetAddress one(String raw) {
            String entry = InputText.trim(raw);
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

    /** {@code redirect} or {@code tproxy}. */
    static final class InboundModeName implements ITypeConverter<InboundMode> {
        @Override
        public InboundMode convert(String value) {
            return wrap(() -> InboundMode.parse(value));
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

    private static <T> List<T> list(String value, Function<String, T> one) {
        return list(value, one, "for none");
    }

    /** @param leftOut what leaving the option out means, for the empty-list message */
    private static <T> List<T> list(String value, Function<String, T> one, String leftOut) {
        if (InputText.trim(value).isEmpty()) {
            throw new TypeConversionException("'" + value + "': empty list; leave the option out " + leftOut);
        }
        List<T> out = new ArrayList<>();
        for (String entry : value.split(",", -1)) {
            if (InputText.trim(entry).isEmpty()) {
                throw new TypeConversionException("'" + value + "': empty entry in the list");
            }
            out.add(wrap(() -> one.apply(entry)));
        }
        return List.copyOf(out);
    }

    private static <T> T wrap(Parse<T> parse) {
        try {
            return parse.get();
        } catch (InvalidConfigException e) {
            throw new TypeConversionException("'" + e.value() + "': " + e.reason());
        }
    }
}
