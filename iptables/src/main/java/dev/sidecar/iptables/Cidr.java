package dev.sidecar.iptables;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * An IPv4 or IPv6 network: address plus prefix length, host bits cleared. A bare address means a
 * single host ({@code /32} or {@code /128}). {@link #toString()} spells it exactly as
 * iptables-save prints it back (compressed lowercase IPv6), so rendered rules compare equal to
 * saved ones. Never resolves names: only literals are accepted.
 */
public record Cidr(IpFamily family, byte[] network, int prefix) {
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9a-fA-F:.]+");

    public Cidr {
        network = network.clone();
    }

    /** Parses {@code 10.0.0.0/8}, {@code 198.18.0.7}, {@code 2001:db8::/32}. */
    public static Cidr parse(String text) {
        String s = InputText.trim(text);
        int slash = s.indexOf('/');
        String addr = slash < 0 ? s : s.substring(0, slash);
        byte[] bytes = parseAddress(text, addr);
        IpFamily family = bytes.length == 4 ? IpFamily.IPV4 : IpFamily.IPV6;
        int prefix = family.bits();
        if (slash >= 0) {
            String p = s.substring(slash + 1);
            if (!p.matches("[0-9]{1,3}") || Integer.parseInt(p) > family.bits()) {
                throw InvalidConfigException.ofValue(text, "bad prefix length (expected 0-" + family.bits() + ")");
            }
            prefix = Integer.parseInt(p);
            if (prefix == 0) {
                // iptables drops a /0 match entirely; skipping every address is not a subnet rule.
                throw InvalidConfigException.ofValue(text, "a /0 prefix matches every address; list narrower subnets");
            }
        }
        return new Cidr(family, mask(bytes, prefix), prefix);
    }

    /** Parses a comma-separated list; blank means none. */
    public static List<Cidr> parseList(String text) {
        return CommaList.parse(text, Cidr::parse);
    }

    private static byte[] parseAddress(String original, String addr) {
        if (addr.indexOf(':') < 0) {
            var m = IPV4.matcher(addr);
            if (!m.matches()) {
                throw InvalidConfigException.ofValue(original, "not an IPv4 or IPv6 address or CIDR");
            }
            byte[] b = new byte[4];
            for (int i = 0; i < 4; i++) {
                int octet = Integer.parseInt(m.group(i + 1));
                if (octet > 255) {
                    throw InvalidConfigException.ofValue(original, "IPv4 octet " + octet + " is larger than 255");
                }
                b[i] = (byte) octet;
            }
            return b;
        }
        if (!IPV6_CHARS.matcher(addr).matches()) {
            throw InvalidConfigException.ofValue(original, "not an IPv4 or IPv6 address or CIDR");
        }
        try {
            // With a ':' and only hex digits, getByName parses an IPv6 literal and never does DNS.
            InetAddress a = InetAddress.getByName(addr);
            if (a instanceof Inet4Address) {
                throw InvalidConfigException.ofValue(original, "IPv4-mapped IPv6 addresses are not supported; write the IPv4 form");
            }
            return a.getAddress();
        } catch (UnknownHostException e) {
            throw InvalidConfigException.ofValue(original, "not a valid IPv6 address");
        }
    }

    private static byte[] mask(byte[] bytes, int prefix) {
        byte[] out = bytes.clone();
        for (int i = 0; i < out.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            out[i] = (byte) (out[i] & (0xff << (8 - keep)));
        }
        return out;
    }

    /** Whether {@code address} (raw bytes: 4 for IPv4, 16 for IPv6) lies in this subnet. */
    public boolean contains(byte[] address) {
        if (address.length != network.length) {
            return false;
        }
        for (int bit = 0; bit < prefix; bit++) {
            int mask = 0x80 >>> (bit % 8);
            if ((network[bit / 8] & mask) != (address[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public byte[] network() {
        return network.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefix == prefix && java.util.Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(network) * 31 + prefix;
    }

    /** {@code 10.0.0.0/8} or {@code 2001:db8::/32}, as iptables-save prints it. */
    @Override
    public String toString() {
        return (family == IpFamily.IPV4 ? ipv4(network) : ipv6(network)) + "/" + prefix;
    }

    private static String ipv4(byte[] b) {
        return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff);
    }

    /** RFC 5952 form, as glibc's inet_ntop writes it: the longest run of two or more zero groups becomes {@code ::}. */
    static String ipv6(byte[] b) {
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1, bestLen = 0;
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        if (bestLen < 2) {
            bestStart = -1;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(g[i]));
        }
        return sb.toString();
    }
}
