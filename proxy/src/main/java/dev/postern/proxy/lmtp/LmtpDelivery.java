package dev.postern.proxy.lmtp;

import dev.postern.config.ListenerConfig;
import dev.postern.proxy.services.ProxyServices;
import dev.postern.proxy.smtp.Envelope;
import dev.postern.proxy.smtp.SmtpCommand;
import dev.postern.proxy.smtp.SmtpReply;
import dev.postern.proxy.smtp.TransactionBackend;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The message of an LMTP transaction on its way to the backends (RFC 2033, section 4.2): DATA goes to every backend
 * that holds accepted recipients; when at least one answers {@code 354} the client gets {@code 354} and the bytes go
 * to each of those as they arrive (reading stops while any of them cannot take more). After the end of data the
 * client gets one reply per accepted recipient, in RCPT order: the reply of that recipient's backend, or {@code 451}
 * when the backend refused DATA with a temporary error, went away or missed its deadline, so a recipient is never
 * told 250 unless its own backend said so. A message over the size limit is answered {@code 552} for every recipient.
 */
final class LmtpDelivery {
    private static final Logger log = LoggerFactory.getLogger(LmtpDelivery.class);

    private static final SmtpReply TOO_BIG_REPLY = new SmtpReply(552, List.of(Envelope.TOO_BIG.substring(4)));

    private final LmtpSession s;
    private final LmtpEnvelope e;
    private final ProxyServices services;
    private final ListenerConfig listener;

    /** The backends asked DATA, and those that said 354. */
    private List<LmtpEnvelope.Target> asked = List.of();

    private final List<LmtpEnvelope.Target> taking = new ArrayList<>();
    private int pending;
    private long bytes;
    /** Why every recipient is refused at the end (size), or null; bytes are dropped meanwhile. */
    private SmtpReply failure;

    LmtpDelivery(LmtpSession session, LmtpEnvelope envelope) {
        this.s = session;
        this.e = envelope;
        this.services = session.services();
        this.listener = session.listener();
    }

    void dataCommand(SmtpCommand c) {
        if (c.hasArgument()) {
            s.error("501 5.5.4 Syntax: DATA");
            return;
        }
        if (!e.hasSender()) {
            s.error(Envelope.NEED_MAIL);
            return;
        }
        if (e.recipients().isEmpty()) {
            // RFC 2033, section 4.2: DATA without a successful RCPT fails with 503
            s.error("503 5.5.1 Error: no valid recipients");
            return;
        }
        s.hold();
        asked = e.targetsWithRecipients();
        taking.clear();
        pending = asked.size();
        for (LmtpEnvelope.Target t : asked) {
            t.link.command("DATA", r -> s.later(() -> dataReply(t, r)));
        }
    }

    private void dataReply(LmtpEnvelope.Target t, SmtpReply r) {
        if (r.code() == 354) {
            taking.add(t);
        } else {
            // its recipients get this answer (a 2xx here is no answer to DATA: they count as lost)
            for (LmtpEnvelope.Recipient recipient : t.recipients) {
                recipient.reply = r.code() >= 400 ? r : TransactionBackend.LOST;
            }
        }
        if (--pending > 0) {
            return;
        }
        if (taking.isEmpty()) {
            // no backend takes the message: DATA gets one reply, the first backend's refusal
            SmtpReply refusal = e.recipients().get(0).reply;
            services.metrics().smtpMessage(listener, false, 0);
            s.forward(refusal.code() >= 400 ? refusal : TransactionBackend.LOST);
            e.reset(false);
            s.proceed();
            return;
        }
        bytes = 0;
        failure = null;
        s.reply("354 Start mail input; end with <CRLF>.<CRLF>");
        s.smtpDecoder().startData();
        s.startMessage();
        s.clientReading(e.allWritable());
    }

    /** Message bytes from the client (still owned by the caller). */
    void data(ByteBuf content) {
        int n = content.readableBytes();
        bytes += n;
        s.session().addBytesFromClient(n);
        if (failure != null) {
            return;
        }
        if (bytes > s.smtp.maxMessageSize()) {
            services.metrics().smtpRejected(listener, "size");
            failure = TOO_BIG_REPLY;
            // closing is how a partial message is abandoned: the backend never sees its end
            for (LmtpEnvelope.Target t : taking) {
                t.link.abort();
            }
            return;
        }
        boolean full = false;
        for (LmtpEnvelope.Target t : taking) {
            if (t.link.usable()) {
                t.link.data(content.retainedDuplicate());
                full |= !t.link.isWritable();
            }
        }
        if (full) {
            s.clientReading(false);
        }
    }

    /** The end of data ({@code CRLF.CRLF}): the final dot to each backend, then a reply per recipient. */
    void end() {
        s.hold();
        if (failure != null) {
            for (LmtpEnvelope.Recipient r : e.recipients()) {
                r.reply = failure;
            }
            answer();
            return;
        }
        List<LmtpEnvelope.Recipient> awaited = new ArrayList<>();
        for (LmtpEnvelope.Target t : taking) {
            if (!t.link.usable() || t.recipients.isEmpty()) {
                continue; // its recipients' replies stay empty: 451
            }
            for (int i = 0; i < t.recipients.size(); i++) {
                LmtpEnvelope.Recipient recipient = t.recipients.get(i);
                awaited.add(recipient);
                if (i == 0) {
                    t.link.commandThenData(".", r -> s.later(() -> finalReply(recipient, r)));
                } else {
                    t.link.awaitReply(r -> s.later(() -> finalReply(recipient, r)));
                }
            }
            t.link.flushAndWait();
        }
        pending = awaited.size();
        if (pending == 0) {
            answer();
        }
    }

    private void finalReply(LmtpEnvelope.Recipient recipient, SmtpReply r) {
        recipient.reply = r;
        if (--pending == 0) {
            answer();
        }
    }

    /** One reply per accepted recipient, in RCPT order; the transaction is over. */
    private void answer() {
        int delivered = 0;
        for (LmtpEnvelope.Recipient r : e.recipients()) {
            SmtpReply reply = r.reply == null ? TransactionBackend.LOST : r.reply;
            if (reply.positive()) {
                delivered++;
            }
            s.forward(reply);
        }
        for (LmtpEnvelope.Target t : taking) {
            // the end of data closed this backend's transaction, whatever it answered
            t.mailAccepted = false;
        }
        services.metrics().smtpMessage(listener, delivered > 0, bytes);
        log.debug(
                "{}: message of {} bytes delivered to {} of {} recipients",
                s.session(),
                bytes,
                delivered,
                e.recipients().size());
        taking.clear();
        asked = List.of();
        e.reset(false);
        s.proceed();
    }
}
