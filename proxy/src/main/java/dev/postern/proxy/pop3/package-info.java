/**
 * The POP3 front end (RFC 1939, 2449, 5034, 2595): the pre-authentication session (greeting, CAPA, STLS, USER/PASS,
 * AUTH), the login dialogue with a POP3 backend, and the capability probe at start. After a successful login the
 * session is spliced to the relay and Postern reads nothing more of it.
 */
package dev.postern.proxy.pop3;
