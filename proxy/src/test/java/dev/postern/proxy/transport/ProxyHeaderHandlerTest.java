package dev.postern.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.postern.config.Cidr;
import dev.postern.config.HostPort;
import dev.postern.config.LimitsConfig;
import dev.postern.config.ListenerConfig;
import dev.postern.config.Protocol;
import dev.postern.config.ProxyProtocolConfig;
import dev.postern.config.TimeoutsConfig;
import dev.postern.config.TlsMode;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.session.SessionRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The PROXY header handler in a pipeline: what the handlers after it see (nothing before the header, then one
 * channelActive and exactly the bytes after the header), what the session learns, and every refusal closed and
 * counted. Inputs are fed whole and split at every byte.
 */
class ProxyHeaderHandlerTest {
    private static final InetSocketAddress BALANCER = new InetSocketAddress("10.0.0.5", 40000);
    private static final InetSocketAddress STRANGER = new InetSocketAddress("192.0.2.99", 40000);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("10.0.0.1", 1993);
    private static final String AFTER = "a1 CAPABILITY\r\n";
    private static final String V1 = "PROXY TCP4 203.0.113.7 198.51.100.1 51000 993\r\n";

    /** An embedded channel with real socket addresses, registered only when the test says. */
    private static final class Connection extends EmbeddedChannel {
        private final InetSocketAddress remote;

        Connection(InetSocketAddress remote) {
            super(false, false);
            this.remote = remote;
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return remote;
        }

        @Override
        protected SocketAddress localAddress0() {
            return LOCAL;
        }
    }

