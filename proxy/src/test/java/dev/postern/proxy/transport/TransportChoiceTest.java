package dev.postern.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postern.config.TransportKind;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which transport runs for the one asked for, on hosts where io_uring or epoll do or do not load. */
class TransportChoiceTest {
    private static final Throwable URING_OFF = new ExceptionInInitializerError(
            new UnsupportedOperationException("io_uring_setup: Operation not permitted"));
    private static final Throwable NO_EPOLL = new UnsatisfiedLinkError("no netty_transport_native_epoll_x86_64");

    /** A host; a null reason means that transport loads. */
    private static TransportChoice.Natives host(Throwable ioUring, Throwable epoll) {
        return new TransportChoice.Natives() {
            @Override
            public Optional<Throwable> ioUringUnavailable() {
                return Optional.ofNullable(ioUring);
            }

            @Override
            public Optional<Throwable> epollUnavailable() {
                return Optional.ofNullable(epoll);
            }
        };
    }

    /** A host that must not be asked: NIO needs no native library, and auto never tries io_uring. */
    private static final TransportChoice.Natives UNASKED = new TransportChoice.Natives() {
        @Override
        public Optional<Throwable> ioUringUnavailable() {
            throw new AssertionError("io_uring was probed");
        }

        @Override
        public Optional<Throwable> epollUnavailable() {
            throw new AssertionError("epoll was probed");
        }
    };

    @Test
    void ioUringRunsWhereItLoads() {
        TransportChoice choice = TransportChoice.of(TransportKind.IO_URING, host(null, null));

        assertThat(choice.kind()).isEqualTo(TransportKind.IO_URING);
        assertThat(choice.fallback()).isEmpty();
    }

    @Test
    void ioUringThatDoesNotLoadFallsBackToEpollAndSaysWhy() {
        TransportChoice choice = TransportChoice.of(TransportKind.IO_URING, host(URING_OFF, null));

        assertThat(choice.kind()).isEqualTo(TransportKind.EPOLL);
        assertThat(choice.fallback())
                .contains("io_uring is not available (io_uring_setup: Operation not permitted); using epoll");
    }

    @Test
    void ioUringFallsBackToNioWhereNeitherNativeTransportLoads() {
        TransportChoice choice = TransportChoice.of(TransportKind.IO_URING, host(URING_OFF, NO_EPOLL));

        assertThat(choice.kind()).isEqualTo(TransportKind.NIO);
        assertThat(choice.fallback())
                .contains("io_uring is not available (io_uring_setup: Operation not permitted); epoll is not"
                        + " available (no netty_transport_native_epoll_x86_64), using nio");
    }

    @Test
    void autoIsEpollWhereItLoadsWithoutTryingIoUring() {
        TransportChoice.Natives epollOnly = new TransportChoice.Natives() {
            @Override
            public Optional<Throwable> ioUringUnavailable() {
                throw new AssertionError("io_uring was probed");
            }

            @Override
            public Optional<Throwable> epollUnavailable() {
                return Optional.empty();
            }
        };

        TransportChoice choice = TransportChoice.of(TransportKind.AUTO, epollOnly);

        assertThat(choice.kind()).isEqualTo(TransportKind.EPOLL);
        assertThat(choice.fallback()).isEmpty();
    }

    @Test
    void autoAndEpollAreNioWithTheReasonWhereEpollDoesNotLoad() {
        for (TransportKind asked : new TransportKind[] {TransportKind.AUTO, TransportKind.EPOLL}) {
            TransportChoice choice = TransportChoice.of(asked, host(null, NO_EPOLL));

            assertThat(choice.kind()).as("%s", asked).isEqualTo(TransportKind.NIO);
            assertThat(choice.fallback())
                    .as("%s", asked)
                    .contains("epoll is not available (no netty_transport_native_epoll_x86_64), using nio");
        }
    }

    @Test
    void nioIsNioWithoutLoadingANativeLibrary() {
        TransportChoice choice = TransportChoice.of(TransportKind.NIO, UNASKED);

        assertThat(choice.kind()).isEqualTo(TransportKind.NIO);
        assertThat(choice.fallback()).isEmpty();
    }
}
