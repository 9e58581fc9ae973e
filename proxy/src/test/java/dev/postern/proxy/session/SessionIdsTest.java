package dev.postern.proxy.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.ConfigLoader;
import dev.postern.config.ListenerConfig;
import dev.postern.proxy.metrics.Metrics;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Session ids: as before on a node of its own; led by the node id in a cluster, which can be read back. */
class SessionIdsTest {
    private static ListenerConfig listener() throws Exception {
        return ConfigLoader.parse(
                        """
                        listeners:
                          - {name: t, protocol: tcp, bind: "127.0.0.1:1", pool: p}
                        pools:
                          - {name: p, backends: [{address: "127.0.0.1:2"}]}
                        """,
                        Path.of("."))
                .listeners()
                .get(0);
    }

    private static String open(SessionRegistry registry) throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel();
        try {
            return registry.open(listener(), ch).id();
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aNodeOnItsOwnKeepsItsShortIdsWithoutANode() throws Exception {
        SessionRegistry registry = new SessionRegistry(Metrics.NOOP);
        String id = open(registry);

        assertThat(id).matches("[0-9a-f]{6}[0-9a-z]+");
        assertThat(SessionRegistry.nodeOf(id)).isEmpty();
        assertThat(registry.nodeId()).isEmpty();
    }

    @Test
    void aClusterNodesIdsStartWithItsNodeIdAndSayWhichNodeTheyAreOn() throws Exception {
        SessionRegistry registry = new SessionRegistry(Metrics.NOOP, "mx-1.example:9025");
        String first = open(registry);
        String second = open(registry);

        assertThat(first).startsWith("mx-1.example:9025-").isNotEqualTo(second);
        assertThat(SessionRegistry.nodeOf(first)).contains("mx-1.example:9025");
        assertThat(registry.nodeId()).contains("mx-1.example:9025");
    }

    @Test
    void twoProcessesOfOneNodeGetDifferentIds() throws Exception {
        assertThat(open(new SessionRegistry(Metrics.NOOP, "n1")))
                .isNotEqualTo(open(new SessionRegistry(Metrics.NOOP, "n1")));
    }
}
