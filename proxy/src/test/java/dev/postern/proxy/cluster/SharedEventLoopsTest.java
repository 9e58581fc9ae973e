package dev.postern.proxy.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.TransportKind;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Lettuce gets Postern's own event loops for the transport Postern runs, and never stops them. */
class SharedEventLoopsTest {
    private final EventLoopGroup postern = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    @AfterEach
    void stop() {
        postern.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    @SuppressWarnings("unchecked")
    private static Class<EventLoopGroup> group(String name) throws ClassNotFoundException {
        return (Class<EventLoopGroup>) Class.forName(name);
    }

    @Test
    void theGroupOfPosternsTransportIsSharedAndOutlivesTheRedisClient() throws Exception {
        SharedEventLoops loops = new SharedEventLoops(postern, TransportKind.NIO);
        Class<EventLoopGroup> nio = group("io.netty.channel.nio.NioEventLoopGroup");

        EventLoopGroup given = loops.allocate(nio);

        assertThat(given).isSameAs(postern);
        assertThat(loops.threadPoolSize()).isEqualTo(1);
        assertThat(loops.release(given, 0, 1, TimeUnit.SECONDS).await(1, TimeUnit.SECONDS))
                .isTrue();
        assertThat(loops.shutdown(0, 1, TimeUnit.SECONDS).getNow()).isTrue();
        assertThat(postern.isShuttingDown()).isFalse();
    }

    @Test
    void aTransportOtherThanPosternsGetsAGroupOfItsOwn() throws Exception {
        SharedEventLoops loops = new SharedEventLoops(postern, TransportKind.EPOLL);
        Class<EventLoopGroup> nio = group("io.netty.channel.nio.NioEventLoopGroup");

        EventLoopGroup own = loops.allocate(nio);

        assertThat(own).isNotSameAs(postern).isInstanceOf(nio);
        loops.release(own, 0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        assertThat(own.isShuttingDown()).isTrue();
        assertThat(postern.isShuttingDown()).isFalse();
    }

    @Test
    void onIoUringLettuceGetsAGroupOfItsOwnWhicheverItAsksFor() throws Exception {
        SharedEventLoops loops = new SharedEventLoops(postern, TransportKind.IO_URING);

        for (String name :
                new String[] {"io.netty.channel.nio.NioEventLoopGroup", "io.netty.channel.epoll.EpollEventLoopGroup"}) {
            EventLoopGroup own = loops.allocate(group(name));

            assertThat(own).as(name).isNotSameAs(postern).isInstanceOf(group(name));
        }
        loops.shutdown(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        assertThat(postern.isShuttingDown()).isFalse();
    }
}
