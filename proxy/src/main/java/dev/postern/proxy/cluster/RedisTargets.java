package dev.postern.proxy.cluster;

import dev.postern.config.ClusterConfig;
import dev.postern.config.HostPort;
import dev.postern.config.Secret;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.SslVerifyMode;
import io.lettuce.core.TimeoutOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/** The cluster configuration in Lettuce's terms: what to connect to, and how. */
final class RedisTargets {
    private RedisTargets() {}

    /**
     * The targets to try in order at every (re)connect: one per address, or one for the Sentinels (which Lettuce
     * asks in order for the current primary).
     */
    static List<RedisURI> of(ClusterConfig config, String nodeId) {
        List<RedisURI> targets = new ArrayList<>();
        if (config.sentinel().isPresent()) {
            ClusterConfig.Sentinel s = config.sentinel().get();
            RedisURI.Builder b = RedisURI.builder().withSentinelMasterId(s.master());
            for (HostPort a : s.addresses()) {
                RedisURI sentinel = RedisURI.create(a.host(), a.port());
                sentinel.setSsl(config.tls().enabled());
                sentinel.setVerifyPeer(verifyMode(config));
                s.password().map(Secret::revealChars).ifPresent(sentinel::setPassword);
                b.withSentinel(sentinel);
            }
            targets.add(common(b, config, nodeId).build());
        } else {
            for (HostPort a : config.addresses()) {
                targets.add(common(RedisURI.builder().withHost(a.host()).withPort(a.port()), config, nodeId)
                        .build());
            }
        }
        return targets;
    }

    private static RedisURI.Builder common(RedisURI.Builder b, ClusterConfig config, String nodeId) {
        b.withDatabase(config.database())
                .withClientName("postern-" + nodeId)
                .withSsl(config.tls().enabled())
                .withVerifyPeer(verifyMode(config))
                // the handshake (HELLO, AUTH, SELECT, CLIENT SETNAME) and the Sentinel lookups
                .withTimeout(config.commandTimeout());
        Optional<Secret> password = config.password();
        if (password.isPresent()) {
            if (config.username().isPresent()) {
                b.withAuthentication(config.username().get(), password.get().revealChars());
            } else {
                b.withPassword(password.get().revealChars());
            }
        }
        return b;
    }

    private static SslVerifyMode verifyMode(ClusterConfig config) {
        return config.tls().verify() ? SslVerifyMode.FULL : SslVerifyMode.NONE;
    }

    /**
     * The client's options: no reconnects of Lettuce's own (the cluster client reconnects, trying every address in
     * order), commands refused at once while disconnected instead of queued, and every command timed out.
     */
    static ClientOptions options(ClusterConfig config) {
        ClientOptions.Builder b = ClientOptions.builder()
                .autoReconnect(false)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(config.commandTimeout()))
                .socketOptions(SocketOptions.builder()
                        .connectTimeout(config.connectTimeout())
                        .keepAlive(true)
                        .tcpNoDelay(true)
                        .build());
        if (config.tls().enabled()) {
            SslOptions.Builder ssl = SslOptions.builder().jdkSslProvider();
            config.tls().ca().ifPresent(ca -> ssl.trustManager(ca.toFile()));
            b.sslOptions(ssl.build());
        }
        return b.build();
    }

    /** What the logs call the cluster's Redis: its addresses, or the Sentinels' master; never a password. */
    static String describe(ClusterConfig config) {
        String tls = config.tls().enabled() ? " (TLS)" : "";
        if (config.sentinel().isPresent()) {
            ClusterConfig.Sentinel s = config.sentinel().get();
            return "primary '" + s.master() + "' of sentinels "
                    + s.addresses().stream().map(HostPort::toString).collect(Collectors.joining(",")) + tls;
        }
        return config.addresses().stream().map(HostPort::toString).collect(Collectors.joining(",")) + tls;
    }

    /** One target as the logs call it. */
    static String describe(RedisURI target) {
        if (!target.getSentinels().isEmpty()) {
            return "primary '" + target.getSentinelMasterId() + "' (sentinels)";
        }
        String host = target.getHost();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + target.getPort();
    }
}
