package dev.postern.proxy.frontend;

import dev.postern.proxy.auth.AuthRequest;
import dev.postern.proxy.codec.CommandDecoder;
import dev.postern.proxy.login.BackendDialogue;
import dev.postern.proxy.login.LoginFlow;
import dev.postern.proxy.login.LoginOutcome;
import dev.postern.proxy.session.CloseReason;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.transport.HandlerNames;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.concurrent.Future;

/**
 * The login state of a {@link PreAuthHandler}, from the credentials to the outcome. While {@link LoginFlow} works
 * nothing is read and nothing decoded, so commands pipelined behind the login wait raw in the decoder's buffer; a
 * half-close by the client in the meantime waits for the outcome, which decides what it means.
 */
final class LoginStep {
    private final LoginFlow loginFlow;
    private final PreAuthPhase phase;
    private boolean inFlight;
    private boolean inputShutdown;

    LoginStep(LoginFlow loginFlow, PreAuthPhase phase) {
        this.loginFlow = loginFlow;
        this.phase = phase;
    }

    boolean inFlight() {
        return inFlight;
    }

    /** The client half-closed. Returns true when a login is in flight: the outcome decides, not the caller. */
    boolean deferInputShutdown() {
        if (inFlight) {
            inputShutdown = true;
        }
        return inFlight;
    }

    /** Runs a login; {@code callback} gets the outcome on the event loop, unless the phase ended meanwhile. */
    void run(
            ChannelHandlerContext ctx,
            Session session,
            CommandDecoder decoder,
            AuthRequest request,
            BackendDialogue dialogue,
            PreAuthHandler.LoginCallback callback) {
        inFlight = true;
        decoder.pause();
        ctx.channel().config().setAutoRead(false);
        Future<LoginOutcome> f = loginFlow.login(session, request, dialogue);
        f.addListener(x -> {
            inFlight = false;
            if (!ctx.channel().isActive() || phase.isOver()) {
                if (session.backend() != null) {
                    session.backend().close();
                }
                return;
            }
            LoginOutcome outcome = f.isSuccess()
                    ? f.getNow()
                    : new LoginOutcome.Unavailable(f.cause().toString());
            callback.done(outcome);
            if (!phase.isOver()) {
                if (!inputShutdown) {
                    ctx.channel().config().setAutoRead(true);
                }
                decoder.resume();
                ctx.flush();
                if (inputShutdown) {
                    phase.end();
                    session.closeAfterFlush(CloseReason.CLIENT_CLOSED, null);
                }
            } else if (inputShutdown && ctx.channel().pipeline().get(HandlerNames.RELAY) != null) {
                // handed over: the relay passes the client's half-close on to the backend
                ctx.channel().pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
            }
        });
    }
}
