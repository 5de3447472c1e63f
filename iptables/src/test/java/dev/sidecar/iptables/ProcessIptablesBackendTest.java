package dev.sidecar.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How failures of the real binaries read; the texts are what iptables 1.8.9 prints. */
class ProcessIptablesBackendTest {

    @Test
    void permissionDeniedSaysToRunAsRoot() {
        RuntimeException e = ProcessIptablesBackend.classify(Variant.NFT, IpFamily.IPV4, "iptables-nft-save -t nat", 4,
                "iptables-nft-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n");
        assertThat(e).isInstanceOf(IptablesEnvironmentException.class).hasMessage(
                "iptables-nft-save: permission denied; iptables needs root or CAP_NET_ADMIN in this network namespace (run as root, or grant CAP_NET_ADMIN)");
    }

    @Test
    void lockFilePermissionIsAlsoAPrivilegeProblem() {
        RuntimeException e = ProcessIptablesBackend.classify(Variant.LEGACY, IpFamily.IPV4, "iptables-legacy-restore -w --noflush", 4,
                "Fatal: can't open lock file /run/xtables.lock: Permission denied\n");
        assertThat(e).isInstanceOf(IptablesEnvironmentException.class).hasMessageContaining("needs root or CAP_NET_ADMIN");
    }

    @Test
    void missingNatTableSaysWhichModuleToLoad() {
        RuntimeException e = ProcessIptablesBackend.classify(Variant.LEGACY, IpFamily.IPV6, "ip6tables-legacy-save -t nat", 1,
                "ip6tables-save v1.8.9 (legacy): Cannot initialize: Table does not exist (do you need to insmod?)\n");
        assertThat(e).isInstanceOf(IptablesEnvironmentException.class).hasMessage(
                "the kernel has no IPv6 nat table for ip6tables-legacy-save: load it with 'modprobe ip6table_nat' or use a kernel with NAT support");
    }

    @Test
    void binaryMissingBehindIpNetnsExecSaysToInstallIptables() {
        RuntimeException e = ProcessIptablesBackend.classify(Variant.NFT, IpFamily.IPV4, "iptables-nft-save -t nat", 255,
                "exec of \"iptables-nft-save\" failed: No such file or directory\n");
        assertThat(e).isInstanceOf(IptablesEnvironmentException.class).hasMessageStartingWith("iptables-nft-save not found on PATH");
    }

    @Test
    void aRejectedRuleIsACommandFailureWithTheFirstLine() {
        RuntimeException e = ProcessIptablesBackend.classify(Variant.NFT, IpFamily.IPV4, "iptables-nft-restore -w --noflush", 2,
                "iptables-nft-restore v1.8.9 (nf_tables): Port `99999' not valid\nError occurred at line: 3\n");
        assertThat(e).isInstanceOf(IptablesCommandException.class)
                .hasMessage("iptables-nft-restore -w --noflush exited 2: iptables-nft-restore v1.8.9 (nf_tables): Port `99999' not valid (restore input line 3, logged above)");
    }
}