    /** What the handlers after the header handler saw. */
    private static final class Downstream extends ChannelInboundHandlerAdapter {
        int active;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        InetSocketAddress clientAtActive;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            active++;
            clientAtActive = Session.of(ctx.channel()).clientAddress();
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                bytes.writeBytes(ByteBufUtil.getBytes(buf));
            } finally {
                buf.release();
            }
        }

        String text() {
            return bytes.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static final class Refusals implements Metrics {
        final List<String> reasons = new ArrayList<>();

        @Override
        public void connectionRefused(ListenerConfig listener, String reason) {
            reasons.add(reason);
        }
    }

    private final Refusals metrics = new Refusals();
    private final Downstream downstream = new Downstream();

    private static ListenerConfig listener(ProxyProtocolConfig.Mode mode) {
        return new ListenerConfig(
                        "imap",
                        Protocol.IMAP,
                        new HostPort("10.0.0.1", 1993),
                        TlsMode.NONE,
                        Optional.empty(),
                        false,
                        ListenerConfig.StartTlsPipelining.CLOSE,
                        TimeoutsConfig.DEFAULTS,
                        LimitsConfig.DEFAULTS)
                .withProxyProtocol(
                        new ProxyProtocolConfig(mode, List.of(Cidr.parse("10.0.0.0/8")), Duration.ofSeconds(5)));
    }

    private Connection connect(ProxyProtocolConfig.Mode mode, InetSocketAddress from) throws Exception {
        return connect(mode, from, downstream);
    }

    /** A new connection from {@code from}, as ListenerInitializer sets it up: session, then the header handler. */
    private Connection connect(ProxyProtocolConfig.Mode mode, InetSocketAddress from, Downstream seen)
            throws Exception {
        Connection ch = new Connection(from);
        ListenerConfig l = listener(mode);
        new SessionRegistry(Metrics.NOOP).open(l, ch);
        ch.pipeline().addLast(HandlerNames.PROXY_HEADER, new ProxyHeaderHandler(l, metrics, c -> c.pipeline()
                .addLast("downstream", seen)));
        ch.register();
        ch.freezeTime(); // timers move only when a test advances the clock
        return ch;
    }

    /** Writes {@code buf} unless the connection is closed already (a refusal may come before the last bytes). */
    private static void write(EmbeddedChannel ch, ByteBuf buf) {
        if (ch.isOpen()) {
            ch.writeInbound(buf);
        } else {
            buf.release();
        }
    }

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    private static ByteBuf bytes(byte[] b, int from, int to) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.buffer(to - from);
        return buf.writeBytes(b, from, to - from);
    }

    private static String v2Ipv6WithTls() {
        ByteBuf header = ProxyProtocolV2.encode(
                PooledByteBufAllocator.DEFAULT,
                new InetSocketAddress("2001:db8::7", 51000),
                new InetSocketAddress("2001:db8::1", 993),
                "TLSv1.3",
                "TLS_AES_128_GCM_SHA256");
        try {
            return header.toString(StandardCharsets.ISO_8859_1);
        } finally {
            header.release();
        }
    }

    /** Feeds {@code input} split at {@code split} into a new trusted connection. */
    private Connection feed(ProxyProtocolConfig.Mode mode, String input, int split) throws Exception {
        return feed(mode, input, split, downstream);
    }

    private Connection feed(ProxyProtocolConfig.Mode mode, String input, int split, Downstream seen) throws Exception {
        Connection ch = connect(mode, BALANCER, seen);
        byte[] b = input.getBytes(StandardCharsets.ISO_8859_1);
        write(ch, bytes(b, 0, split));
        write(ch, bytes(b, split, b.length));
        return ch;
    }

    // ---- headers read

    @Test
    void aHeaderNamesTheClientBeforeTheFrontEndStartsAndTheBytesAfterItPassUntouched() throws Exception {
        for (String header : List.of(V1, v2Ipv6WithTls(), "PROXY TCP6 2001:db8::7 2001:db8::1 51000 993\r\n")) {
            String input = header + AFTER;
            for (int split = 0; split <= input.length(); split++) {
                Downstream seen = new Downstream();
                Connection ch = connect(ProxyProtocolConfig.Mode.REQUIRED, BALANCER, seen);
                byte[] b = input.getBytes(StandardCharsets.ISO_8859_1);
                ch.writeInbound(bytes(b, 0, split));
                if (split < header.length()) {
                    assertThat(seen.active)
                            .as("split %d: nothing starts before the header", split)
                            .isZero();
                }
                ch.writeInbound(bytes(b, split, b.length));

                Session session = Session.of(ch);
                assertThat(seen.active).as("split %d", split).isEqualTo(1);
                assertThat(seen.clientAtActive).isEqualTo(session.clientAddress());
                assertThat(session.clientAddress().getPort()).isEqualTo(51000);
                assertThat(session.localAddress().getPort()).isEqualTo(993);
                assertThat(session.proxiedBy()).isEqualTo(BALANCER);
                assertThat(seen.text()).as("split %d", split).isEqualTo(AFTER);
                assertThat(ch.pipeline().get(HandlerNames.PROXY_HEADER)).isNull();
                assertThat(ch.isOpen()).isTrue();
                ch.finishAndReleaseAll();
            }
        }
        assertThat(metrics.reasons).isEmpty();
    }

    @Test
    void theAddressesOfEachHeaderKind() throws Exception {
        Connection v1 = feed(ProxyProtocolConfig.Mode.REQUIRED, V1, 0);
        assertThat(Session.of(v1).clientAddress()).isEqualTo(new InetSocketAddress("203.0.113.7", 51000));
        assertThat(Session.of(v1).localAddress()).isEqualTo(new InetSocketAddress("198.51.100.1", 993));
        assertThat(Session.of(v1).proxiedTls()).isNull();
        v1.finishAndReleaseAll();

        Connection v2 = feed(ProxyProtocolConfig.Mode.REQUIRED, v2Ipv6WithTls(), 0, new Downstream());
        assertThat(Session.of(v2).clientAddress()).isEqualTo(new InetSocketAddress("2001:db8::7", 51000));
        assertThat(Session.of(v2).proxiedTls()).as("recorded").isEqualTo("TLSv1.3");
        assertThat(Session.of(v2).tlsProtocol())
                .as("the balancer's TLS is not Postern's: credentials rules stay as they are")
                .isNull();
        v2.finishAndReleaseAll();
    }

    @Test
    void localAndUnknownHeadersLeaveTheConnectionItsOwnClient() throws Exception {
        byte[] local = new byte[16];
        System.arraycopy(ProxyProtocolV2.SIGNATURE, 0, local, 0, 12);
        local[12] = 0x20;
        for (String header : List.of("PROXY UNKNOWN\r\n", new String(local, StandardCharsets.ISO_8859_1))) {
            Downstream seen = new Downstream();
            Connection ch = feed(ProxyProtocolConfig.Mode.REQUIRED, header + AFTER, 3, seen);
            Session s = Session.of(ch);
            assertThat(s.clientAddress()).isEqualTo(BALANCER);
            assertThat(s.proxiedBy()).isNull();
            assertThat(seen.active).isEqualTo(1);
            assertThat(seen.text()).isEqualTo(AFTER);
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void optionalWithoutAHeaderPassesTheBytesThroughUntouched() throws Exception {
        String tlsHello = "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u00fc\u0003\u0003";
        for (String input : List.of(AFTER, tlsHello, "PROXX\r\n", "\r\n\r\nQUIT\n")) {
            for (int split = 0; split <= input.length(); split++) {
                Downstream seen = new Downstream();
                Connection ch = connect(ProxyProtocolConfig.Mode.OPTIONAL, BALANCER, seen);
                byte[] b = input.getBytes(StandardCharsets.ISO_8859_1);
                ch.writeInbound(bytes(b, 0, split));
                ch.writeInbound(bytes(b, split, b.length));
                assertThat(seen.active).as("%s split %d", input, split).isEqualTo(1);
                assertThat(seen.text()).as("%s split %d", input, split).isEqualTo(input);
                assertThat(Session.of(ch).clientAddress()).isEqualTo(BALANCER);
                ch.finishAndReleaseAll();
            }
        }
        assertThat(metrics.reasons).isEmpty();
    }

    @Test
    void optionalServesATrustedClientThatSaysNothingAfterTheTimeout() throws Exception {
        Connection ch = connect(ProxyProtocolConfig.Mode.OPTIONAL, BALANCER);
        ch.advanceTimeBy(4, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertThat(downstream.active).isZero();
        ch.advanceTimeBy(1, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertThat(downstream.active).as("greeted as its own client").isEqualTo(1);
        assertThat(ch.isOpen()).isTrue();
        ch.writeInbound(bytes(V1));
        assertThat(downstream.text())
                .as("after the decision, a header is just bytes of the protocol")
                .isEqualTo(V1);
        assertThat(metrics.reasons).isEmpty();
        ch.finishAndReleaseAll();
    }

    // ---- refusals

    private void assertRefused(Connection ch, String reason) {
        assertThat(ch.isOpen()).as("closed").isFalse();
        assertThat(downstream.active).as("nothing after the handler started").isZero();
        assertThat(downstream.text()).isEmpty();
        assertThat(metrics.reasons).containsExactly(reason);
        Session s = Session.of(ch);
        assertThat(s.closeReason()).isEqualTo(CloseReason.PROXY_HEADER);
        assertThat(s.closeDetail()).startsWith(reason + ": ");
        ch.finishAndReleaseAll();
    }

    @Test
    void malformedHeadersAreRefusedAtEverySplit() throws Exception {
        List<String> inputs = List.of(
                "PROXY TCP4 203.0.113.7 198.51.100.1 51000\r\n",
                "PROXY TCP4 203.0.113.700 198.51.100.1 51000 993\r\n",
                "PROXY UNKNOWN " + "x".repeat(120),
                new String(ProxyProtocolV2.SIGNATURE, StandardCharsets.ISO_8859_1) + "\u0031\u0011\u0000\u000c",
                new String(ProxyProtocolV2.SIGNATURE, StandardCharsets.ISO_8859_1) + "\u0021\u0011\u00ff\u00ff");
        for (String input : inputs) {
            for (int split = 0; split <= input.length(); split++) {
                metrics.reasons.clear();
                Connection ch = feed(ProxyProtocolConfig.Mode.OPTIONAL, input + AFTER, split);
                assertRefused(ch, "proxy-malformed");
            }
        }
    }

    @Test
    void aTruncatedHeaderIsRefusedWhenTheConnectionEnds() throws Exception {
        Connection ch = connect(ProxyProtocolConfig.Mode.REQUIRED, BALANCER);
        ch.writeInbound(bytes("PROXY TCP4 203.0.113.7"));
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertRefused(ch, "proxy-malformed");
    }

    @Test
    void requiredRefusesATrustedConnectionWithoutAHeader() throws Exception {
        for (int split = 0; split <= AFTER.length(); split++) {
            metrics.reasons.clear();
            assertRefused(feed(ProxyProtocolConfig.Mode.REQUIRED, AFTER, split), "proxy-missing");
        }
    }

    @Test
    void aHeaderThatDoesNotArriveInTimeIsRefused() throws Exception {
        Connection ch = connect(ProxyProtocolConfig.Mode.REQUIRED, BALANCER);
        ch.advanceTimeBy(5, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertRefused(ch, "proxy-timeout");

        // optional too, once a header has begun
        metrics.reasons.clear();
        Connection started = connect(ProxyProtocolConfig.Mode.OPTIONAL, BALANCER);
        started.writeInbound(bytes("PROXY TCP4 "));
        started.advanceTimeBy(5, TimeUnit.SECONDS);
        started.runScheduledPendingTasks();
        assertRefused(started, "proxy-timeout");
    }

    @Test
    void requiredRefusesAnUntrustedConnectionAtOnce() throws Exception {
        Connection ch = connect(ProxyProtocolConfig.Mode.REQUIRED, STRANGER);
        assertRefused(ch, "proxy-untrusted");
    }

    @Test
    void optionalServesAnUntrustedClientAtOnceAndRefusesAHeaderFromIt() throws Exception {
        for (String header : List.of(V1, v2Ipv6WithTls())) {
            for (int split = 0; split <= 12; split++) {
                metrics.reasons.clear();
                Downstream seen = new Downstream();
                Connection ch = connect(ProxyProtocolConfig.Mode.OPTIONAL, STRANGER, seen);
                assertThat(seen.active)
                        .as("served at once: the greeting is not held")
                        .isEqualTo(1);
                byte[] b = (header + AFTER).getBytes(StandardCharsets.ISO_8859_1);
                write(ch, bytes(b, 0, split));
                write(ch, bytes(b, split, b.length));
                assertThat(ch.isOpen()).isFalse();
                assertThat(seen.text()).as("never believed, never passed on").isEmpty();
                assertThat(Session.of(ch).clientAddress()).isEqualTo(STRANGER);
                assertThat(metrics.reasons).containsExactly("proxy-untrusted");
                ch.finishAndReleaseAll();
            }
        }
    }

    @Test
    void optionalLetsAnUntrustedClientsOwnBytesThrough() throws Exception {
        Connection ch = connect(ProxyProtocolConfig.Mode.OPTIONAL, STRANGER);
        assertThat(downstream.active).isEqualTo(1);
        ch.writeInbound(bytes("P"));
        assertThat(downstream.text()).as("held until the signature is decided").isEmpty();
        ch.writeInbound(bytes("1 LOGIN a b\r\n"));
        assertThat(downstream.text()).isEqualTo("P1 LOGIN a b\r\n");
        assertThat(ch.pipeline().get(ProxyHeaderHandler.class)).isNull();
        assertThat(metrics.reasons).isEmpty();
        ch.finishAndReleaseAll();
    }

    @Test
    void theClientAddressIsSetOnce() throws Exception {
        Connection ch = feed(ProxyProtocolConfig.Mode.REQUIRED, V1, 0);
        Session s = Session.of(ch);
        assertThatThrownBy(() -> s.proxied(STRANGER, LOCAL, null)).isInstanceOf(IllegalStateException.class);
        assertThat(s.clientAddress()).isEqualTo(new InetSocketAddress("203.0.113.7", 51000));
        ch.finishAndReleaseAll();
    }
}
