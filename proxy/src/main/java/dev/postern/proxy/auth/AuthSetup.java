package dev.postern.proxy.auth;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.AuthConfig;
import dev.postern.config.AuthProviderConfig;
import dev.postern.config.IntrospectionConfig;
import dev.postern.config.JwtProviderConfig;
import dev.postern.config.LdapConfig;
import dev.postern.config.ListenerConfig;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.transport.Transport;
import io.netty.channel.Channel;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Authentication as configured: the providers, the shared cache, the throttle, and the threads they need (a bounded
 * executor for hash verification, one thread for users-file checks). Built once at start; each listener gets the
 * {@link Authenticator} for its chain. Also what the admin API uses ({@link AuthControl}).
 */
public final class AuthSetup implements AuthControl, AutoCloseable {
    /** Hash verifications waiting at most; more fail at once (a temporary error), so a flood cannot queue forever. */
    private static final int HASH_QUEUE = 1024;

    private final AuthConfig config;
    private final Map<String, AuthProvider> providers;
    private final AuthCache cache;
    private final LoginThrottle throttle;
    private final Metrics metrics;
    private final ExecutorService hashExecutor;
    private final ScheduledExecutorService fileChecks;
    private final DnsAddressResolverGroup resolver;

    private AuthSetup(
            AuthConfig config,
            Map<String, AuthProvider> providers,
            AuthCache cache,
            LoginThrottle throttle,
            Metrics metrics,
            ExecutorService hashExecutor,
            ScheduledExecutorService fileChecks,
            DnsAddressResolverGroup resolver) {
        this.config = config;
        this.providers = providers;
        this.cache = cache;
        this.throttle = throttle;
        this.metrics = metrics;
        this.hashExecutor = hashExecutor;
        this.fileChecks = fileChecks;
        this.resolver = resolver;
    }

    /** Why authentication cannot start (a broken users file); the message names the provider and the problem. */
    public static final class SetupException extends Exception {
        private static final long serialVersionUID = 1L;

        SetupException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Builds the providers the listeners use, the cache and the throttle.
     *
     * @param pools the configured pool names (users files may route to them)
     */
    public static AuthSetup create(
            AuthConfig config, List<ListenerConfig> listeners, Set<String> pools, Transport transport, Metrics metrics)
            throws SetupException {
        return create(config, listeners, pools, transport, metrics, null);
    }

    /**
     * The same, for a node of a cluster whose throttle counts in {@code shared} (null: alone); its metrics are
     * reported here.
     */
    public static AuthSetup create(
            AuthConfig config,
            List<ListenerConfig> listeners,
            Set<String> pools,
            Transport transport,
            Metrics metrics,
            SharedFailures shared)
            throws SetupException {
        return create(config, listeners, pools, transport, metrics, shared, null);
    }

