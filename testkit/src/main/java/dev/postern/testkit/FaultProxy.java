package dev.postern.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback that a test puts between Postern and a real backend to break the connection on cue: kill
 * every connection (a reset, as a crashed server gives), kill one when a marker passes in a given direction (mid
 * DATA, mid RETR), stall the bytes of live connections (a server that stops answering), or accept new connections
 * and never connect them (a server that accepts and never greets). One thread per direction per connection.
 */
public final class FaultProxy implements AutoCloseable {
    /** Which way bytes flow. */
    public enum Direction {
        TO_BACKEND,
        TO_CLIENT
    }

    private final ServerSocket server;
    private final int target;
    private final List<Pair> pairs = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile boolean blackhole;
    private volatile boolean stalled;
    /** Pumps held back by a stall wait here; a change of the stall or a closed connection wakes them. */
    private final Object gate = new Object();

    private volatile Trigger trigger;

    private FaultProxy(ServerSocket server, int target) {
        this.server = server;
        this.target = target;
    }

    /** Listens on an ephemeral loopback port and forwards to {@code 127.0.0.1:targetPort}. */
    public static FaultProxy start(int targetPort) {
        try {
            ServerSocket s = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
            FaultProxy p = new FaultProxy(s, targetPort);
            Thread t = new Thread(p::acceptLoop, "fault-proxy-" + s.getLocalPort());
            t.setDaemon(true);
            t.start();
            return p;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Connections accepted so far. */
    public int accepted() {
        return accepted.get();
    }

    /** Connections open now. */
    public int open() {
        return (int) pairs.stream().filter(p -> !p.closed).count();
    }

    /** New connections are accepted and held, never connected to the backend and never answered. */
    public void blackhole(boolean on) {
        blackhole = on;
    }

    /** Live and new connections stop passing bytes (they stay open); off lets them flow again. */
    public void stall(boolean on) {
        setStalled(on);
    }

    private void setStalled(boolean on) {
        synchronized (gate) {
            stalled = on;
            gate.notifyAll();
        }
    }

    /** Returns once bytes may flow again, or the connection is closed. */
    private void awaitFlowing(Pair pair) throws InterruptedException {
        synchronized (gate) {
            while (stalled && !pair.closed) {
                gate.wait(); // the fault itself: bytes held back until stall(false), heal() or a kill
            }
        }
    }

    /** Resets every open connection, both sides. */
    public void killAll() {
        pairs.forEach(this::kill);
    }

    private void kill(Pair pair) {
        pair.kill();
        synchronized (gate) {
            gate.notifyAll();
        }
    }

    /** The next time {@code marker} passes {@code direction} (on any connection), that connection is reset first. */
    public void killWhen(Direction direction, String marker) {
        trigger = new Trigger(direction, marker.getBytes(StandardCharsets.ISO_8859_1), false);
    }

    /** The next time {@code marker} passes {@code direction}, every connection stalls (the marker is held too). */
    public void stallWhen(Direction direction, String marker) {
        trigger = new Trigger(direction, marker.getBytes(StandardCharsets.ISO_8859_1), true);
    }

    /** Back to forwarding everything: no trigger, no stall, no black hole. */
    public void heal() {
        trigger = null;
        setStalled(false);
        blackhole = false;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                accepted.incrementAndGet();
                Pair pair = new Pair(client);
                pairs.add(pair);
                if (blackhole) {
                    continue; // held open, never answered
                }
                Socket backend = new Socket();
                try {
                    backend.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target), 5000);
                } catch (IOException e) {
                    kill(pair);
                    continue;
                }
                pair.backend = backend;
                pump(pair, client, backend, Direction.TO_BACKEND);
                pump(pair, backend, client, Direction.TO_CLIENT);
            } catch (IOException e) {
                // closed
            }
        }
    }

    private void pump(Pair pair, Socket from, Socket to, Direction direction) {
        Thread t = new Thread(
                () -> {
                    byte[] buf = new byte[16 * 1024];
                    try (InputStream in = from.getInputStream()) {
                        OutputStream out = to.getOutputStream();
                        for (int n; (n = in.read(buf)) > 0; ) {
                            awaitFlowing(pair);
                            Trigger tr = trigger;
                            if (tr != null && tr.direction == direction && tr.matches(pair, direction, buf, n)) {
                                trigger = null;
                                if (!tr.stall) {
                                    kill(pair);
                                    return;
                                }
                                setStalled(true);
                                awaitFlowing(pair);
                            }
                            out.write(buf, 0, n);
                            out.flush();
                        }
                        to.shutdownOutput();
                    } catch (IOException | InterruptedException e) {
                        kill(pair);
                    }
                },
                "fault-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        killAll();
    }

    private static final class Trigger {
        final Direction direction;
        final byte[] marker;
        final boolean stall;

        Trigger(Direction direction, byte[] marker, boolean stall) {
            this.direction = direction;
            this.marker = marker;
            this.stall = stall;
        }

        /** Whether the marker ends within what this direction has carried so far plus {@code buf[0, n)}. */
        boolean matches(Pair pair, Direction d, byte[] buf, int n) {
            StringBuilder tail = d == Direction.TO_BACKEND ? pair.toBackendTail : pair.toClientTail;
            synchronized (tail) {
                tail.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                String m = new String(marker, StandardCharsets.ISO_8859_1);
                boolean hit = tail.indexOf(m) >= 0;
                if (tail.length() > m.length()) {
                    tail.delete(0, tail.length() - m.length());
                }
                return hit;
            }
        }
    }

    private static final class Pair {
        final Socket client;
        volatile Socket backend;
        volatile boolean closed;
        final StringBuilder toBackendTail = new StringBuilder();
        final StringBuilder toClientTail = new StringBuilder();

        Pair(Socket client) {
            this.client = client;
        }

        void kill() {
            closed = true;
            reset(client);
            if (backend != null) {
                reset(backend);
            }
        }

        private static void reset(Socket s) {
            try {
                if (!s.isClosed()) {
                    s.setSoLinger(true, 0);
                    s.close();
                }
            } catch (IOException e) {
                // gone already
            }
        }
    }
}
