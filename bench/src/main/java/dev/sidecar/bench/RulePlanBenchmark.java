package dev.sidecar.bench;

import dev.sidecar.iptables.Cidr;
import dev.sidecar.iptables.IpFamily;
import dev.sidecar.iptables.PlanJson;
import dev.sidecar.iptables.PortRange;
import dev.sidecar.iptables.RedirectConfig;
import dev.sidecar.iptables.RedirectPlan;
import dev.sidecar.iptables.RuleRenderer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What deciding and spelling the redirect rules costs, with no iptables process involved: building
 * the {@link RedirectPlan} from a validated configuration and rendering the iptables-restore text of
 * every family, and the JSON view. Run for Linkerd's defaults and for a pod with many exclusions
 * (more rules, multiport groups, subnets of both families), so a regression in either path shows.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class RulePlanBenchmark {

    /** Which configuration to plan: {@code defaults} or {@code many-exclusions}. */
    @Param({"defaults", "many-exclusions"})
    public String config;

    private RedirectConfig redirect;
    private RedirectPlan plan;

    @Setup
    public void setUp() {
        redirect = switch (config) {
            case "defaults" -> RedirectConfig.builder().ipv6(true).build();
            case "many-exclusions" -> RedirectConfig.builder()
                    .ipv6(true)
                    .proxyGid(2102)
                    // 40 ports and ranges: three multiport groups per direction.
                    .skipInboundPorts(PortRange.parseList("22,25,443,587,3306,4190,4191,5432,6379,8080-8090,"
                            + "9000,9090,9091,9100-9110,10250,11211,15000-15100,20000,20001,20002,20003,20004,"
                            + "20005,20006,20007,20008,20009,25000-25010,30000-32767,40000,40001,40002,40003,"
                            + "40004,40005,50051,60000"))
                    .skipOutboundPorts(PortRange.parseList("25,443,587,3306,5432,6379,9092,11211,27017,50051"))
                    .skipInboundSubnets(Cidr.parseList("198.18.0.0/16,198.19.0.0/24,2001:db8::/48"))
                    .skipOutboundSubnets(Cidr.parseList("198.18.128.0/17,2001:db8:1::/64,2001:db8:2::/64"))
                    .build();
            default -> throw new IllegalArgumentException("unknown config '" + config + "' (defaults, many-exclusions)");
        };
        plan = RedirectPlan.of(redirect);
    }

    /** The whole pure part of an install: plan, then the restore text of each family. */
    @Benchmark
    public void planAndRenderInstall(Blackhole bh) {
        RedirectPlan p = RedirectPlan.of(redirect);
        for (IpFamily family : p.families()) {
            bh.consume(RuleRenderer.install(p, family));
        }
    }

    /** Rendering alone, from a plan built once. */
    @Benchmark
    public void renderInstall(Blackhole bh) {
        for (IpFamily family : plan.families()) {
            bh.consume(RuleRenderer.install(plan, family));
        }
    }

    /** The JSON view ({@code sidecar iptables show --json}) of a plan built once. */
    @Benchmark
    public String renderJson() {
        return PlanJson.render(plan);
    }
}
