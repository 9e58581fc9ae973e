package dev.postern.proxy.health;

import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.routing.CheckFailure;
import dev.postern.proxy.routing.HealthCheck;
import dev.postern.proxy.transport.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The frame every check shares: connect to the backend on the given event loop, bound the whole check by its timeout
 * (saying how far it got), and close the connection when the check fails. Subclasses install their handlers before
 * the connection is made and react to it being up.
 */
abstract class ChannelCheck implements HealthCheck {
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(8 * 1024, 32 * 1024);

    private final Transport transport;

    ChannelCheck(Transport transport) {
        this.transport = transport;
    }

    /** How far a check got: what a timeout message says. Touched on the check's event loop only. */
    static final class Progress {
        private String stage = "connecting";

        /** The check reached {@code stage}, e.g. {@code after greeting}. */
        void reached(String newStage) {
            this.stage = newStage;
        }

        String stage() {
            return stage;
        }
    }

    @Override
    public final Future<Void> run(Target target, EventLoop loop) {
        Promise<Void> result = loop.newPromise();
        Progress progress = new Progress();
        ChannelFuture connect = transport
                .backendBootstrap(loop, target.timeout(), WATER_MARK)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        install(ch, target, result, progress);
                    }
                })
                .connect(target.backend().host(), target.backend().portFor(target.protocol()));
        long timeoutMillis = target.timeout().toMillis();
        ScheduledFuture<?> timer = loop.schedule(
                () -> result.tryFailure(new CheckFailure(
                        CheckFailure.Reason.TIMEOUT, "timeout " + progress.stage() + " (" + timeoutMillis + " ms)")),
                timeoutMillis,
                TimeUnit.MILLISECONDS);
        result.addListener(f -> {
            timer.cancel(false);
            if (!f.isSuccess()) {
                connect.channel().close();
            }
        });
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                result.tryFailure(new CheckFailure(
                        CheckFailure.Reason.CONNECT,
                        "connect failed: " + f.cause().getMessage()));
            } else {
                progress.reached("waiting for the greeting");
                connected(connect.channel(), target, result);
            }
        });
        return result;
    }

    /** Adds the check's handlers to a new backend channel (auto-read is off until a handler turns it on). */
    abstract void install(Channel ch, Target target, Promise<Void> result, Progress progress);

    /** The connection is up. */
    abstract void connected(Channel ch, Target target, Promise<Void> result);

    /** A failed or refused backend dialogue as a check failure. */
    static CheckFailure failure(BackendLoginResult r, String refusedPrefix) {
        if (r instanceof BackendLoginResult.Refused refused) {
            return new CheckFailure(CheckFailure.Reason.LOGIN_REFUSED, refusedPrefix + refused.reply());
        }
        String reason = r instanceof BackendLoginResult.Failed failed ? failed.reason() : String.valueOf(r);
        return new CheckFailure(classify(reason), reason);
    }

    /** The bounded reason of a dialogue's failure text. */
    static CheckFailure.Reason classify(String reason) {
        String r = reason.toLowerCase(Locale.ROOT);
        if (r.contains("tls") || r.contains("starttls") || r.contains("stls")) {
            return CheckFailure.Reason.TLS;
        }
        if (r.contains("no greeting")) {
            return CheckFailure.Reason.TIMEOUT;
        }
        if (r.contains("greeting") || r.contains("greeted")) {
            return CheckFailure.Reason.GREETING;
        }
        if (r.contains("closed")) {
            return CheckFailure.Reason.CLOSED;
        }
        return CheckFailure.Reason.PROTOCOL;
    }
}
