/**
 * The LMTP front end (RFC 2033) for the MTA side of delivery: Postfix's {@code lmtp:} transport (or any LMTP client)
 * hands each message to Postern, which routes every recipient like a login of that user and holds one backend LMTP
 * transaction per backend with the recipients that backend holds. After the end of data the MTA gets one reply per
 * accepted recipient, in the order of its RCPT commands, each the reply of that recipient's backend. Built from the
 * SMTP family's shared pieces in {@code smtp}: the decoder, the path parser, the backend handshake and transaction
 * connection.
 */
package dev.postern.proxy.lmtp;
