package dev.postern.admin;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** Path segments in URLs the API writes ({@code Location}). */
final class Paths {
    private Paths() {}

    /** Percent-encodes one path segment. */
    static String encode(String segment) {
        // URLEncoder is for forms: a space becomes '+', which in a path must be %20
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
