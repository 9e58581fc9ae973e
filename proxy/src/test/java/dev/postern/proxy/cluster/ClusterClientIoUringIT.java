package dev.postern.proxy.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.TransportKind;
import dev.postern.proxy.metrics.Metrics;
import dev.postern.proxy.testing.TestRedis;
import dev.postern.proxy.transport.Transport;
import io.netty.channel.uring.IoUring;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * On {@code transport: io_uring} the Redis client cannot share Postern's loops (Lettuce 6.8 puts epoll or NIO channels
 * on whatever group it gets): it runs on a loop of its own, talks to a real redis-server, and leaves Postern's loops
 * running when it closes.
 */
class ClusterClientIoUringIT {

    @Test
    void theRedisClientRunsOnALoopOfItsOwnAndWorks() throws Exception {
        Assumptions.assumeTrue(
                IoUring.isAvailable(), () -> "io_uring is not available here: " + IoUring.unavailabilityCause());
        try (Transport transport = Transport.create(TransportKind.IO_URING, 1);
                TestRedis redis = TestRedis.start()) {
            assertThat(transport.kind()).isEqualTo(TransportKind.IO_URING);
            try (ClusterClient client =
                    ClusterClient.start(ClusterNode.config(redis.address(), "test"), "test", transport, Metrics.NOOP)) {
                assertThat(client.firstRound().get(5, TimeUnit.SECONDS)).isTrue();
                String caller = Thread.currentThread().getName();
                Set<String> threads = new HashSet<>();
                for (int i = 0; i < 50; i++) {
                    threads.add(client.command("ping", c -> c.ping())
                            .thenApply(pong ->
                                    pong + " on " + Thread.currentThread().getName())
                            .get(5, TimeUnit.SECONDS));
                }
                assertThat(threads).allMatch(t -> t.startsWith("PONG on "));
                assertThat(threads).noneMatch(t -> t.contains("postern-io")).isNotEmpty();
                assertThat(threads.stream().map(t -> t.substring("PONG on ".length())))
                        .allMatch(name -> name.equals(caller) || !name.startsWith("postern-"));
            }
            assertThat(transport.workerGroup().isShuttingDown())
                    .as("Postern's loops outlive the Redis client")
                    .isFalse();
        }
    }
}
