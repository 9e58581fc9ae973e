package dev.postern.proxy.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.postern.testkit.Conversation;
import dev.postern.testkit.FakeLineBackend;
import dev.postern.testkit.TestCertificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A test auth service speaking nginx's auth_http protocol (a JDK HttpServer): it knows users and passwords, answers
 * after a configurable delay (on a timer, never a sleeping thread), and can be told to answer anything else, or
 * nothing at all.
 */
public final class NginxAuthService implements AutoCloseable {
    /** An answer: HTTP status and headers; {@link #SILENCE} never answers. */
    public record Answer(int status, Map<String, String> headers) {
        public static Answer ok(String server, int port) {
            return new Answer(200, Map.of("Auth-Status", "OK", "Auth-Server", server, "Auth-Port", "" + port));
        }

        public static Answer of(String... pairs) {
            Map<String, String> h = new TreeMap<>();
            for (int i = 0; i < pairs.length; i += 2) {
                h.put(pairs[i], pairs[i + 1]);
            }
            return new Answer(200, h);
        }
    }

    public static final Answer SILENCE = new Answer(0, Map.of());

    private final HttpServer server;
    private final ExecutorService handlers = Executors.newCachedThreadPool();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final Map<String, String> users = new ConcurrentHashMap<>();
    public final AtomicInteger calls = new AtomicInteger();
    /** The headers of each request, names in lowercase, values as sent. */
    public final List<Map<String, String>> requests = new CopyOnWriteArrayList<>();
    /** The client port of each request: one port for many requests means keep-alive worked. */
    public final List<Integer> clientPorts = new CopyOnWriteArrayList<>();

    public volatile Duration delay = Duration.ZERO;
    /** Decides each answer; by default: OK with a route for a known user and password, else an error. */
    public volatile Function<Map<String, String>, Answer> behaviour = this::byUsers;

    private volatile String routeHost = "127.0.0.1";
    private volatile int routePort = DevBackends.IMAP;

    private NginxAuthService(HttpServer server) {
        this.server = server;
        server.createContext("/", this::handle);
        server.setExecutor(handlers);
        server.start();
    }

    public static NginxAuthService start() {
        try {
            return new NginxAuthService(
                    HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static NginxAuthService startHttps(TestCertificates.Leaf leaf) {
        try {
            HttpsServer s = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            s.setHttpsConfigurator(new HttpsConfigurator(leaf.serverSslContext()));
            return new NginxAuthService(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A service answering after {@code delay} (on a timer). */
    public static NginxAuthService start(Duration delay) {
        NginxAuthService s = start();
        s.delay = delay;
        return s;
    }

    public NginxAuthService user(String name, String password) {
        users.put(name, password);
        return this;
    }

    /** Where the default behaviour routes known users (Auth-Server, Auth-Port). */
    public NginxAuthService route(String host, int port) {
        this.routeHost = host;
        this.routePort = port;
        return this;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public int calls() {
        return calls.get();
    }

    public String url() {
        return url("http");
    }

    public String url(String scheme) {
        return scheme + "://localhost:" + port() + "/mail-auth";
    }

    private Answer byUsers(Map<String, String> h) {
        String user = decode(h.get("auth-user"));
        String pass = decode(h.get("auth-pass"));
        if (user != null && pass != null && pass.equals(users.get(user))) {
            return Answer.ok(routeHost, routePort);
        }
        return Answer.of("Auth-Status", "Invalid login or password", "Auth-Wait", "0");
    }

    public static String decode(String escaped) {
        return escaped == null ? null : URLDecoder.decode(escaped.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /**
     * For a raw auth service (a {@link FakeLineBackend} script, for answers the JDK's server will not send, such as a
     * 101): reads one request's head and gives its Auth-User, unescaped; null when the client closed the connection.
     */
    public static String rawRequest(Conversation c) throws IOException {
        String line = c.line();
        if (line == null) {
            return null;
        }
        String user = null;
        while ((line = c.line()) != null && !line.isEmpty()) {
            if (line.regionMatches(true, 0, "Auth-User:", 0, 10)) {
                user = decode(line.substring(10).strip());
            }
        }
        if (line == null) {
            throw new IOException("the request ended before its blank line");
        }
        return user;
    }

    /** A raw {@code 200} answer with {@code pairs} (name, value, ...) as headers and no body. */
    public static String rawAnswer(String... pairs) {
        StringBuilder sb = new StringBuilder("HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < pairs.length; i += 2) {
            sb.append(pairs[i]).append(": ").append(pairs[i + 1]).append("\r\n");
        }
        return sb.append("Content-Length: 0\r\n\r\n").toString();
    }

    private void handle(HttpExchange exchange) {
        calls.incrementAndGet();
        Map<String, String> h = new TreeMap<>();
        exchange.getRequestHeaders().forEach((k, v) -> h.put(k.toLowerCase(Locale.ROOT), v.get(0)));
        h.put(":path", exchange.getRequestURI().toString());
        h.put(":method", exchange.getRequestMethod());
        requests.add(h);
        clientPorts.add(exchange.getRemoteAddress().getPort());
        Answer answer = behaviour.apply(h);
        if (answer == SILENCE) {
            return; // never answered; the client's timeout must fire
        }
        Runnable respond = () -> {
            try (exchange) {
                answer.headers().forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
                exchange.sendResponseHeaders(answer.status(), -1);
            } catch (IOException e) {
                // the client went away
            }
        };
        if (delay.isZero()) {
            respond.run();
        } else {
            timer.schedule(respond, delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        timer.shutdownNow();
        handlers.shutdownNow();
    }
}