    /**
     * The same, for a reload that replaces {@code previous} (null: none): its throttle is kept when the throttle
     * settings are the same (the counts and blocks go on), and its cache when the cache and the providers are.
     */
    public static AuthSetup create(
            AuthConfig config,
            List<ListenerConfig> listeners,
            Set<String> pools,
            Transport transport,
            Metrics metrics,
            SharedFailures shared,
            AuthSetup previous)
            throws SetupException {
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        ThreadPoolExecutor hashExecutor = new ThreadPoolExecutor(
                threads,
                threads,
                60,
                TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(HASH_QUEUE),
                new DefaultThreadFactory("postern-auth-hash", true),
                new ThreadPoolExecutor.AbortPolicy());
        hashExecutor.allowCoreThreadTimeOut(true);
        ScheduledThreadPoolExecutor fileChecks =
                new ScheduledThreadPoolExecutor(1, new DefaultThreadFactory("postern-auth-files", true));
        DnsAddressResolverGroup resolver = new DnsAddressResolverGroup(new DnsNameResolverBuilder()
                .datagramChannelType(transport.datagramChannelType())
                .socketChannelType(transport.socketChannelType()));
        Class<? extends Channel> channelType = transport.socketChannelType();
        Map<String, AuthProvider> built = new LinkedHashMap<>();
        try {
            for (AuthProviderConfig p : config.providers()) {
                boolean used = listeners.stream().anyMatch(l -> l.auth().contains(p.name()));
                if (!used) {
                    continue;
                }
                if (p instanceof AuthProviderConfig.StaticFile s) {
                    // last in some chain: then unknown users must cost as much as known ones
                    boolean last = listeners.stream()
                            .anyMatch(l -> !l.auth().isEmpty()
                                    && l.auth().get(l.auth().size() - 1).equals(s.name()));
                    built.put(s.name(), new StaticFileProvider(s, pools, hashExecutor, fileChecks, last));
                } else if (p instanceof AuthProviderConfig.Http h) {
                    built.put(
                            h.name(),
                            new HttpAuthProvider(
                                    h,
                                    transport.workerGroup(),
                                    channelType,
                                    resolver,
                                    h.https() ? HttpAuthProvider.clientContext(h.tlsVerify()) : null));
                } else if (p instanceof LdapConfig l) {
                    built.put(l.name(), new LdapProvider(l));
                } else if (p instanceof JwtProviderConfig j) {
                    // the JWKS fetches share the hash executor: short, bounded, off the event loops
                    built.put(j.name(), JwtProvider.create(j, hashExecutor));
                } else if (p instanceof IntrospectionConfig i) {
                    built.put(i.name(), IntrospectionProvider.create(i, hashExecutor));
                }
            }
        } catch (StaticFileProvider.LoadException | LdapProvider.SetupException | RuntimeException e) {
            built.values().forEach(AuthProvider::close);
            hashExecutor.shutdownNow();
            fileChecks.shutdownNow();
            resolver.close();
            throw new SetupException(e.getMessage(), e);
        }
        boolean keepCache = previous != null
                && previous.config.cache().equals(config.cache())
                && previous.config.providers().equals(config.providers());
        boolean keepThrottle = previous != null && previous.config.throttle().equals(config.throttle());
        AuthCache cache = keepCache
                ? previous.cache
                : config.cache().enabled()
                        ? new AuthCache(config.cache(), Ticker.systemTicker(), Runnable::run, metrics)
                        : null;
        LoginThrottle throttle = keepThrottle
                ? previous.throttle
                : config.throttle()
                        .map(t -> new LoginThrottle(t, Ticker.systemTicker(), Runnable::run, shared))
                        .orElse(null);
        if (throttle != null && shared != null && !keepThrottle) {
            metrics.clusterShared("throttle", shared::available, throttle::fallbacks);
        }
        return new AuthSetup(config, built, cache, throttle, metrics, hashExecutor, fileChecks, resolver);
    }

    /** The authenticator for a listener's chain. */
    public Authenticator authenticator(ListenerConfig listener) {
        List<String> chain = listener.auth();
        if (chain.equals(List.of(AuthConfig.BACKEND))) {
            return Authenticator.BACKEND;
        }
        List<AuthProvider> list = new ArrayList<>();
        for (String name : chain) {
            if (!name.equals(AuthConfig.BACKEND)) {
                list.add(providers.get(name));
            }
        }
        boolean backendLast = chain.get(chain.size() - 1).equals(AuthConfig.BACKEND);
        return new AuthChain(list, backendLast, cache, metrics);
    }

    /** The throttle, or null when none is configured. */
    public LoginThrottle throttle() {
        return throttle;
    }

    /** A provider by name (tests, admin). */
    public AuthProvider provider(String name) {
        return providers.get(name);
    }

    @Override
    public int invalidate(String user) {
        return cache == null ? 0 : cache.invalidate(user);
    }

    @Override
    public void invalidateAll() {
        if (cache != null) {
            cache.invalidateAll();
        }
    }

    @Override
    public Stats stats() {
        return new Stats(
                cache == null ? new AuthCache.Stats(0, 0, 0, 0, 0, 0, 0, 0, 0) : cache.stats(),
                throttle == null ? 0 : throttle.refusals(),
                throttle == null ? 0 : throttle.failures());
    }

    @Override
    public void close() {
        providers.values().forEach(AuthProvider::close);
        fileChecks.shutdownNow();
        hashExecutor.shutdownNow();
        resolver.close();
    }
}
