package dev.postern.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code ldap} provider: a directory that authenticates users by binding as them, either with a DN built from a
 * template ({@link Mode#BIND_AS_USER}) or with the DN of the one entry a search finds ({@link Mode#SEARCH_THEN_BIND}).
 * Entry attributes may route the user and name the backend login.
 *
 * <p>Templates hold {@code %u} (the whole user name), {@code %n} (its part before {@code @}), {@code %d} (its part
 * after {@code @}) and {@code %%}; the provider escapes each value for where it goes (RFC 4514 in a DN, RFC 4515 in a
 * filter).
 *
 * @param name the provider's name
 * @param servers {@code ldap://} or {@code ldaps://} URLs, tried in order (failover)
 * @param startTls upgrade {@code ldap://} connections with StartTLS before anything else is sent
 * @param tlsVerify check the directory's certificate and host name (ldaps and StartTLS)
 * @param ca a PEM file of the CAs to trust instead of the system's
 * @param bindDnTemplate the user's DN (bind-as-user mode), or empty in search mode
 * @param search how to find the user's entry (search-then-bind mode), or empty
 * @param attributes which entry attributes answer what
 * @param masterPassword the password of the master users named by {@link Attributes#master()}
 * @param connectTimeout connecting (and TLS) at most
 * @param timeout one operation (bind, search) at most; then the login gets a temporary error
 * @param poolSize connections per pool (one pool for searches, one for user binds)
 * @param healthCheckInterval how often idle pooled connections are checked
 */
public record LdapConfig(
        String name,
        List<URI> servers,
        boolean startTls,
        boolean tlsVerify,
        Optional<Path> ca,
        Optional<String> bindDnTemplate,
        Optional<Search> search,
        Attributes attributes,
        Optional<Secret> masterPassword,
        Duration connectTimeout,
        Duration timeout,
        int poolSize,
        Duration healthCheckInterval)
        implements AuthProviderConfig {

    /** How a user's DN is found. */
    public enum Mode {
        BIND_AS_USER,
        SEARCH_THEN_BIND
    }

    /** A search's scope below its base. */
    public enum Scope {
        BASE,
        ONE,
        SUB
    }

    public LdapConfig {
        Objects.requireNonNull(name, "name");
        servers = List.copyOf(servers);
        Objects.requireNonNull(ca, "ca");
        Objects.requireNonNull(attributes, "attributes");
        Objects.requireNonNull(masterPassword, "masterPassword");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(healthCheckInterval, "healthCheckInterval");
        if (bindDnTemplate.isPresent() == search.isPresent()) {
            throw new IllegalArgumentException("exactly one of bindDnTemplate and search");
        }
    }

    public Mode mode() {
        return search.isPresent() ? Mode.SEARCH_THEN_BIND : Mode.BIND_AS_USER;
    }

    /**
     * The search of search-then-bind mode: exactly one entry must match.
     *
     * @param base where the search starts
     * @param filter the filter template, e.g. {@code (&(objectClass=inetOrgPerson)(mail=%u))}
     * @param scope how deep below the base
     * @param bindDn the service account that searches, or empty for an anonymous search
     * @param bindPassword its password, never logged
     */
    public record Search(
            String base, String filter, Scope scope, Optional<String> bindDn, Optional<Secret> bindPassword) {
        public Search {
            Objects.requireNonNull(base, "base");
            Objects.requireNonNull(filter, "filter");
            Objects.requireNonNull(scope, "scope");
            if (bindDn.isPresent() != bindPassword.isPresent()) {
                throw new IllegalArgumentException("bindDn and bindPassword go together");
            }
        }

        @Override
        public String toString() {
            return "Search[base=" + base + ", filter=" + filter + ", scope=" + scope + ", bindDn=" + bindDn.orElse("")
                    + ", bindPassword=***]";
        }
    }

    /**
     * Attribute names of the user's entry, each optional.
     *
     * @param pool a pool to route the user to
     * @param host a backend host for the user
     * @param port the backend's port (with {@code host})
     * @param user the name to log in with on the backend
     * @param master a master user to log in as on the backend, on the user's behalf, with the provider's
     *     {@code master-password}
     */
    public record Attributes(
            Optional<String> pool,
            Optional<String> host,
            Optional<String> port,
            Optional<String> user,
            Optional<String> master) {
        public static final Attributes NONE = new Attributes(
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());

        /** The names to ask the directory for. */
        public List<String> names() {
            return java.util.stream.Stream.of(pool, host, port, user, master)
                    .flatMap(Optional::stream)
                    .distinct()
                    .toList();
        }
    }

    /** Whether connections use TLS at all (ldaps or StartTLS). */
    public boolean usesTls() {
        return startTls || servers.stream().anyMatch(u -> "ldaps".equalsIgnoreCase(u.getScheme()));
    }

    @Override
    public String toString() {
        return "LdapConfig[name=" + name + ", servers=" + servers + ", startTls=" + startTls + ", tlsVerify="
                + tlsVerify
                + ", ca=" + ca.map(Path::toString).orElse("") + ", bindDnTemplate=" + bindDnTemplate.orElse("")
                + ", search=" + search.map(Search::toString).orElse("") + ", attributes=" + attributes
                + ", masterPassword=" + (masterPassword.isPresent() ? "***" : "") + ", connectTimeout=" + connectTimeout
                + ", timeout=" + timeout + ", poolSize=" + poolSize + ", healthCheckInterval=" + healthCheckInterval
                + "]";
    }
}
