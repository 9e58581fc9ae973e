package dev.postern.proxy.reload;

import dev.postern.proxy.auth.AuthControl;
import dev.postern.proxy.auth.AuthSetup;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The authentication in force, as the admin API sees it: flushes and counts go to the current {@link AuthSetup}. A
 * reload that changes authentication puts a new one in place for new sessions; the one it replaces stays open a while,
 * for the logins that started with it, then closes.
 */
public final class LiveAuth implements AuthControl, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LiveAuth.class);

    private final AtomicReference<AuthSetup> current;

    public LiveAuth(AuthSetup initial) {
        this.current = new AtomicReference<>(Objects.requireNonNull(initial, "initial"));
    }

    public AuthSetup get() {
        return current.get();
    }

    /**
     * Puts {@code next} in force and closes the one it replaces after {@code linger}: long enough for a login that
     * started with it to end (its pre-auth timeout bounds that).
     */
    public void replace(AuthSetup next, Duration linger) {
        AuthSetup previous = current.getAndSet(Objects.requireNonNull(next, "next"));
        if (previous == next) {
            return;
        }
        // closing may wait on connections to an auth service: never on the caller's thread
        CompletableFuture.delayedExecutor(linger.toMillis(), TimeUnit.MILLISECONDS)
                .execute(() -> {
                    previous.close();
                    log.debug("the authentication replaced by a reload is closed");
                });
    }

    @Override
    public int invalidate(String user) {
        return current.get().invalidate(user);
    }

    @Override
    public void invalidateAll() {
        current.get().invalidateAll();
    }

    @Override
    public Stats stats() {
        return current.get().stats();
    }

    @Override
    public void close() {
        current.get().close();
    }
}
