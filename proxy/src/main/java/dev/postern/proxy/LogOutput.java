package dev.postern.proxy;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import java.util.Iterator;
import net.logstash.logback.encoder.LogstashEncoder;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Switches the log output to a {@link LogFormat} at start, before the first event: {@link LogSetup} lays out text,
 * and for JSON each of the root logger's stream appenders (the console: stdout, which systemd hands to the journal)
 * gets a JSON encoder instead. The switch happens in code rather than in a second logback file or a conditional in
 * it, so the one command-line option decides and the text layout stays in one place.
 */
final class LogOutput {
    /** The encoder's word for "leave this field out". */
    private static final String IGNORE = "[ignore]";

    private LogOutput() {}

    /** Makes the root logger's stream appenders write {@code format}. */
    static void use(LogFormat format) {
        if (format == LogFormat.TEXT) {
            return; // LogSetup's own layout
        }
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!(factory instanceof LoggerContext context)) {
            return; // not logback: nothing of ours to switch
        }
        Iterator<Appender<ILoggingEvent>> appenders =
                context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders();
        while (appenders.hasNext()) {
            if (appenders.next() instanceof OutputStreamAppender<ILoggingEvent> stream) {
                writeJson(stream);
            }
        }
    }

    /**
     * Gives {@code appender} the JSON encoder: one object a line with {@code @timestamp}, {@code level},
     * {@code logger_name}, {@code thread_name}, {@code message}, the MDC and the event's key-value pairs as fields
     * of their own (numbers stay numbers), and {@code stack_trace} for an exception.
     */
    static void writeJson(OutputStreamAppender<ILoggingEvent> appender) {
        LogstashEncoder json = new LogstashEncoder();
        json.setContext(appender.getContext());
        // the Logstash schema's version and numeric level say nothing that the level name does not
        json.getFieldNames().setVersion(IGNORE);
        json.getFieldNames().setLevelValue(IGNORE);
        json.setIncludeContext(false);
        json.start();
        boolean wasStarted = appender.isStarted();
        appender.stop();
        appender.setEncoder(json);
        if (wasStarted) {
            appender.start();
        }
    }
}
