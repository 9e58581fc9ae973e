package dev.postern.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.ConfigLoader;
import dev.postern.config.ListenerConfig;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.session.SessionRegistry;
import dev.postern.proxy.transport.HandlerNames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The relay pair on embedded channels: data, accounting, backpressure and closing, without sockets. */
class RelayTest {
    private EmbeddedChannel client;
    private EmbeddedChannel backend;
    private Session session;

    @BeforeEach
    void setUp() throws Exception {
        ListenerConfig listener = ConfigLoader.parse(
                        """
                        listeners:
                          - {name: t, protocol: tcp, bind: "127.0.0.1:1", pool: p}
                        pools:
                          - {name: p, backends: [{address: "127.0.0.1:2"}]}
                        """,
                        Path.of("."))
                .listeners()
                .get(0);
        client = new EmbeddedChannel();
        backend = new EmbeddedChannel();
        backend.config().setOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(8, 16));
        session = new SessionRegistry(Metrics.NOOP).open(listener, client);
        session.attachBackend(backend, "p", "b1");
    }

    @AfterEach
    void tearDown() {
        client.finishAndReleaseAll();
        backend.finishAndReleaseAll();
    }

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    private static String readText(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            sb.append(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }
        return sb.toString();
    }

    @Test
    void bytesFlowBothWaysAndAreCounted() {
        Relay.splice(session, List.of());
        client.writeInbound(text("a1 LOGIN x y\r\n"));
        assertThat(readText(backend)).isEqualTo("a1 LOGIN x y\r\n");
        backend.writeInbound(text("a1 OK done\r\n"));
        assertThat(readText(client)).isEqualTo("a1 OK done\r\n");
        assertThat(session.bytesFromClient()).isEqualTo(14);
        assertThat(session.bytesToClient()).isEqualTo(12);
    }

    @Test
    void bytesHeldBeforeTheSpliceGoFirst() {
        List<ByteBuf> held = new ArrayList<>(List.of(text("early ")));
        Relay.splice(session, held);
        client.writeInbound(text("late"));
        assertThat(readText(backend)).isEqualTo("early late");
        assertThat(session.bytesFromClient()).isEqualTo(10);
    }

    @Test
    void aFullBackendStopsReadingFromTheClientUntilItDrains() {
        Relay.splice(session, List.of());
        assertThat(client.config().isAutoRead()).isTrue();
        // two reads in one batch: written, not yet flushed, past the high water mark
        client.pipeline().fireChannelRead(text("0123456789"));
        client.pipeline().fireChannelRead(text("0123456789"));
        assertThat(backend.isWritable()).isFalse();
        assertThat(client.config().isAutoRead()).isFalse();
        client.pipeline().fireChannelReadComplete(); // flush
        assertThat(backend.isWritable()).isTrue();
        assertThat(client.config().isAutoRead()).isTrue();
        assertThat(readText(backend)).hasSize(20);
    }

    @Test
    void backendCloseFlushesAndClosesTheClient() {
        Relay.splice(session, List.of());
        backend.writeInbound(text("* BYE\r\n"));
        backend.close();
        assertThat(readText(client)).isEqualTo("* BYE\r\n");
        assertThat(client.isOpen()).isFalse();
        assertThat(session.closeReason()).isEqualTo(CloseReason.BACKEND_CLOSED);
    }

    @Test
    void clientCloseClosesTheBackend() {
        Relay.splice(session, List.of());
        client.close();
        assertThat(backend.isOpen()).isFalse();
        assertThat(session.closeReason()).isEqualTo(CloseReason.CLIENT_CLOSED);
    }

    @Test
    void idleEventClosesBothWithTheIdleReason() {
        Relay.splice(session, List.of());
        client.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        assertThat(client.isOpen()).isFalse();
        assertThat(backend.isOpen()).isFalse();
        assertThat(session.closeReason()).isEqualTo(CloseReason.IDLE_TIMEOUT);
    }

    @Test
    void writesToAClosedPeerAreReleased() {
        Relay.splice(session, List.of());
        // take the backend down without its relay handler noticing, as if the close raced with a client read
        backend.pipeline().remove(HandlerNames.RELAY);
        backend.close();
        assertThat(client.isActive()).isTrue();
        ByteBuf late = text("too late");
        client.pipeline().fireChannelRead(late);
        assertThat(late.refCnt()).isZero();
    }
}
