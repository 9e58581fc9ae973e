package dev.postern.admin;

import dev.postern.config.ConfigProblem;
import java.util.List;
import java.util.Objects;

/** How a reload of the configuration file went ({@link ProxyControl#reloadConfig()}). */
public sealed interface ConfigReloadResult {
    /**
     * The file was valid and is in force for new sessions; live sessions keep the settings they started with.
     *
     * @param file the file that was read
     * @param listenersAdded listeners bound by this reload
     * @param listenersRemoved listeners that stopped accepting (their live sessions go on)
     * @param listenersChanged per changed listener, what changed in it ({@code bind}, {@code tls}, {@code auth}, ...)
     * @param changed the global sections swapped for new sessions ({@code auth}, {@code cache}, {@code throttle},
     *     {@code limits}, {@code timeouts}, {@code tls})
     * @param needsRestart the settings that changed but cannot change live, left as they were
     * @param routingSeedsIgnored the file's pools or routes differ from the live route store, which was kept
     */
    record Applied(
            String file,
            List<String> listenersAdded,
            List<String> listenersRemoved,
            List<ListenerChange> listenersChanged,
            List<String> changed,
            List<String> needsRestart,
            boolean routingSeedsIgnored)
            implements ConfigReloadResult {
        public Applied {
            Objects.requireNonNull(file, "file");
            listenersAdded = List.copyOf(listenersAdded);
            listenersRemoved = List.copyOf(listenersRemoved);
            listenersChanged = List.copyOf(listenersChanged);
            changed = List.copyOf(changed);
            needsRestart = List.copyOf(needsRestart);
        }

        /** Whether anything at all is different for new sessions. */
        public boolean anyChange() {
            return !listenersAdded.isEmpty()
                    || !listenersRemoved.isEmpty()
                    || !listenersChanged.isEmpty()
                    || !changed.isEmpty();
        }
    }

    /**
     * One changed listener.
     *
     * @param name the listener
     * @param what its settings that changed, by their configuration names
     */
    record ListenerChange(String name, List<String> what) {
        public ListenerChange {
            Objects.requireNonNull(name, "name");
            what = List.copyOf(what);
        }
    }

    /**
     * The file was not taken: the running configuration stays as it was.
     *
     * @param file the file that was read
     * @param problems every problem found, each with its path in the file (never a secret)
     */
    record Rejected(String file, List<ConfigProblem> problems) implements ConfigReloadResult {
        public Rejected {
            Objects.requireNonNull(file, "file");
            problems = List.copyOf(problems);
        }
    }
}
