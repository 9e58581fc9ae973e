/**
 * The ManageSieve front end (RFC 5804): the pre-authentication session (capabilities, STARTTLS, AUTHENTICATE with
 * quoted or literal strings, NOOP, LOGOUT), the login dialogue with a ManageSieve backend, and the capability probe
 * at start, which learns the backend's Sieve extensions for the greeting. After a successful login the session is
 * spliced to the relay: the client manages its scripts on the backend directly.
 */
package dev.postern.proxy.managesieve;
