package dev.postern.config;

import java.util.Locale;

/** The protocol a listener speaks to its clients. {@code TCP} relays bytes without looking at them. */
public enum Protocol {
    IMAP,
    POP3,
    /** RFC 5804 (default port 4190). */
    MANAGESIEVE,
    SMTP,
    TCP;

    /** The name used in configuration files and metric labels. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
