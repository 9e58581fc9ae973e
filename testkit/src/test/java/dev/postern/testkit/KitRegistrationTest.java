package dev.postern.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.Extension;

/** A module that puts the kit on its test class path gets leak detection without registering anything. */
class KitRegistrationTest {
    @Test
    void theLeakDetectionExtensionIsRegisteredForAutoDetection() {
        assertThat(ServiceLoader.load(Extension.class))
                .anyMatch(extension -> extension instanceof LeakDetectionExtension);
    }
}
