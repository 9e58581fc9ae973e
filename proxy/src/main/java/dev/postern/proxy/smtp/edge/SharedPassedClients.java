package dev.postern.proxy.smtp.edge;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The cluster's memory of clients that passed an edge listener's tests, shared by its nodes like postscreen's shared
 * cache (Redis; the start-up package hands the {@code cluster} package's over). Each node asks it only for clients
 * its own memory does not know, and never waits on it to greet a client that passes the tests.
 */
public interface SharedPassedClients {
    /** No cluster: each node remembers alone. */
    SharedPassedClients NONE = new SharedPassedClients() {
        @Override
        public CompletionStage<Duration> remaining(String listener, InetAddress client) {
            return CompletableFuture.completedFuture(Duration.ZERO);
        }

        @Override
        public void add(String listener, InetAddress client, Duration ttl) {}
    };

    /**
     * How long a node's pass of {@code client} on {@code listener} still counts; zero when no node passed it, or when
     * the store did not answer. May complete on any thread, never exceptionally.
     */
    CompletionStage<Duration> remaining(String listener, InetAddress client);

    /** Remembers that {@code client} passed on {@code listener}, for {@code ttl}; not waited for. */
    void add(String listener, InetAddress client, Duration ttl);
}
