package dev.postern.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/** Reads one {@code type: ldap} provider of the {@code auth} section (see {@link LdapConfig}). */
final class LdapReader {
    static final List<String> KEYS = List.of(
            "name",
            "type",
            "servers",
            "starttls",
            "tls-verify",
            "ca",
            "bind-dn-template",
            "search",
            "attributes",
            "master-password",
            "connect-timeout",
            "timeout",
            "pool-size",
            "health-check-interval");
    static final List<String> SEARCH_KEYS = List.of("base", "filter", "scope", "bind-dn", "bind-password");
    static final List<String> ATTRIBUTE_KEYS = List.of("pool", "host", "port", "user", "master");

    /** An attribute description: a name (with options) or an OID (RFC 4512). */
    private static final Pattern ATTRIBUTE =
            Pattern.compile("[A-Za-z][A-Za-z0-9-]*(;[A-Za-z0-9-]+)*|[0-9]+(\\.[0-9]+)+");

    private static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration DEFAULT_HEALTH_CHECK = Duration.ofSeconds(30);
    private static final int DEFAULT_POOL_SIZE = 8;

    private LdapReader() {}

    /** The provider; null when something in it is invalid (reported). */
    static LdapConfig read(Node element, String name, boolean keysValid) {
        boolean valid = keysValid;
        List<URI> servers = servers(element.get("servers").required());
        Node startTlsNode = element.get("starttls");
        Boolean startTls = startTlsNode.isPresent() ? startTlsNode.bool() : Boolean.FALSE;
        Node verifyNode = element.get("tls-verify");
        Boolean verify = verifyNode.isPresent() ? verifyNode.bool() : Boolean.TRUE;
        Node caNode = element.get("ca");
        Path ca = caNode.isPresent() ? caNode.readableFile() : null;
        valid &= !caNode.isPresent() || ca != null;

        Node templateNode = element.get("bind-dn-template");
        Node searchNode = element.get("search");
        String template = null;
        LdapConfig.Search search = null;
        if (templateNode.isPresent() == searchNode.isPresent()) {
            element.problem(
                    templateNode.isPresent()
                            ? "has both bind-dn-template and search; choose one (bind as the user, or search then bind)"
                            : "needs bind-dn-template (bind as the user) or search (search then bind)");
            valid = false;
        } else if (templateNode.isPresent()) {
            template = template(templateNode, "a DN template such as uid=%n,ou=people,dc=example,dc=test");
            valid &= template != null;
        } else {
            search = search(searchNode);
            valid &= search != null;
        }

        LdapConfig.Attributes attributes = attributes(element.get("attributes"));
        Node masterNode = element.get("master-password");
        Secret master = masterNode.isPresent() ? masterNode.secret() : null;
        valid &= attributes != null && (!masterNode.isPresent() || master != null);
        if (attributes != null) {
            if (attributes.master().isPresent() && !masterNode.isPresent()) {
                element.get("attributes")
                        .get("master")
                        .problem("names master users, so the provider needs master-password (their password)");
                valid = false;
            } else if (attributes.master().isEmpty() && masterNode.isPresent()) {
                masterNode.problem("is used only with attributes.master (the attribute naming the master user)");
                valid = false;
            }
            if (attributes.port().isPresent() && attributes.host().isEmpty()) {
                element.get("attributes").get("port").problem("is a backend's port, so it needs attributes.host");
                valid = false;
            }
        }

        Duration connectTimeout = duration(element.get("connect-timeout"), DEFAULT_CONNECT_TIMEOUT);
        Duration timeout = duration(element.get("timeout"), DEFAULT_TIMEOUT);
        Duration healthCheck = duration(element.get("health-check-interval"), DEFAULT_HEALTH_CHECK);
        Node poolNode = element.get("pool-size");
        Integer poolSize = poolNode.isPresent() ? poolNode.integer(1, 1000) : Integer.valueOf(DEFAULT_POOL_SIZE);

        if (servers != null && startTls != null && startTls) {
            for (int i = 0; i < servers.size(); i++) {
                if ("ldaps".equals(servers.get(i).getScheme())) {
                    element.get("servers")
                            .list()
                            .get(i)
                            .problem(
                                    "'" + servers.get(i) + "' is TLS from the start; starttls: true is for ldap:// only"
                                            + " (use ldap:// here, or drop starttls)");
                    valid = false;
                }
            }
        }
        if (servers != null && startTls != null && ca != null) {
            boolean tls = startTls || servers.stream().anyMatch(u -> "ldaps".equals(u.getScheme()));
            if (!tls) {
                caNode.problem("is used only with ldaps:// servers or starttls: true");
                valid = false;
            }
        }
        if (!valid
                || name == null
                || servers == null
                || startTls == null
                || verify == null
                || connectTimeout == null
                || timeout == null
                || healthCheck == null
                || poolSize == null) {
            return null;
        }
        return new LdapConfig(
                name,
                servers,
                startTls,
                verify,
                Optional.ofNullable(ca),
                Optional.ofNullable(template),
                Optional.ofNullable(search),
                attributes,
                Optional.ofNullable(master),
                connectTimeout,
                timeout,
                poolSize,
                healthCheck);
    }

    private static List<URI> servers(Node node) {
        List<Node> elements = node.nonEmptyList("ldap:// or ldaps:// URLs, tried in order");
        if (!node.isPresent() || elements.isEmpty()) {
            return null;
        }
        List<URI> servers = new ArrayList<>();
        boolean valid = true;
        for (Node element : elements) {
            URI uri = server(element);
            if (uri == null) {
                valid = false;
            } else {
                servers.add(uri);
            }
        }
        return valid ? servers : null;
    }

