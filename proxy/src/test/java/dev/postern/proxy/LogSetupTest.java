package dev.postern.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

class LogSetupTest {
    @Test
    void textLinesOnStdoutFromInfoUp() {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            LogSetup.apply(context);
            Logger session = context.getLogger("session");
            session.info("session f0079b1 closed: user=alice");
            session.debug("not shown");
            context.getLogger("io.netty.channel.DefaultChannelPipeline").debug("not shown either");
            context.getLogger("io.netty.handler.ssl.SslHandler").warn("shown");
        } finally {
            System.setOut(original);
            context.stop();
        }
        assertThat(out.toString(StandardCharsets.UTF_8).lines())
                .hasSize(2)
                .satisfiesExactly(
                        first -> assertThat(first)
                                .matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  session: "
                                        + "session f0079b1 closed: user=alice"),
                        second -> assertThat(second).endsWith(" WARN  SslHandler: shown"));
    }
}
