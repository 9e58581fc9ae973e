package dev.postern.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails a test class when Netty reported a leaked buffer (or engine) while it ran. Runs after the class's
 * {@code @AfterAll} methods, so the event loops are shut down by then. Also quiets Netty's DEBUG start-up chatter,
 * since the module has no test logging config yet.
 */
final class NettyLeakCheck implements BeforeAllCallback, AfterAllCallback {
    private static final String DETECTOR_LOGGER = ResourceLeakDetector.class.getName();

    private ListAppender<ILoggingEvent> appender;

    @Override
    public void beforeAll(ExtensionContext context) {
        ((Logger) LoggerFactory.getLogger("io.netty")).setLevel(Level.INFO);
        Logger detector = (Logger) LoggerFactory.getLogger(DETECTOR_LOGGER);
        appender = new ListAppender<>();
        appender.start();
        detector.addAppender(appender);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Logger detector = (Logger) LoggerFactory.getLogger(DETECTOR_LOGGER);
        try {
            // Leaks are reported when a leaked object has been collected and a later allocation is tracked.
            for (int round = 0; round < 3; round++) {
                System.gc();
                for (int i = 0; i < 64; i++) {
                    ByteBuf pooled = PooledByteBufAllocator.DEFAULT.buffer(16);
                    pooled.release();
                    ByteBuf unpooled = UnpooledByteBufAllocator.DEFAULT.directBuffer(16);
                    unpooled.release();
                }
            }
            assertThat(appender.list)
                    .as("Netty leak reports in %s", context.getDisplayName())
                    .filteredOn(event -> event.getLevel().isGreaterOrEqual(Level.ERROR))
                    .isEmpty();
        } finally {
            detector.detachAppender(appender);
            appender.stop();
        }
    }
}
