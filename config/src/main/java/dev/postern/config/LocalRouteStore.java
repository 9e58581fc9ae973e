package dev.postern.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link RouteStore} for one Postern node: the table lives in memory and, when a file is given, in that file as
 * JSON. A write goes to a temporary file in the same directory, is forced to disk, and replaces the old file with an
 * atomic rename (then the directory is forced too), so a crash or a full disk never leaves a half-written file: the
 * file always holds either the old table or the new one.
 */
public final class LocalRouteStore implements RouteStore {
    private static final Logger log = LoggerFactory.getLogger(LocalRouteStore.class);

    /** The file operations, replaceable in tests to inject failures in the middle of a write. */
    interface FileOps {
        void writeAndForce(Path file, byte[] content) throws IOException;

        void atomicReplace(Path source, Path target) throws IOException;

        void forceDirectory(Path dir) throws IOException;
    }

    static final FileOps REAL_FILES = new FileOps() {
        @Override
        public void writeAndForce(Path file, byte[] content) throws IOException {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(content);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
        }

        @Override
        public void atomicReplace(Path source, Path target) throws IOException {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }

        @Override
        public void forceDirectory(Path dir) throws IOException {
            try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
                ch.force(true);
            } catch (IOException e) {
                // some file systems refuse to open a directory; the rename is still atomic there
                log.debug("cannot force directory {}: {}", dir, e.toString());
            }
        }
    };

    private final Path file;
    private final FileOps files;
    private final List<Consumer<RoutingTable>> listeners = new CopyOnWriteArrayList<>();
    private final List<Function<RoutingTable, List<ConfigProblem>>> validators = new CopyOnWriteArrayList<>();
    private volatile RoutingTable current;

    private LocalRouteStore(Path file, FileOps files, RoutingTable initial) {
        this.file = file;
        this.files = files;
        this.current = initial;
    }

    /** A store that keeps the table in memory only (it starts from {@code seed} at every start). */
    public static LocalRouteStore inMemory(RoutingTable seed) {
        return new LocalRouteStore(null, REAL_FILES, seed.withRevision(Math.max(1, seed.revision())));
    }

    /**
     * Opens the store file: loads it when it exists, else writes {@code seed} to it as revision 1.
     *
     * @throws ConfigException the file exists but does not hold a valid table (it is never overwritten then)
     * @throws IOException it cannot be read or written
     */
    public static LocalRouteStore open(Path file, RoutingTable seed) throws ConfigException, IOException {
        return open(file, seed, REAL_FILES);
    }

    static LocalRouteStore open(Path file, RoutingTable seed, FileOps files) throws ConfigException, IOException {
        Objects.requireNonNull(file, "file");
        removeStaleTemporaryFiles(file);
        String json;
        try {
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            LocalRouteStore store = new LocalRouteStore(file, files, seed.withRevision(1));
            store.persist(store.current);
            log.info("route store {}: created from the configuration (revision 1)", file);
            return store;
        }
        RoutingTable loaded;
        try {
            loaded = RoutingJson.read(json);
        } catch (ConfigException e) {
            List<ConfigProblem> located = new ArrayList<>();
            for (ConfigProblem p : e.problems()) {
                located.add(new ConfigProblem(file + (p.path().isEmpty() ? "" : ": " + p.path()), p.message()));
            }
            throw new ConfigException(located);
        }
        List<ConfigProblem> cross = RoutingJson.crossCheck(loaded);
        if (!cross.isEmpty()) {
            throw new ConfigException(cross);
        }
        log.info("route store {}: loaded revision {}", file, loaded.revision());
        return new LocalRouteStore(file, files, loaded);
    }

    /** Temporary files a crash left behind: they never replaced the real file, so they are garbage. */
    private static void removeStaleTemporaryFiles(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            return;
        }
        String prefix = "." + file.getFileName() + ".tmp-";
        try (var entries = Files.newDirectoryStream(dir, prefix + "*")) {
            for (Path stale : entries) {
                Files.deleteIfExists(stale);
                log.info("route store {}: removed {} left by an interrupted write", file, stale.getFileName());
            }
        }
    }

    /** The file this store persists to, or null for an in-memory store. */
    public Path file() {
        return file;
    }

    @Override
    public RoutingTable current() {
        return current;
    }

    @Override
    public synchronized RoutingTable update(long expectedRevision, UnaryOperator<RoutingTable> change)
            throws RevisionConflictException, ConfigException, IOException {
        RoutingTable before = current;
        if (expectedRevision >= 0 && expectedRevision != before.revision()) {
            throw new RevisionConflictException(expectedRevision, before.revision());
        }
        RoutingTable changed = change.apply(before);
        RoutingTable next = changed.withRevision(before.revision() + 1);
        List<ConfigProblem> problems = new ArrayList<>(RoutingJson.crossCheck(next));
        for (Function<RoutingTable, List<ConfigProblem>> v : validators) {
            problems.addAll(v.apply(next));
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        persist(next);
        current = next;
        publish(next);
        return next;
    }

    /**
     * Replaces the table with {@code table} as it is, revision included, persisted like a change and published: for a
     * table that was validated and given its revision elsewhere (a cluster node's copy of the shared table).
     *
     * @throws IOException it could not be persisted; the table in force is unchanged
     */
    public synchronized void replace(RoutingTable table) throws IOException {
        persist(table);
        current = table;
        publish(table);
    }

    private void publish(RoutingTable table) {
        for (Consumer<RoutingTable> l : listeners) {
            try {
                l.accept(table);
            } catch (RuntimeException e) {
                log.error("route store listener failed on revision {}", table.revision(), e);
            }
        }
    }

    private void persist(RoutingTable table) throws IOException {
        if (file == null) {
            return;
        }
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + file.getFileName() + ".tmp-" + Long.toHexString(System.nanoTime()));
        try {
            files.writeAndForce(tmp, RoutingJson.write(table).getBytes(StandardCharsets.UTF_8));
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system
            }
            files.atomicReplace(tmp, file);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot replace " + file + " atomically: " + e.getMessage(), e);
        } finally {
            Files.deleteIfExists(tmp);
        }
        files.forceDirectory(dir);
    }

    @Override
    public void subscribe(Consumer<RoutingTable> listener) {
        listeners.add(listener);
    }

    @Override
    public void addValidator(Function<RoutingTable, List<ConfigProblem>> validator) {
        validators.add(validator);
    }
}
