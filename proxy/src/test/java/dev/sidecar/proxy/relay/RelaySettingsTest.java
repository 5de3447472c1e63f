package dev.sidecar.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RelaySettingsTest {

    @Test
    void theWrittenOutTextIsTheRecordsOwnWithEveryComponentInOrder() throws Exception {
        RelaySettings settings = RelaySettings.defaults();
        List<String> parts = new ArrayList<>();
        for (RecordComponent c : RelaySettings.class.getRecordComponents()) {
            parts.add(c.getName() + "=" + c.getAccessor().invoke(settings));
        }
        assertThat(settings.toString()).isEqualTo("RelaySettings[" + String.join(", ", parts) + "]");
    }
}
