package dev.postern.proxy.auth;

import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.LDAPSearchException;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResult;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import dev.postern.config.LdapConfig;
import dev.postern.proxy.sasl.Credentials;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code ldap} provider: a directory decides by letting the user bind, at the DN a template names or at the DN of
 * the one entry a search (as the service account) finds; the entry's attributes may route the user and name the
 * backend login ({@link LdapConfig.Attributes}).
 *
 * <p>The SDK's calls block (its pool checkout and bind have no asynchronous form), so each login runs on this
 * provider's own small bounded executor, never on an event loop; every call is bounded by the configured timeouts, and
 * a full queue answers at once with a temporary failure. A directory that cannot be reached, times out or is busy is a
 * temporary failure (the client gets the protocol's "try later", the cache may answer from its last good result);
 * only the directory saying no (invalid credentials, or more than one entry) is a refusal. A search that finds no one
 * leaves the user to the next provider.
 */
public final class LdapProvider implements AuthProvider {
    private static final Logger log = LoggerFactory.getLogger(LdapProvider.class);
    /** Logins waiting for a thread at most; more are answered "try later" at once. */
    private static final int QUEUE = 512;

    private final String name;
    private final LdapConfig config;
    private final LdapConnections connections;
    private final ThreadPoolExecutor executor;
    private final String[] attributes;

    /** Why the provider cannot start (an unusable CA file); the message names the provider. */
    public static final class SetupException extends Exception {
        private static final long serialVersionUID = 1L;

        SetupException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public LdapProvider(LdapConfig config) throws SetupException {
        this.name = config.name();
        this.config = config;
        try {
            this.connections = LdapConnections.open(config);
        } catch (GeneralSecurityException | IOException | LDAPException e) {
            throw new SetupException("auth provider '" + name + "': " + e.getMessage(), e);
        }
        // one thread per pooled connection of each pool: more threads would only wait for a connection
        int threads = config.poolSize() * (config.mode() == LdapConfig.Mode.SEARCH_THEN_BIND ? 2 : 1);
        this.executor = new ThreadPoolExecutor(
                threads,
                threads,
                60,
                TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUE),
                new DefaultThreadFactory("postern-auth-ldap-" + name, true),
                new ThreadPoolExecutor.AbortPolicy());
        executor.allowCoreThreadTimeOut(true);
        this.attributes = config.attributes().names().toArray(String[]::new);
        log.info(
                "auth provider '{}': ldap {} on {}",
                name,
                config.mode() == LdapConfig.Mode.SEARCH_THEN_BIND ? "search then bind" : "bind as the user",
                config.servers());
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public CompletionStage<Optional<AuthResult>> authenticate(AuthRequest request) {
        Credentials credentials = request.credentials();
        // a certificate login has no password to bind with: another provider of the chain (a users file, auth_http)
        // decides it, or none does and it fails
        if (credentials.isToken() || credentials.isExternal()) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        if (credentials.secret().isEmpty() || credentials.user().isEmpty()) {
            // an empty password is an unauthenticated bind (RFC 4513 5.1.2): many directories answer it with success
            return CompletableFuture.completedFuture(Optional.of(rejected("empty user or password")));
        }
        try {
            return CompletableFuture.supplyAsync(() -> decide(request), executor);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(
                    Optional.of(temporary("too many logins waiting for the directory")));
        }
    }

    /** Runs on the executor. */
    private Optional<AuthResult> decide(AuthRequest request) {
        Credentials c = request.credentials();
        String user = c.user();
        try {
            SearchResultEntry entry = null;
            String dn;
            if (config.search().isPresent()) {
                Optional<SearchResultEntry> found = find(config.search().get(), user);
                if (found == null) {
                    return Optional.of(rejected("more than one directory entry matches"));
                }
                if (found.isEmpty()) {
                    log.debug("auth provider '{}': no entry for {}", name, user);
                    return Optional.empty();
                }
                entry = found.get();
                dn = entry.getDN();
            } else {
                dn = LdapEscaping.expand(config.bindDnTemplate().orElseThrow(), user, LdapEscaping::dnValue);
            }
            LdapAnswer.Bind bind = bind(dn, c.secret(), entry == null && attributes.length > 0);
            if (bind.refusal() != null) {
                log.debug("auth provider '{}': bind as {} refused: {}", name, dn, bind.refusal());
                return Optional.of(rejected(bind.refusal()));
            }
            String authzid = c.authzid();
            if (!authzid.isEmpty() && !authzid.equalsIgnoreCase(user)) {
                return Optional.of(rejected("may not act as another user"));
            }
            return Optional.of(LdapAnswer.accepted(config, c, entry != null ? entry : bind.entry()));
        } catch (LDAPException e) {
            // the message names the server and the result, never a password (the SDK does not echo bind passwords)
            log.warn(
                    "auth provider '{}': directory unavailable for {} ({}: {})",
                    name,
                    user,
                    e.getResultCode(),
                    e.getExceptionMessage());
            return Optional.of(temporary("directory unavailable: " + e.getResultCode()));
        }
    }

    /** The one entry the search finds, empty for none, null for more than one. */
    private Optional<SearchResultEntry> find(LdapConfig.Search search, String user) throws LDAPException {
        Filter filter = Filter.create(LdapEscaping.expand(search.filter(), user, LdapEscaping::filterValue));
        SearchRequest request = new SearchRequest(search.base(), scope(search.scope()), filter, attributes);
        request.setSizeLimit(2);
        request.setTimeLimitSeconds((int) Math.max(1, config.timeout().toSeconds()));
        SearchResult result;
        try {
            result = connections.searches().search(request);
        } catch (LDAPSearchException e) {
            if (e.getResultCode() == ResultCode.SIZE_LIMIT_EXCEEDED) {
                log.warn("auth provider '{}': more than one entry matches {}; refused", name, user);
                return null;
            }
            // a missing base (NO_SUCH_OBJECT) included: the directory is not what the configuration says, which is
            // not the user's fault
            throw e;
        }
        if (result.getEntryCount() > 1) {
            log.warn("auth provider '{}': more than one entry matches {}; refused", name, user);
            return null;
        }
        return result.getEntryCount() == 0
                ? Optional.empty()
                : Optional.of(result.getSearchEntries().get(0));
    }

    /**
     * Binds as {@code dn} on a connection of the bind pool; with {@code read}, then reads the entry's attributes as the
     * user. A refusal is an answer; anything else that goes wrong is thrown (temporary).
     */
    private LdapAnswer.Bind bind(String dn, String password, boolean read) throws LDAPException {
        try {
            return bindOnce(dn, password, read);
        } catch (LDAPException e) {
            if (ResultCode.isConnectionUsable(e.getResultCode())) {
                throw e;
            }
            // a pooled connection the directory closed since (restart, idle timeout): once more on a fresh one, so
            // the user does not pay for it; a directory that is really down fails this one too
            return bindOnce(dn, password, read);
        }
    }

    private LdapAnswer.Bind bindOnce(String dn, String password, boolean read) throws LDAPException {
        LDAPConnectionPool pool = connections.binds();
        LDAPConnection connection = pool.getConnection();
        try {
            connection.bind(dn, password);
            SearchResultEntry entry = read ? connection.getEntry(dn, attributes) : null;
            pool.releaseConnection(connection);
            return new LdapAnswer.Bind(null, entry);
        } catch (LDAPException e) {
            if (!ResultCode.isConnectionUsable(e.getResultCode())) {
                pool.releaseDefunctConnection(connection);
                throw e;
            }
            pool.releaseConnection(connection);
            String refusal = LdapAnswer.refusal(e.getResultCode());
            if (refusal == null) {
                throw e;
            }
            return new LdapAnswer.Bind(refusal, null);
        } catch (RuntimeException e) {
            pool.releaseDefunctConnection(connection);
            throw e;
        }
    }

    private static SearchScope scope(LdapConfig.Scope scope) {
        return switch (scope) {
            case BASE -> SearchScope.BASE;
            case ONE -> SearchScope.ONE;
            case SUB -> SearchScope.SUB;
        };
    }

    private static AuthResult rejected(String reason) {
        return new AuthResult.Rejected(reason, false, Duration.ZERO);
    }

    private static AuthResult temporary(String reason) {
        return new AuthResult.Rejected(reason, true, Duration.ZERO);
    }

    @Override
    public void close() {
        executor.shutdownNow();
        connections.close();
    }
}
