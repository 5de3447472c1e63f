package dev.sidecar.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GoldenTest {

    @Test
    void diffMarksRemovedAndAddedLinesAroundCommonOnes() {
        assertThat(Golden.unifiedDiff("x/install-v4.rules", "*nat\n-A a\n-A b\nCOMMIT", "*nat\n-A b\n-A c\nCOMMIT"))
                .isEqualTo("""
                        --- golden/x/install-v4.rules
                        +++ actual
                        @@ -1,4 +1,4 @@
                         *nat
                        --A a
                         -A b
                        +-A c
                         COMMIT""");
    }

    @Test
    void mismatchFailsWithTheDiff() {
        // In update mode this would overwrite a real golden file instead of comparing.
        org.junit.jupiter.api.Assumptions.assumeFalse(Golden.updating(), "golden.update=true");
        assertThatThrownBy(() -> Golden.assertMatches("default/remove-v4.rules", "*nat\nCOMMIT\n"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("golden mismatch for")
                .hasMessageContaining("--F PROXY_INIT_REDIRECT");
    }
}
