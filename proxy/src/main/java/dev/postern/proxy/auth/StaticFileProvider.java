package dev.postern.proxy.auth;

import dev.postern.config.AuthProviderConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code static} provider: users and password hashes from a {@link UsersFile}. Verifying a hash is slow on
 * purpose, so it runs on the dedicated hash executor, never on an event loop. A user not in the file is not this
 * provider's to decide (the next provider is asked); when this provider ends the chain it still spends a hash
 * verification on such a user, so the answer's timing does not tell whether the user exists. The file is checked for
 * changes periodically and reloaded; a broken file keeps the last good one and the log says why.
 */
public final class StaticFileProvider implements AuthProvider {
    private static final Logger log = LoggerFactory.getLogger(StaticFileProvider.class);

    private final String name;
    private final Path file;
    private final Set<String> pools;
    private final Executor hashExecutor;
    private final boolean last;
    private final ScheduledFuture<?> checker;
    private volatile Loaded current;

    /** A file as loaded, and what told its version apart. */
    private record Loaded(UsersFile users, long modified, long size, Object fileKey, PasswordHash dummy) {}

    /** Why the file cannot be used at start. */
    public static final class LoadException extends Exception {
        private static final long serialVersionUID = 1L;

        LoadException(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Loads the file.
     *
     * @param pools the configured pool names ({@code pool=} fields must name one)
     * @param hashExecutor runs the hash verifications
     * @param scheduler runs the periodic change check, or null for none (tests call {@link #checkNow})
     * @param last whether this provider ends its chains (then unknown users cost a verification too)
     * @throws LoadException naming the file and every problem in it
     */
    public StaticFileProvider(
            AuthProviderConfig.StaticFile config,
            Set<String> pools,
            Executor hashExecutor,
            ScheduledExecutorService scheduler,
            boolean last)
            throws LoadException {
        this.name = config.name();
        this.file = config.file();
        this.pools = Set.copyOf(pools);
        this.hashExecutor = hashExecutor;
        this.last = last;
        try {
            this.current = load();
        } catch (IOException e) {
            throw new LoadException("auth provider '" + name + "': cannot read " + file + ": " + e);
        } catch (UsersFile.InvalidException e) {
            throw new LoadException("auth provider '" + name + "': " + file + ": " + e.getMessage());
        }
        log.info(
                "auth provider '{}': {} users from {}",
                name,
                current.users().users().size(),
                file);
        long every = config.reloadCheck().toMillis();
        this.checker = scheduler == null
                ? null
                : scheduler.scheduleWithFixedDelay(this::checkQuietly, every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public String name() {
        return name;
    }

    /** Users in the file now. */
    public int size() {
        return current.users().users().size();
    }

    @Override
    public CompletionStage<Optional<AuthResult>> authenticate(AuthRequest request) {
        Loaded loaded = current;
        if (request.credentials().isToken()) {
            // a users file holds password hashes; a bearer token is for another provider
            return CompletableFuture.completedFuture(Optional.empty());
        }
        Optional<UsersFile.User> user =
                loaded.users().user(request.credentials().user());
        if (request.credentials().isExternal()) {
            // the certificate proved who the client is: the file says whether that user exists here, and where
            return CompletableFuture.completedFuture(
                    user.map(u -> new AuthResult.Accepted(u.name(), u.route(), Optional.empty())));
        }
        String password = request.credentials().secret();
        if (user.isEmpty()) {
            if (!last || loaded.dummy() == null) {
                return CompletableFuture.completedFuture(Optional.empty());
            }
            // as slow as a real check, so that timing does not tell which users exist
            return CompletableFuture.supplyAsync(
                    () -> {
                        loaded.dummy().verify(password);
                        return Optional.empty();
                    },
                    hashExecutor);
        }
        UsersFile.User u = user.get();
        String authzid = request.credentials().authzid();
        boolean authzidOk = authzid.isEmpty() || authzid.equalsIgnoreCase(u.name());
        return CompletableFuture.supplyAsync(
                () -> {
                    boolean ok = u.hash().verify(password);
                    if (ok && authzidOk) {
                        return Optional.of(new AuthResult.Accepted(u.name(), u.route(), Optional.empty()));
                    }
                    return Optional.of(new AuthResult.Rejected(
                            ok ? "may not act as another user" : "wrong password", false, Duration.ZERO));
                },
                hashExecutor);
    }

    /**
     * Reloads the file if it changed since the last load. Returns true when a new version was loaded; a broken file
     * is logged and the last good one kept.
     */
    public boolean checkNow() {
        Loaded before = current;
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            log.warn(
                    "auth provider '{}': cannot read {} ({}); keeping the {} users loaded before",
                    name,
                    file,
                    e,
                    before.users().users().size());
            return false;
        }
        if (attrs.lastModifiedTime().toMillis() == before.modified()
                && attrs.size() == before.size()
                && java.util.Objects.equals(attrs.fileKey(), before.fileKey())) {
            return false;
        }
        try {
            Loaded loaded = load();
            current = loaded;
            log.info(
                    "auth provider '{}': reloaded {}: {} users",
                    name,
                    file,
                    loaded.users().users().size());
            return true;
        } catch (IOException | UsersFile.InvalidException e) {
            log.warn(
                    "auth provider '{}': {} is not usable ({}); keeping the {} users loaded before",
                    name,
                    file,
                    e.getMessage(),
                    before.users().users().size());
            // remember this version, so the same broken file is reported once, not at every check
            current = new Loaded(
                    before.users(), attrs.lastModifiedTime().toMillis(), attrs.size(), attrs.fileKey(), before.dummy());
            return false;
        }
    }

    private void checkQuietly() {
        try {
            checkNow();
        } catch (RuntimeException e) {
            log.warn("auth provider '{}': checking {} failed", name, file, e);
        }
    }

    private Loaded load() throws IOException, UsersFile.InvalidException {
        BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
        if (attrs.size() > UsersFile.MAX_BYTES) {
            throw new IOException("larger than " + UsersFile.MAX_BYTES / (1024 * 1024) + " MiB");
        }
        UsersFile users = UsersFile.parse(Files.readString(file, StandardCharsets.UTF_8), pools);
        // a stand-in for unknown users: the first user's hash (same scheme and cost as real ones)
        PasswordHash dummy = users.users().values().stream()
                .map(UsersFile.User::hash)
                .findFirst()
                .orElse(null);
        return new Loaded(users, attrs.lastModifiedTime().toMillis(), attrs.size(), attrs.fileKey(), dummy);
    }

    @Override
    public void close() {
        if (checker != null) {
            checker.cancel(false);
        }
    }
}
