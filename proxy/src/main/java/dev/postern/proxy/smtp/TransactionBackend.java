package dev.postern.proxy.smtp;

import dev.postern.config.Backend;
import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.login.BackendLoginRequest;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.routing.BackendCapabilities;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.tls.TlsManager;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection to a backend MTA (the edge's) or LMTP server, for one or more mail transactions of one client session: the {@link
 * SmtpBackendHandshake} as the client (XCLIENT with the client's address, port, HELO name and protocol, then {@code
 * EHLO} with the client's HELO name); the login promise completes when the backend is ready for {@code MAIL}. Then
 * the session sends commands and message bytes through it and gets each reply, in order, through the consumer it gave
 * with the command.
 *
 * <p>Every wait for a reply has a deadline; a backend that misses it, or closes, or sends a reply nobody asked for, is
 * closed, and every waiting consumer gets {@link #LOST}.
 */
public class TransactionBackend extends SmtpBackendHandshake {
    private static final Logger log = LoggerFactory.getLogger(TransactionBackend.class);

    /** What a waiting consumer gets when the backend connection is lost. */
    public static final SmtpReply LOST = new SmtpReply(451, List.of("4.4.2 Connection to the mail server lost"));

    /** What the session hears from its backend besides replies. */
    public interface Owner {
        /** The backend connection closed (after setup). */
        void backendClosed(TransactionBackend backend);

        /** The backend can take more bytes (or cannot, any more). */
        void backendWritable(TransactionBackend backend, boolean writable);
    }

    private enum State {
        SETUP,
        READY,
        CLOSED
    }

    private final Duration replyTimeout;
    private final ArrayDeque<Consumer<SmtpReply>> waiting = new ArrayDeque<>();
    private State state = State.SETUP;
    private boolean quitting;
    private Owner owner;
    private ScheduledFuture<?> timer;

    /**
     * What one connection attempt's backend is made of ({@link TransactionConnector} fills it in).
     *
     * @param request the session's identity facts ({@link AuthRequest#client()}, TLS, the client's HELO name) and
     *     the backend
     * @param result completes when the backend is ready for {@code MAIL}
     * @param hostname Postern's own name, for the EHLO before XCLIENT
     * @param replyTimeout how long any reply may take
     */
    public record Setup(
            Session session,
            BackendLoginRequest request,
            TlsManager tls,
            Promise<BackendLoginResult> result,
            BackendCapabilities capabilities,
            String hostname,
            Duration replyTimeout) {}

    /** @param esmtp the client said EHLO (XCLIENT PROTO=ESMTP), not HELO */
    public TransactionBackend(Setup setup, boolean esmtp) {
        super(
                setup.session(),
                setup.request(),
                setup.tls(),
                setup.result(),
                setup.capabilities(),
                Hello.asClient(setup.hostname(), esmtp));
        this.replyTimeout = setup.replyTimeout();
    }

    /** The request for an edge backend connection: no credentials, no user. */
    public static BackendLoginRequest request(AuthRequest identity, Backend backend, String pool) {
        return new BackendLoginRequest(identity, null, null, backend, pool);
    }

    @Override
    protected String backendName() {
        return id();
    }

    public final String id() {
        return request.pool() + "/" + request.backend().id();
    }

    public final String pool() {
        return request.pool();
    }

    public final boolean supports(String keyword) {
        return EhloKeywords.has(keywords(), keyword);
    }

    /** Whether commands can be sent: set up, not closed, not quitting. */
    public final boolean usable() {
        return state == State.READY && !quitting && ctx.channel().isActive();
    }

    public final void owner(Owner owner) {
        this.owner = owner;
    }

    public final boolean isWritable() {
        return ctx.channel().isWritable();
    }

    // ---- setup

    @Override
    protected void connected() {
        arm();
    }

    @Override
    protected void expectReply() {
        arm();
    }

    @Override
    protected void greetingRefused(SmtpReply reply) {
        refused(reply.toString(), reply.transientFailure());
    }

    @Override
    protected void ehloRefused(SmtpReply reply) {
        refused("backend " + id() + " refused EHLO: " + reply, reply.transientFailure());
    }

    @Override
    protected void malformed(String why) {
        lose(why);
    }

    @Override
    protected void handshakeDone(List<String> keywords) {
        state = State.READY;
        disarm();
        loggedIn(null);
    }

    // ---- transactions

    /** Sends a command and flushes; {@code onReply} gets its reply (or {@link #LOST}) on the event loop. */
    public final void command(String line, Consumer<SmtpReply> onReply) {
        if (!usable()) {
            lostLater(onReply);
            return;
        }
        waiting.add(onReply);
        arm();
        send(line);
    }

    /** Writes a command without flushing and without waiting for a reply of its own (BDAT: the chunk follows). */
    public final void commandThenData(String line, Consumer<SmtpReply> onReply) {
        if (!usable()) {
            lostLater(onReply);
            return;
        }
        waiting.add(onReply);
        ByteBuf buf = ctx.alloc().buffer(line.length() + 2);
        ByteBufUtil.writeUtf8(buf, line);
        buf.writeByte('\r').writeByte('\n');
        ctx.write(buf, ctx.voidPromise());
    }

    /**
     * One more reply is due for what was already sent, without a command of its own: LMTP answers the end of data
     * once per accepted recipient (RFC 2033, section 4.2).
     */
    public final void awaitReply(Consumer<SmtpReply> onReply) {
        if (!usable()) {
            lostLater(onReply);
            return;
        }
        waiting.add(onReply);
    }

    /** Consumers never run inside the caller's own call: the caller may be in the middle of decoding. */
    private void lostLater(Consumer<SmtpReply> onReply) {
        ctx.executor().execute(() -> onReply.accept(LOST));
    }

    /** Writes message bytes (taking ownership) without flushing. */
    public final void data(ByteBuf bytes) {
        if (!usable()) {
            bytes.release();
            return;
        }
        ctx.write(bytes, ctx.voidPromise());
    }

    /** Flushes and starts the deadline of the reply that is waited for. */
    public final void flushAndWait() {
        if (usable()) {
            ctx.flush();
            arm();
        }
    }

    public final void flush() {
        if (ctx.channel().isActive()) {
            ctx.flush();
        }
    }

    /** Ends the connection politely: QUIT, then close once the backend answered (or at its deadline). */
    public final void quit() {
        owner = null;
        if (!usable()) {
            ctx.close();
            return;
        }
        quitting = true;
        waiting.add(r -> ctx.close());
        arm();
        send("QUIT");
    }

    /** Ends the connection now, abandoning any transaction in progress (the backend discards a partial message). */
    public final void abort() {
        owner = null;
        ctx.close();
    }

    @Override
    protected void afterHandshake(SmtpReply reply) {
        Consumer<SmtpReply> next = waiting.poll();
        if (next == null) {
            lose("backend " + id() + " sent a reply nobody asked for: " + reply);
            return;
        }
        if (waiting.isEmpty()) {
            disarm();
        } else {
            arm();
        }
        next.accept(reply);
    }

    /** Closes the connection; waiting consumers get {@link #LOST} from {@link #channelInactive}. */
    private void lose(String why) {
        if (state == State.READY) {
            log.info("{}: {}", session, why);
            ctx.close();
        } else {
            failed(why);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.READY) {
            try {
                if (msg instanceof String s) {
                    line(s);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
            return;
        }
        super.channelRead(ctx, msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent) {
            // backend channels allow half-closure (for the relay's sake); a backend that stops sending is gone here
            lose("backend " + id() + " closed the connection");
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Owner o = owner;
        if (o != null) {
            o.backendWritable(this, ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        boolean wasReady = state == State.READY;
        state = State.CLOSED;
        disarm();
        Consumer<SmtpReply> next;
        while ((next = waiting.poll()) != null) {
            next.accept(LOST);
        }
        Owner o = owner;
        owner = null;
        if (wasReady && o != null) {
            o.backendClosed(this);
        }
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        disarm();
    }

    // ---- deadline

    private void arm() {
        disarm();
        if (ctx == null) {
            return;
        }
        timer = ctx.executor()
                .schedule(
                        () -> lose("backend " + id() + " did not answer within " + replyTimeout.toSeconds() + "s"),
                        replyTimeout.toMillis(),
                        TimeUnit.MILLISECONDS);
    }

    private void disarm() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
