package dev.postern.proxy.tls;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.postern.config.CertificateConfig;
import dev.postern.config.Secret;
import dev.postern.config.TlsConfig;
import dev.postern.testkit.TestCertificates.PemFiles;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/** Small shared pieces of the TLS tests. */
final class TlsTesting {
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    static final Duration WAIT = Duration.ofSeconds(10);

    private TlsTesting() {}

    static EventLoopGroup newGroup() {
        return new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    }

    static void shutdown(EventLoopGroup group) {
        if (group != null) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Default protocols and ciphers, a small session cache. */
    static TlsConfig config(TlsConfig.Provider provider, CertificateConfig... certificates) {
        return new TlsConfig(
                provider,
                TlsConfig.DEFAULT_PROTOCOLS,
                TlsConfig.DEFAULT_CIPHERS,
                List.of(certificates),
                1_000,
                Duration.ofMinutes(5));
    }

    /** The configuration of certificate files written by the test kit: SNI names from the certificate, not the default. */
    static CertificateConfig certificate(PemFiles files) {
        return new CertificateConfig(
                files.name(), files.cert(), files.key(), files.password().map(Secret::of), List.of(), false);
    }

    static CertificateConfig withSni(CertificateConfig config, List<String> sni, boolean isDefault) {
        return new CertificateConfig(config.name(), config.cert(), config.key(), config.keyPassword(), sni, isDefault);
    }

    /** Collects what one logger (and its children) logs while open. */
    static final class LogCapture implements AutoCloseable {
        private final Logger logger;
        private final Collector appender = new Collector();

        LogCapture(Class<?> type) {
            this.logger = (Logger) LoggerFactory.getLogger(type);
            appender.start();
            logger.addAppender(appender);
        }

        List<String> messages(Level level) {
            synchronized (appender) {
                return appender.events.stream()
                        .filter(event -> event.getLevel().equals(level))
                        .map(ILoggingEvent::getFormattedMessage)
                        .toList();
            }
        }

        /** The messages at {@code level} once there are at least {@code count}, waiting at most {@link #WAIT}. */
        List<String> awaitMessages(Level level, int count) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            synchronized (appender) {
                while (messages(level).size() < count) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new AssertionError("fewer than " + count + " " + level + " messages: " + messages(level));
                    }
                    TimeUnit.NANOSECONDS.timedWait(appender, left);
                }
                return messages(level);
            }
        }

        @Override
        public void close() {
            logger.detachAppender(appender);
            appender.stop();
        }

        /** Logging threads add, the test thread waits on the monitor. */
        private static final class Collector extends AppenderBase<ILoggingEvent> {
            private final List<ILoggingEvent> events = new ArrayList<>();

            @Override
            protected synchronized void append(ILoggingEvent event) {
                events.add(event);
                notifyAll();
            }
        }
    }
}
