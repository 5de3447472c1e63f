package dev.sidecar.iptables;

import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks legacy or nft for {@link Backend#AUTO} without writing anything: the variant that already
 * holds rules in this namespace wins, because two variants filling the same hooks make rules that
 * no single tool shows; with rules in neither (or both equally), nft, the modern default. Reads
 * with {@link IptablesBackend#saveAll}, which never instantiates a table.
 */
public final class BackendDetector {
    private static final Logger log = LoggerFactory.getLogger(BackendDetector.class);

    private final Function<Variant, IptablesBackend> backends;

    public BackendDetector(Function<Variant, IptablesBackend> backends) {
        this.backends = backends;
    }

    /** The choice and why. */
    public record Detection(Variant variant, String reason) {}

    /** Resolves a requested backend; only {@link Backend#AUTO} looks at the system. */
    public Detection resolve(Backend requested, List<IpFamily> families) {
        Detection d = switch (requested) {
            case NFT -> new Detection(Variant.NFT, "requested explicitly");
            case LEGACY -> new Detection(Variant.LEGACY, "requested explicitly");
            case AUTO -> detect(families);
        };
        log.info("iptables backend: {} ({})", d.variant(), d.reason());
        return d;
    }

    /** Counts the rules each variant holds for the given families and decides. */
    public Detection detect(List<IpFamily> families) {
        Count nft = count(Variant.NFT, families);
        Count legacy = count(Variant.LEGACY, families);
        if (!nft.available && !legacy.available) {
            // Missing privileges is the more useful thing to report than a missing second variant.
            throw legacy.error != null && legacy.error.getMessage().contains("permission denied") ? legacy.error : nft.error;
        }
        if (!nft.available) {
            return new Detection(Variant.LEGACY, "iptables-nft is unusable (" + nft.problem + "); legacy holds " + legacy.rules + " rules");
        }
        if (!legacy.available) {
            return new Detection(Variant.NFT, "iptables-legacy is unusable (" + legacy.problem + "); nft holds " + nft.rules + " rules");
        }
        if (legacy.rules > nft.rules) {
            return new Detection(Variant.LEGACY, "legacy already holds " + legacy.rules + " rules in this namespace, nft " + nft.rules);
        }
        if (nft.rules > 0) {
            return new Detection(Variant.NFT, "nft already holds " + nft.rules + " rules in this namespace, legacy " + legacy.rules);
        }
        return new Detection(Variant.NFT, "no rules in either variant; nft is the default");
    }

    private Count count(Variant variant, List<IpFamily> families) {
        IptablesBackend backend = backends.apply(variant);
        int rules = 0;
        for (IpFamily family : families) {
            try {
                rules += countRules(backend.saveAll(family));
            } catch (IptablesEnvironmentException | IptablesCommandException e) {
                // A variant we cannot run cannot be the one holding the rules; say why if both fail.
                return new Count(false, 0, e.getMessage(), e);
            }
        }
        return new Count(true, rules, "", null);
    }

    /** Rule lines ({@code -A ...}) in a save dump. */
    static int countRules(String saveText) {
        int n = 0;
        for (String line : saveText.split("\n")) {
            if (line.startsWith("-A ") || line.matches("^\\[\\d+:\\d+] -A .*")) {
                n++;
            }
        }
        return n;
    }

    private record Count(boolean available, int rules, String problem, RuntimeException error) {}
}
