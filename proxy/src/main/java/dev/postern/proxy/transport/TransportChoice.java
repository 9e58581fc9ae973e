package dev.postern.proxy.transport;

import dev.postern.config.TransportKind;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import java.util.Optional;

/**
 * Which transport runs, given the one asked for and what this host can load: io_uring falls back to what {@code auto}
 * picks, epoll to NIO; NIO always loads. A fallback carries the reason, for the start-up log; it never stops the
 * process from starting.
 *
 * @param kind the transport that runs: never {@link TransportKind#AUTO}
 * @param fallback why the one asked for does not run, if it does not
 */
public record TransportChoice(TransportKind kind, Optional<String> fallback) {

    /** What the native transports say about this host; a present value is why one cannot be used. */
    public interface Natives {
        Optional<Throwable> ioUringUnavailable();

        Optional<Throwable> epollUnavailable();

        /** Netty's own checks; each loads its native library only when asked. */
        static Natives system() {
            return new Natives() {
                @Override
                public Optional<Throwable> ioUringUnavailable() {
                    return IoUring.isAvailable() ? Optional.empty() : Optional.of(IoUring.unavailabilityCause());
                }

                @Override
                public Optional<Throwable> epollUnavailable() {
                    return Epoll.isAvailable() ? Optional.empty() : Optional.of(Epoll.unavailabilityCause());
                }
            };
        }
    }

    public TransportChoice {
        if (kind == TransportKind.AUTO) {
            throw new IllegalArgumentException("a choice names the transport that runs, not auto");
        }
    }

    /** The transport to run for {@code asked} on a host described by {@code natives}. */
    public static TransportChoice of(TransportKind asked, Natives natives) {
        return switch (asked) {
            case NIO -> new TransportChoice(TransportKind.NIO, Optional.empty());
            case AUTO, EPOLL -> epollOrNio(natives);
            case IO_URING -> natives.ioUringUnavailable()
                    .map(why -> {
                        TransportChoice instead = epollOrNio(natives);
                        String rest = instead.fallback()
                                .orElse("using " + instead.kind().configName());
                        return new TransportChoice(
                                instead.kind(),
                                Optional.of("io_uring is not available (" + reason(why) + "); " + rest));
                    })
                    .orElse(new TransportChoice(TransportKind.IO_URING, Optional.empty()));
        };
    }

    /** epoll when it loads, else NIO (with the reason, as the log said before there was a choice). */
    private static TransportChoice epollOrNio(Natives natives) {
        return natives.epollUnavailable()
                .map(why -> new TransportChoice(
                        TransportKind.NIO, Optional.of("epoll is not available (" + reason(why) + "), using nio")))
                .orElse(new TransportChoice(TransportKind.EPOLL, Optional.empty()));
    }

    private static String reason(Throwable why) {
        // the cause is often a wrapper (UnsatisfiedLinkError inside an ExceptionInInitializerError): say the root
        Throwable root = why;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}
