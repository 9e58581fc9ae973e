package dev.postern.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails a test class when Netty reports a buffer leak while it ran. Registered for every test of a module that has
 * the kit on its test class path, through {@code META-INF/services} (JUnit extension auto-detection, which each
 * module turns on in its {@code junit-platform.properties}); tests run with
 * {@code -Dio.netty.leakDetection.level=paranoid}, so every buffer is tracked.
 *
 * <p>Netty reports a leak when a later allocation finds a collected, unreleased buffer in its reference queue, so
 * after each class this forces collections and allocations until the queue has been drained.
 */
public final class LeakDetectionExtension implements BeforeAllCallback, AfterAllCallback {
    private static final LeakAppender APPENDER = install();

    private static LeakAppender install() {
        LeakAppender appender = new LeakAppender();
        appender.start();
        Logger logger = (Logger) LoggerFactory.getLogger(ResourceLeakDetector.class);
        logger.addAppender(appender);
        logger.setLevel(Level.ERROR);
        return appender;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        drain();
        APPENDER.reset();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        drain();
        List<String> leaks = APPENDER.reset();
        assertThat(leaks)
                .as("Netty buffer leaks reported while %s ran", context.getDisplayName())
                .isEmpty();
    }

    /** Collects garbage and allocates tracked buffers so pending leak reports are made now. */
    public static void drain() {
        for (int round = 0; round < 3; round++) {
            System.gc();
            List<ByteBuf> bufs = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                bufs.add(PooledByteBufAllocator.DEFAULT.directBuffer(16));
                bufs.add(PooledByteBufAllocator.DEFAULT.heapBuffer(16));
                bufs.add(Unpooled.directBuffer(16));
            }
            bufs.forEach(ByteBuf::release);
        }
    }

    /** The leak reports received so far; empties the list. */
    public static List<String> takeLeaks() {
        return APPENDER.reset();
    }

    private static final class LeakAppender extends AppenderBase<ILoggingEvent> {
        private final List<String> leaks = new ArrayList<>();

        @Override
        protected synchronized void append(ILoggingEvent event) {
            String message = event.getFormattedMessage();
            if (message != null && message.contains("LEAK")) {
                leaks.add(message);
            }
        }

        synchronized List<String> reset() {
            List<String> copy = List.copyOf(leaks);
            leaks.clear();
            return copy;
        }
    }
}
