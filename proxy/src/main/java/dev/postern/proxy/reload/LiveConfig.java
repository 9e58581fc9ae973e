package dev.postern.proxy.reload;

import dev.postern.config.PosternConfig;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The configuration in force: the one new sessions get. A reload swaps it in one step; a session keeps the listener
 * settings, login flow and TLS handlers it was accepted with, so nothing a live session uses changes under it.
 */
public final class LiveConfig implements Supplier<PosternConfig> {
    private final AtomicReference<PosternConfig> current;

    public LiveConfig(PosternConfig initial) {
        this.current = new AtomicReference<>(Objects.requireNonNull(initial, "initial"));
    }

    /** The configuration in force now. */
    @Override
    public PosternConfig get() {
        return current.get();
    }

    /** Puts {@code next} in force for what reads the configuration from now on. */
    public void set(PosternConfig next) {
        current.set(Objects.requireNonNull(next, "next"));
    }
}
