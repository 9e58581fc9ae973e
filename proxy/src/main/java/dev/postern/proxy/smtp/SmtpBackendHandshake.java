package dev.postern.proxy.smtp;

import dev.postern.config.Backend;
import dev.postern.config.Protocol;
import dev.postern.config.TlsMode;
import dev.postern.proxy.login.BackendDialogueHandler;
import dev.postern.proxy.login.BackendLoginRequest;
import dev.postern.proxy.login.BackendLoginResult;
import dev.postern.proxy.routing.BackendCapabilities;
import dev.postern.proxy.session.Session;
import dev.postern.proxy.tls.TlsManager;
import io.netty.util.concurrent.Promise;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The opening of every SMTP backend connection, for submission's login and the edge's transactions alike: [PROXY v2
 * header], greeting, {@code EHLO}, [{@code STARTTLS}, {@code EHLO}], [{@code XCLIENT} with the client's address,
 * port, HELO name, login and protocol, then {@code EHLO}]. Every EHLO reply is recorded for the pool, so front ends
 * offer what the backends support. When the backend is ready, {@link #handshakeDone} gets its keywords; every reply
 * after that goes to {@link #afterHandshake}.
 *
 * <p>The subclass says how Postern introduces itself ({@link Hello}) and may hook in a deadline per reply ({@link
 * #expectReply}) and its own reading of a refused greeting or EHLO.
 */
public abstract class SmtpBackendHandshake extends BackendDialogueHandler {
    private static final Logger log = LoggerFactory.getLogger(SmtpBackendHandshake.class);

    /**
     * How Postern introduces itself to the backend.
     *
     * @param hostname Postern's own name, for the EHLO before the client's identity is in place
     * @param asClient once the client's identity is in place (after XCLIENT, or from the start when the backend learns
     *     it otherwise), EHLO with the client's HELO name instead of Postern's
     * @param esmtp the client said EHLO, not HELO ({@code XCLIENT PROTO=ESMTP}, else {@code SMTP})
     */
    public record Hello(String hostname, boolean asClient, boolean esmtp) {
        /** Postern speaks as itself throughout (a login: the client said EHLO to Postern). */
        public static Hello asPostern(String hostname) {
            return new Hello(hostname, false, true);
        }

        /** Postern speaks as the client once the backend knows who that is (the edge: the backend filters on it). */
        public static Hello asClient(String hostname, boolean esmtp) {
            return new Hello(hostname, true, esmtp);
        }
    }

    private enum Step {
        GREETING,
        EHLO,
        STARTTLS,
        TLS_HANDSHAKE,
        XCLIENT,
        DONE
    }

    private final BackendCapabilities capabilities;
    private final Hello hello;
    private final SmtpReplyReader reader = new SmtpReplyReader();
    private Step step = Step.GREETING;
    private boolean tlsDone;
    private boolean xclientDone;
    private List<String> keywords = List.of();

    protected SmtpBackendHandshake(
            Session session,
            BackendLoginRequest request,
            TlsManager tls,
            Promise<BackendLoginResult> result,
            BackendCapabilities capabilities,
            Hello hello) {
        super(session, request, tls, result);
        this.capabilities = capabilities;
        this.hello = hello;
    }

    /** The backend's name in messages and logs. */
    protected String backendName() {
        return request.backend().id();
    }

    /** The backend's EHLO keywords (from the last EHLO that listed them). */
    protected final List<String> keywords() {
        return keywords;
    }

    /** The backend is ready for what the subclass does next; {@code keywords} are those of its last EHLO reply. */
    protected abstract void handshakeDone(List<String> keywords);

    /** A reply after {@link #handshakeDone}. */
    protected abstract void afterHandshake(SmtpReply reply);

    /** A command of the handshake is about to be sent: its reply is awaited. */
    protected void expectReply() {}

    /** The greeting command: {@code EHLO}; LMTP's is {@code LHLO} (RFC 2033). */
    protected String helloVerb() {
        return "EHLO";
    }

    /** The protocol whose keywords the backend's reply lists, for the pool's record of them. */
    protected Protocol keywordsProtocol() {
        return Protocol.SMTP;
    }

    /** The {@code XCLIENT PROTO} value: {@code ESMTP} after EHLO, {@code SMTP} after HELO. */
    protected String xclientProto() {
        return hello.esmtp() ? "ESMTP" : "SMTP";
    }

    /**
     * The greeting was not {@code 220}. A login fails (a refusal would read as refused credentials); the edge
     * overrides this to pass the backend's refusal on.
     */
    protected void greetingRefused(SmtpReply reply) {
        failed("backend " + backendName() + " greeting: " + reply);
    }

    /** EHLO was not answered {@code 250}. */
    protected void ehloRefused(SmtpReply reply) {
        failed("backend " + backendName() + " refused EHLO: " + reply);
    }

    /** The backend broke the reply syntax. */
    protected void malformed(String why) {
        failed(why);
    }

    @Override
    protected final void line(String line) {
        SmtpReply reply;
        try {
            reply = reader.add(line);
        } catch (SmtpReplyReader.MalformedReplyException e) {
            malformed("backend " + backendName() + ": " + e.getMessage());
            return;
        }
        if (reply == null) {
            return;
        }
        switch (step) {
            case GREETING -> greeting(reply);
            case EHLO -> ehloReply(reply);
            case STARTTLS -> startTlsReply(reply);
            case XCLIENT -> xclientReply(reply);
            case DONE -> afterHandshake(reply);
            case TLS_HANDSHAKE -> failed("backend " + backendName() + " sent an unexpected reply: " + reply);
        }
    }

    private void greeting(SmtpReply reply) {
        if (reply.code() != 220) {
            greetingRefused(reply);
            return;
        }
        ehlo();
    }

    /** The EHLO name: Postern's own until the client's identity is in place, then the client's if so chosen. */
    private void ehlo() {
        step = Step.EHLO;
        expectReply();
        boolean identityInPlace = request.backend().identity() != Backend.Identity.XCLIENT || xclientDone;
        send(helloVerb() + " "
                + (hello.asClient() && identityInPlace ? request.auth().smtpHelo() : hello.hostname()));
    }

    private void ehloReply(SmtpReply reply) {
        if (reply.code() != 250) {
            ehloRefused(reply);
            return;
        }
        keywords = reply.lines().subList(1, reply.lines().size());
        if (request.pool() != null) {
            capabilities.learned(request.pool(), keywordsProtocol(), keywords);
        }
        if (request.backend().tls() == TlsMode.STARTTLS && !tlsDone) {
            if (!EhloKeywords.has(keywords, "STARTTLS")) {
                failed("backend " + backendName() + " does not offer STARTTLS");
                return;
            }
            step = Step.STARTTLS;
            expectReply();
            send("STARTTLS");
            return;
        }
        if (request.backend().identity() == Backend.Identity.XCLIENT && !xclientDone && request.auth() == null) {
            xclientDone = true; // a health check's probe login: there is no client to tell about
        }
        if (request.backend().identity() == Backend.Identity.XCLIENT && !xclientDone) {
            String command = EhloKeywords.has(keywords, "XCLIENT")
                    ? Xclient.command(
                            EhloKeywords.parameters(keywords, "XCLIENT"),
                            request.auth().client(),
                            request.auth().smtpHelo(),
                            request.user(),
                            xclientProto())
                    : null;
            if (command != null) {
                step = Step.XCLIENT;
                expectReply();
                send(command);
                return;
            }
            log.warn(
                    "{}: backend {} is configured for XCLIENT but does not offer it; it sees Postern's address",
                    session,
                    backendName());
            xclientDone = true;
        }
        step = Step.DONE;
        handshakeDone(keywords);
    }

    private void startTlsReply(SmtpReply reply) {
        if (reply.code() != 220) {
            failed("backend " + backendName() + " refused STARTTLS: " + reply);
            return;
        }
        step = Step.TLS_HANDSHAKE;
        startTls().addListener(f -> {
            if (!f.isSuccess()) {
                failed("TLS handshake with backend " + backendName() + " failed: "
                        + f.cause().getMessage());
                return;
            }
            tlsDone = true;
            ehlo(); // RFC 3207: the server forgot everything; EHLO again
        });
    }

    private void xclientReply(SmtpReply reply) {
        if (reply.code() != 220) {
            failed("backend " + backendName() + " refused XCLIENT: " + reply);
            return;
        }
        // XCLIENT starts a new session with a new greeting (the 220 just read); Postfix requires EHLO again
        xclientDone = true;
        ehlo();
    }
}
