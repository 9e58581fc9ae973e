package dev.postern.proxy.tls;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an action when the process gets {@code SIGHUP}, the Unix way to say "reload your files" ({@code kill -HUP
 * PID}, {@code systemctl reload}). The action runs on a thread the JVM starts for each signal, so two signals in quick
 * succession may run it concurrently: it must be thread-safe ({@link TlsManager#reload()} is). An exception it throws
 * is logged, never fatal.
 *
 * <p>Uses {@code sun.misc.Signal} from module {@code jdk.unsupported}, reflectively so that the build carries no
 * "internal proprietary API" warnings. Where it is missing, or the JVM keeps {@code SIGHUP} for itself (for example
 * with {@code -Xrs}), {@link #install} logs why and returns empty.
 */
public final class ReloadSignal implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReloadSignal.class);
    private static final String SIGNAL_NAME = "HUP";

    private final Method handle;
    private final Object signal;
    private final Object previous;

    private ReloadSignal(Method handle, Object signal, Object previous) {
        this.handle = handle;
        this.signal = signal;
        this.previous = previous;
    }

    /**
     * Installs {@code action} as the {@code SIGHUP} handler, replacing the JVM's default (which is to exit).
     *
     * @return the installed handler, to {@linkplain #close() uninstall}; empty when signals are not available here
     */
    public static Optional<ReloadSignal> install(Runnable action) {
        Objects.requireNonNull(action, "action");
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object signal = signalClass.getConstructor(String.class).newInstance(SIGNAL_NAME);
            Object handler = Proxy.newProxyInstance(
                    ReloadSignal.class.getClassLoader(), new Class<?>[] {handlerClass}, (proxy, method, args) -> {
                        switch (method.getName()) {
                            case "handle" -> run(action);
                            case "equals" -> {
                                return proxy == args[0];
                            }
                            case "hashCode" -> {
                                return System.identityHashCode(proxy);
                            }
                            case "toString" -> {
                                return "SIGHUP handler";
                            }
                            default -> {
                                // No other methods on SignalHandler.
                            }
                        }
                        return null;
                    });
            Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            Object previous = handle.invoke(null, signal, handler);
            log.debug("SIGHUP handler installed");
            return Optional.of(new ReloadSignal(handle, signal, previous));
        } catch (InvocationTargetException e) {
            // Signal.handle says IllegalArgumentException when the JVM or the OS keeps the signal.
            log.warn(
                    "cannot handle SIGHUP here ({}); reload by SIGHUP is off",
                    e.getCause().toString());
            return Optional.empty();
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            log.warn("cannot handle SIGHUP here ({}); reload by SIGHUP is off", e.toString());
            return Optional.empty();
        }
    }

    private static void run(Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            log.error("SIGHUP action failed", e);
        }
    }

    /** Puts back the handler that was there before {@link #install}. */
    @Override
    public void close() {
        try {
            handle.invoke(null, signal, previous);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot restore the previous SIGHUP handler", e);
        }
    }
}
