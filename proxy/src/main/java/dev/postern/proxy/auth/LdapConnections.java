package dev.postern.proxy.auth;

import com.unboundid.ldap.sdk.BindRequest;
import com.unboundid.ldap.sdk.FailoverServerSet;
import com.unboundid.ldap.sdk.GetEntryLDAPConnectionPoolHealthCheck;
import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.OperationType;
import com.unboundid.ldap.sdk.ServerSet;
import com.unboundid.ldap.sdk.SimpleBindRequest;
import com.unboundid.ldap.sdk.SingleServerSet;
import com.unboundid.ldap.sdk.StartTLSPostConnectProcessor;
import com.unboundid.util.ssl.TrustAllTrustManager;
import dev.postern.config.LdapConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * The connection pools of one {@code ldap} provider, over the configured servers in failover order: one pool for
 * searches (bound as the service account, or anonymous) and one for user binds. A user bind changes who its connection
 * is authenticated as; on the bind pool nothing but binds ever runs, so a connection left authenticated as the last
 * user cannot read or search on anyone's behalf. Both pools check idle connections in the background (reading the
 * root DSE) and drop one that failed; connections are made on demand, so Postern starts while the directory is down.
 */
final class LdapConnections implements AutoCloseable {
    private final LDAPConnectionPool searches;
    private final LDAPConnectionPool binds;

    private LdapConnections(LDAPConnectionPool searches, LDAPConnectionPool binds) {
        this.searches = searches;
        this.binds = binds;
    }

    /**
     * Opens the pools (no connection yet).
     *
     * @throws GeneralSecurityException when the CA file cannot be used
     * @throws IOException when the CA file cannot be read
     */
    static LdapConnections open(LdapConfig config) throws GeneralSecurityException, IOException, LDAPException {
        SSLContext tls = config.usesTls() ? tlsContext(config) : null;
        LDAPConnectionOptions options = new LDAPConnectionOptions();
        options.setConnectTimeoutMillis(
                (int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis()));
        options.setResponseTimeoutMillis(config.timeout().toMillis());
        // a timed-out request is abandoned, so the directory stops working on it too
        options.setAbandonOnTimeout(true);
        // the host name is checked in the handshake by LdapTlsSockets, not by the SDK's verifier (see there why)
        List<ServerSet> servers = new ArrayList<>();
        for (URI server : config.servers()) {
            boolean ldaps = "ldaps".equals(server.getScheme());
            LdapTlsSockets sockets = tls == null
                    ? null
                    : LdapTlsSockets.forServer(
                            tls, hostOf(server), config.tlsVerify(), options.getConnectTimeoutMillis());
            servers.add(new SingleServerSet(
                    hostOf(server),
                    server.getPort(),
                    ldaps ? sockets : null,
                    options,
                    null,
                    !ldaps && config.startTls() ? new StartTLSPostConnectProcessor(sockets) : null));
        }
        ServerSet failover = servers.size() == 1 ? servers.get(0) : new FailoverServerSet(servers);
        BindRequest service = config.search()
                .flatMap(s -> s.bindDn().map(dn -> (BindRequest)
                        new SimpleBindRequest(dn, s.bindPassword().orElseThrow().reveal())))
                .orElse(null);
        LDAPConnectionPool searches =
                config.mode() == LdapConfig.Mode.SEARCH_THEN_BIND ? pool(config, failover, service, "search") : null;
        LDAPConnectionPool binds;
        try {
            binds = pool(config, failover, null, "bind");
        } catch (LDAPException | RuntimeException e) {
            if (searches != null) {
                searches.close();
            }
            throw e;
        }
        return new LdapConnections(searches, binds);
    }

    private static LDAPConnectionPool pool(LdapConfig config, ServerSet servers, BindRequest bind, String role)
            throws LDAPException {
        LDAPConnectionPool pool = new LDAPConnectionPool(servers, bind, 0, config.poolSize(), null, false);
        pool.setConnectionPoolName("postern-ldap-" + config.name() + "-" + role);
        pool.setMaxWaitTimeMillis(config.timeout().toMillis());
        pool.setCreateIfNecessary(true);
        pool.setHealthCheckIntervalMillis(config.healthCheckInterval().toMillis());
        // root DSE read in the background and after an error; never on checkout, which would double each login's cost
        pool.setHealthCheck(new GetEntryLDAPConnectionPoolHealthCheck(
                "", config.timeout().toMillis(), false, false, false, false, true, true));
        // a connection the directory closed since (restart, idle timeout) is replaced once, not failed to the user
        pool.setRetryFailedOperationsDueToInvalidConnections(EnumSet.of(OperationType.BIND, OperationType.SEARCH));
        return pool;
    }

    private static SSLContext tlsContext(LdapConfig config) throws GeneralSecurityException, IOException {
        TrustManager[] trust;
        if (!config.tlsVerify()) {
            trust = new TrustManager[] {new TrustAllTrustManager()};
        } else {
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(config.ca().isPresent() ? trustStore(config.ca().get()) : null);
            trust = factory.getTrustManagers();
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust, null);
        return context;
    }

    /** The host as configured, an IPv6 literal without its brackets. */
    private static String hostOf(URI server) {
        String host = server.getHost();
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    private static KeyStore trustStore(Path pem) throws GeneralSecurityException, IOException {
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(pem)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
        if (certificates.isEmpty()) {
            throw new GeneralSecurityException(pem + " holds no certificate");
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int i = 0;
        for (Certificate c : certificates) {
            store.setCertificateEntry("ca-" + i++, c);
        }
        return store;
    }

    /** The pool searches run on (search-then-bind mode only; null otherwise). */
    LDAPConnectionPool searches() {
        return searches;
    }

    /** The pool user binds run on. */
    LDAPConnectionPool binds() {
        return binds;
    }

    @Override
    public void close() {
        if (searches != null) {
            searches.close();
        }
        binds.close();
    }
}
