package dev.postern.proxy.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;

/** Free loopback ports for listeners that tests configure. */
public final class FreePorts {
    private FreePorts() {}

    public static int next() {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The first of {@code size} consecutive loopback ports that are all free now, for a program that takes a base
     * port and counts up from it ({@code scripts/dev-cluster.sh}). Chosen between 20000 and 32767: below the
     * kernel's ephemeral range (32768 and up here), where {@link #next()}'s ports and every outgoing connection's
     * come from, so nothing else takes one of them between now and the program's bind.
     */
    public static int block(int size) {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = 20_000 + ThreadLocalRandom.current().nextInt((32_767 - 20_000 - size) / 10) * 10;
            if (IntStream.range(base, base + size).allMatch(FreePorts::free)) {
                return base;
            }
        }
        throw new IllegalStateException("no " + size + " free consecutive ports between 20000 and 32767");
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A loopback port nothing listens on (for "backend is down" tests). */
    public static int closed() {
        return next();
    }
}
