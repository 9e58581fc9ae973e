/**
 * The IMAP front end (RFC 9051 and 3501, with STARTTLS per RFC 2595, SASL-IR per RFC 4959, LITERAL+ per RFC 7888 and
 * ID per RFC 2971): a decoder for commands with quoted strings and literals, the pre-authentication session, and the
 * backend login dialogue. After login the session is relayed byte for byte.
 */
package dev.postern.proxy.imap;
