package dev.postern.proxy.lmtp;

import dev.postern.config.Protocol;
import dev.postern.proxy.smtp.TransactionBackend;

/**
 * A connection to a backend LMTP server (Dovecot's lmtp, Cyrus): the SMTP family's transaction connection with
 * LMTP's greeting command {@code LHLO} (RFC 2033, section 4.1), {@code XCLIENT PROTO=LMTP}, and the keywords recorded
 * under LMTP. The end of data is answered once per accepted recipient ({@link #awaitReply}).
 */
final class LmtpBackend extends TransactionBackend {
    LmtpBackend(Setup setup) {
        super(setup, true);
    }

    @Override
    protected String helloVerb() {
        return "LHLO";
    }

    @Override
    protected Protocol keywordsProtocol() {
        return Protocol.LMTP;
    }

    @Override
    protected String xclientProto() {
        return "LMTP";
    }
}