    private static URI server(Node node) {
        String text = node.string("an ldap:// or ldaps:// URL");
        if (text == null) {
            return null;
        }
        URI uri = Urls.parse(
                node,
                text,
                List.of("ldap", "ldaps"),
                "an ldap:// or ldaps:// URL",
                "has user info (user@); the service account belongs in search.bind-dn");
        if (uri == null) {
            return null;
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        String path = uri.getRawPath();
        if ((path != null && !path.isEmpty() && !path.equals("/")) || uri.getRawQuery() != null) {
            node.problem("'" + text + "' has a DN or query; only scheme, host and port are used (the base DN goes in"
                    + " search.base)");
            return null;
        }
        int port = uri.getPort() > 0 ? uri.getPort() : scheme.equals("ldaps") ? 636 : 389;
        try {
            return new URI(scheme, null, uri.getHost(), port, null, null, null);
        } catch (URISyntaxException e) {
            node.problem("'" + text + "' is not a URL (" + e.getReason() + ")");
            return null;
        }
    }

    private static LdapConfig.Search search(Node node) {
        if (!node.isMapping(SEARCH_KEYS)) {
            return null;
        }
        String base = nonBlank(node.get("base").required(), "the DN the search starts at");
        String filter =
                template(node.get("filter").required(), "a filter such as (&(objectClass=inetOrgPerson)(mail=%u))");
        if (filter != null && !filterShaped(filter)) {
            node.get("filter")
                    .problem("'" + filter + "' is not an LDAP filter (it must be in parentheses, with balanced"
                            + " parentheses, e.g. (mail=%u))");
            filter = null;
        }
        Node scopeNode = node.get("scope");
        LdapConfig.Scope scope = scopeNode.isPresent() ? scopeNode.oneOf(LdapConfig.Scope.class) : LdapConfig.Scope.SUB;
        Node dnNode = node.get("bind-dn");
        Node passwordNode = node.get("bind-password");
        String bindDn = dnNode.isPresent() ? nonBlank(dnNode, "the service account's DN") : null;
        Secret password = passwordNode.isPresent() ? passwordNode.secret() : null;
        boolean valid = (!dnNode.isPresent() || bindDn != null) && (!passwordNode.isPresent() || password != null);
        if (dnNode.isPresent() != passwordNode.isPresent()) {
            (dnNode.isPresent() ? passwordNode : dnNode)
                    .problem("is required with " + (dnNode.isPresent() ? "bind-dn" : "bind-password")
                            + " (omit both for an anonymous search)");
            valid = false;
        }
        if (!valid || base == null || filter == null || scope == null) {
            return null;
        }
        return new LdapConfig.Search(base, filter, scope, Optional.ofNullable(bindDn), Optional.ofNullable(password));
    }

    private static LdapConfig.Attributes attributes(Node node) {
        if (!node.isMapping(ATTRIBUTE_KEYS)) {
            return node.isPresent() ? null : LdapConfig.Attributes.NONE;
        }
        boolean valid = true;
        List<Optional<String>> values = new ArrayList<>();
        for (String key : ATTRIBUTE_KEYS) {
            Node a = node.get(key);
            if (!a.isPresent()) {
                values.add(Optional.empty());
                continue;
            }
            String text = a.string("an attribute name");
            if (text == null) {
                valid = false;
            } else if (!ATTRIBUTE.matcher(text).matches()) {
                a.problem("'" + text + "' is not an attribute name (letters, digits and '-', or an OID)");
                valid = false;
            }
            values.add(Optional.ofNullable(text));
        }
        if (!valid) {
            return null;
        }
        return new LdapConfig.Attributes(values.get(0), values.get(1), values.get(2), values.get(3), values.get(4));
    }

    /** A template with at least one user placeholder and no unknown ones. */
    private static String template(Node node, String what) {
        String text = nonBlank(node, what);
        if (text == null) {
            return null;
        }
        boolean user = false;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) != '%') {
                continue;
            }
            char next = i + 1 < text.length() ? text.charAt(i + 1) : ' ';
            if (next == 'u' || next == 'n' || next == 'd') {
                user = true;
            } else if (next != '%') {
                node.problem("'" + text + "' has '%" + (next == ' ' ? "" : String.valueOf(next))
                        + "', which is not a placeholder (%u the user, %n its part before @, %d after @, %% a %)");
                return null;
            }
            i++;
        }
        if (!user) {
            node.problem("'" + text + "' does not mention the user (%u, %n or %d)");
            return null;
        }
        return text;
    }

    private static boolean filterShaped(String filter) {
        if (!filter.startsWith("(") || !filter.endsWith(")")) {
            return false;
        }
        int depth = 0;
        for (int i = 0; i < filter.length(); i++) {
            char c = filter.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
                if (depth < 0 || (depth == 0 && i != filter.length() - 1)) {
                    return false; // unbalanced, or two filters side by side without & or |
                }
            }
        }
        return depth == 0;
    }

    private static String nonBlank(Node node, String what) {
        String text = node.string(what);
        if (text != null && text.isBlank()) {
            node.problem("is empty (" + what + ")");
            return null;
        }
        return text;
    }

    private static Duration duration(Node node, Duration fallback) {
        return node.isPresent() ? node.duration(true) : fallback;
    }
}
