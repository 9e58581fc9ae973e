package dev.postern.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;

/**
 * The {@code auth} section as JSON, for {@link ConfigJson}: the providers (each in its type's keys), the cache and the
 * throttle. Every secret a provider holds (auth_http header values, LDAP bind and master passwords, a JWT HMAC
 * secret, an introspection client secret) is written as {@code "***"}.
 */
final class AuthJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private AuthJson() {}

    static ObjectNode toTree(AuthConfig auth) {
        ObjectNode n = MAPPER.createObjectNode();
        ArrayNode providers = n.putArray("providers");
        auth.providers().forEach(p -> providers.add(provider(p)));
        n.set("cache", cache(auth.cache()));
        auth.throttle().ifPresentOrElse(t -> n.set("throttle", throttle(t)), () -> n.put("throttle", "off"));
        return n;
    }

    private static ObjectNode provider(AuthProviderConfig p) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("name", p.name());
        if (p instanceof AuthProviderConfig.StaticFile s) {
            n.put("type", "static");
            n.put("file", s.file().toString());
            n.put("reload-check", ConfigJson.formatDuration(s.reloadCheck()));
        } else if (p instanceof AuthProviderConfig.Http h) {
            http(n, h);
        } else if (p instanceof LdapConfig l) {
            ldap(n, l);
        } else if (p instanceof JwtProviderConfig j) {
            jwt(n, j);
        } else if (p instanceof IntrospectionConfig i) {
            introspection(n, i);
        }
        return n;
    }

    private static void http(ObjectNode n, AuthProviderConfig.Http h) {
        n.put("type", "http");
        n.put("url", h.url().toString());
        n.put("timeout", ConfigJson.formatDuration(h.timeout()));
        // the configured headers are there to carry a shared secret: every value is one
        ObjectNode headers = n.putObject("headers");
        h.headers().keySet().stream().sorted().forEach(k -> headers.put(k, ConfigJson.REDACTED));
        n.put("tls-verify", h.tlsVerify());
        n.put("max-connections", h.maxConnections());
    }

    private static void ldap(ObjectNode n, LdapConfig l) {
        n.put("type", "ldap");
        ArrayNode servers = n.putArray("servers");
        l.servers().forEach(s -> servers.add(s.toString()));
        n.put("starttls", l.startTls());
        n.put("tls-verify", l.tlsVerify());
        l.ca().ifPresent(ca -> n.put("ca", ca.toString()));
        l.bindDnTemplate().ifPresent(t -> n.put("bind-dn-template", t));
        l.search().ifPresent(s -> {
            ObjectNode search = n.putObject("search");
            search.put("base", s.base());
            search.put("filter", s.filter());
            search.put("scope", ConfigNames.of(s.scope()));
            s.bindDn().ifPresent(dn -> search.put("bind-dn", dn));
            s.bindPassword().ifPresent(pw -> search.put("bind-password", ConfigJson.REDACTED));
        });
        ObjectNode attributes = n.putObject("attributes");
        LdapConfig.Attributes a = l.attributes();
        putPresent(attributes, "pool", a.pool());
        putPresent(attributes, "host", a.host());
        putPresent(attributes, "port", a.port());
        putPresent(attributes, "user", a.user());
        putPresent(attributes, "master", a.master());
        l.masterPassword().ifPresent(pw -> n.put("master-password", ConfigJson.REDACTED));
        n.put("connect-timeout", ConfigJson.formatDuration(l.connectTimeout()));
        n.put("timeout", ConfigJson.formatDuration(l.timeout()));
        n.put("pool-size", l.poolSize());
        n.put("health-check-interval", ConfigJson.formatDuration(l.healthCheckInterval()));
    }

    private static void jwt(ObjectNode n, JwtProviderConfig j) {
        n.put("type", "jwt");
        n.put("jwks", j.jwksUrl().map(Object::toString).orElseGet(() -> j.jwksFile()
                .orElseThrow()
                .toString()));
        n.put("issuer", j.issuer());
        n.put("audience", j.audience());
        ArrayNode algorithms = n.putArray("algorithms");
        j.algorithms().forEach(algorithms::add);
        n.put("user-claim", j.userClaim());
        n.put("clock-skew", ConfigJson.formatDuration(j.clockSkew()));
        n.put("timeout", ConfigJson.formatDuration(j.timeout()));
        n.put("tls-verify", j.tlsVerify());
        j.hmacSecret().ifPresent(s -> n.put("hmac-secret", ConfigJson.REDACTED));
        bearerError(n, j.bearerError());
    }

    private static void introspection(ObjectNode n, IntrospectionConfig i) {
        n.put("type", "oauth2-introspection");
        n.put("url", i.url().toString());
        n.put("client-id", i.clientId());
        n.put("client-secret", ConfigJson.REDACTED);
        putPresent(n, "issuer", i.issuer());
        putPresent(n, "audience", i.audience());
        putPresent(n, "user-claim", i.userClaim());
        n.put("clock-skew", ConfigJson.formatDuration(i.clockSkew()));
        n.put("timeout", ConfigJson.formatDuration(i.timeout()));
        n.put("tls-verify", i.tlsVerify());
        n.put("cache-ttl", ConfigJson.formatDuration(i.cacheTtl()));
        n.put("negative-ttl", ConfigJson.formatDuration(i.negativeTtl()));
        bearerError(n, i.bearerError());
    }

    private static void bearerError(ObjectNode n, BearerErrorConfig e) {
        putPresent(n, "scope", e.scope());
        e.openidConfiguration().ifPresent(u -> n.put("openid-configuration", u.toString()));
    }

    private static ObjectNode cache(CacheConfig c) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("size", c.size());
        n.put("ttl", ConfigJson.formatDuration(c.ttl()));
        n.put("negative-ttl", ConfigJson.formatDuration(c.negativeTtl()));
        n.put("refresh-after", ConfigJson.formatDuration(c.refreshAfter()));
        n.put("stale-if-error", ConfigJson.formatDuration(c.staleIfError()));
        return n;
    }

    private static ObjectNode throttle(ThrottleConfig t) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("window", ConfigJson.formatDuration(t.window()));
        n.put("ipv6-prefix", t.ipv6Prefix());
        n.put("max-failures-per-address", t.maxFailuresPerAddress());
        n.put("max-failures-per-user", t.maxFailuresPerUser());
        n.put("max-failures-per-user-address", t.maxFailuresPerUserAddress());
        n.put("block", ConfigJson.formatDuration(t.block()));
        // delay-base and delay-cap are a way to write delays: the list is what they come to
        ArrayNode delays = n.putArray("delays");
        t.delays().forEach(d -> delays.add(ConfigJson.formatDuration(d)));
        ArrayNode trusted = n.putArray("trusted-networks");
        t.trustedNetworks().forEach(c -> trusted.add(c.toString()));
        n.put("max-tracked", t.maxTracked());
        n.put("shared", t.shared());
        return n;
    }

    private static void putPresent(ObjectNode n, String key, Optional<String> value) {
        value.ifPresent(v -> n.put(key, v));
    }
}
