package dev.postern.proxy.health;

import dev.postern.config.HealthCheckConfig;
import dev.postern.config.Protocol;
import dev.postern.proxy.login.BackendDialogue;
import dev.postern.proxy.login.BackendLoginRequest;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.routing.CheckFailure;
import dev.postern.proxy.sasl.Credentials;
import dev.postern.proxy.sasl.SaslMechanism;
import dev.postern.proxy.transport.HandlerNames;
import dev.postern.proxy.transport.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.Promise;
import java.util.function.Function;

/**
 * Mode {@code login}: a probe user logs in through the protocol's own backend dialogue, exactly as a session's login
 * does (PROXY v2 header, implicit TLS or STARTTLS, master user), then runs a cheap command ({@link ProbeCommand}) and
 * logs out. A backend that greets but refuses logins, or whose mail store is broken, fails it.
 */
public final class LoginCheck extends ChannelCheck {
    private static final String PROGRESS = "health-progress";
    private static final String COMMAND = "health-command";

    private final Function<Protocol, BackendDialogue> dialogues;

    /** @param dialogues the backend login dialogue of each protocol (imap, pop3, smtp); null for none */
    public LoginCheck(Transport transport, Function<Protocol, BackendDialogue> dialogues) {
        super(transport);
        this.dialogues = dialogues;
    }

    @Override
    void install(Channel ch, Target target, Promise<Void> result, Progress progress) {
        BackendDialogue dialogue = dialogues.apply(target.protocol());
        HealthCheckConfig.ProbeLogin probe = target.login().orElse(null);
        if (dialogue == null || probe == null) {
            result.tryFailure(new CheckFailure(
                    CheckFailure.Reason.PROTOCOL,
                    "no login check for protocol " + target.protocol().configName()));
            return;
        }
        Credentials credentials = Credentials.password(
                SaslMechanism.PLAIN, probe.user(), probe.password().reveal());
        Promise<BackendLoginResult> login = ch.eventLoop().newPromise();
        ch.pipeline()
                .addLast(dialogue.newHandler(
                        null,
                        new BackendLoginRequest(null, credentials, probe.user(), target.backend(), target.pool()),
                        login));
        // the dialogue's initializer has run (the channel is registered): its handlers are in place
        ch.pipeline().addBefore(HandlerNames.BACKEND_DIALOGUE, PROGRESS, new GreetingSeen(progress));
        ProbeCommand command = ProbeCommand.of(target.protocol(), result);
        ch.pipeline().addLast(COMMAND, command);
        login.addListener(f -> {
            BackendLoginResult r = login.getNow();
            if (r instanceof BackendLoginResult.LoggedIn) {
                progress.reached("after login (" + command.name() + " not answered)");
                command.start();
            } else {
                result.tryFailure(failure(r, "login refused: " + (target.protocol() == Protocol.IMAP ? "NO " : "")));
            }
        });
    }

    @Override
    void connected(Channel ch, Target target, Promise<Void> result) {
        // the dialogue reads from here on
    }

    /** Notes the first line from the backend, so that a timeout says whether the backend greeted. */
    private static final class GreetingSeen extends ChannelInboundHandlerAdapter {
        private final Progress progress;

        GreetingSeen(Progress progress) {
            this.progress = progress;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            progress.reached("after greeting");
            ctx.pipeline().remove(this);
            ctx.fireChannelRead(msg);
        }
    }
}
