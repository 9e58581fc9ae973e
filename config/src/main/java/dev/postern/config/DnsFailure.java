package dev.postern.config;

/**
 * What the SMTP edge does when a DNS check cannot be made (the resolver or the list does not answer, SPF's
 * {@code temperror}).
 */
public enum DnsFailure {
    /** Fail open: the check counts as passed (a list that did not answer does not list the client). */
    ACCEPT,
    /** Fail closed: the client gets a temporary failure and tries again later. */
    TEMPFAIL
}
