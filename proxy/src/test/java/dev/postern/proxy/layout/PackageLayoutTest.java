package dev.postern.proxy.layout;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layout rules of the main sources of config, admin and proxy, read from the sources themselves: no package
 * cycle (a login walks the packages in one direction), nothing below start-up imports the root package, and no main
 * class over the house limit of 400 lines.
 */
class PackageLayoutTest {
    private static final List<String> MODULES = List.of("config", "admin", "proxy");
    private static final Pattern PACKAGE =
            Pattern.compile("^package\\s+(dev\\.postern(?:\\.\\w+)*);", Pattern.MULTILINE);
    /** A reference to a class by its qualified name, in an import or inline. */
    private static final Pattern REFERENCE = Pattern.compile("\\b(dev\\.postern(?:\\.[a-z_][a-z0-9_]*)*)\\.[A-Z]");

    private static final int MAX_LINES = 400;
    private static final String ROOT = "dev.postern.proxy";

    private static final Map<String, Set<String>> uses = new TreeMap<>();
    private static final Map<Path, Integer> lines = new HashMap<>();

    @BeforeAll
    static void readSources() {
        Path base = Path.of("").toAbsolutePath().getParent();
        for (String module : MODULES) {
            Path src = base.resolve(module).resolve("src/main/java");
            assertThat(src).as("main sources of %s", module).isDirectory();
            try (Stream<Path> files = Files.walk(src)) {
                files.filter(p -> p.toString().endsWith(".java")).forEach(PackageLayoutTest::read);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        assertThat(uses).as("packages read").containsKeys(ROOT, ROOT + ".login", "dev.postern.config");
    }

    private static void read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        lines.put(file, (int) text.chars().filter(c -> c == '\n').count());
        Matcher pkg = PACKAGE.matcher(text);
        if (!pkg.find()) {
            return;
        }
        String own = pkg.group(1);
        Set<String> used = uses.computeIfAbsent(own, k -> new TreeSet<>());
        Matcher ref = REFERENCE.matcher(text.substring(pkg.end()));
        while (ref.find()) {
            if (!ref.group(1).equals(own)) {
                used.add(ref.group(1));
            }
        }
    }

    @Test
    void noTwoPackagesDependOnEachOtherThroughAnyPath() {
        assertThat(cycles())
                .as("package cycles (each line: packages that reach each other)")
                .isEmpty();
    }

    @Test
    void nothingBelowStartUpImportsTheRootPackage() {
        List<String> offenders = new ArrayList<>();
        uses.forEach((pkg, used) -> {
            if (!pkg.equals(ROOT) && used.contains(ROOT)) {
                offenders.add(pkg);
            }
        });
        assertThat(offenders).as("packages that import %s", ROOT).isEmpty();
    }

    @Test
    void noMainClassIsOverFourHundredLines() {
        List<String> big = new ArrayList<>();
        lines.forEach((file, n) -> {
            if (n > MAX_LINES) {
                big.add(file.getFileName() + " (" + n + ")");
            }
        });
        assertThat(big).as("main classes over %d lines", MAX_LINES).isEmpty();
    }

    @Test
    void theCheckFindsACycleWhenThereIsOne() {
        Map<String, Set<String>> graph = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a"));
        assertThat(stronglyConnected(graph)).containsExactly(List.of("a", "b", "c"));
    }

    private static List<List<String>> cycles() {
        return stronglyConnected(uses);
    }

    /** The strongly connected components with more than one package, each sorted (Tarjan's algorithm). */
    static List<List<String>> stronglyConnected(Map<String, Set<String>> graph) {
        Tarjan t = new Tarjan(graph);
        for (String v : new TreeSet<>(graph.keySet())) {
            if (!t.index.containsKey(v)) {
                t.connect(v);
            }
        }
        return t.components;
    }

    private static final class Tarjan {
        final Map<String, Set<String>> graph;
        final Map<String, Integer> index = new HashMap<>();
        final Map<String, Integer> low = new HashMap<>();
        final Deque<String> stack = new ArrayDeque<>();
        final Set<String> onStack = new TreeSet<>();
        final List<List<String>> components = new ArrayList<>();
        int next;

        Tarjan(Map<String, Set<String>> graph) {
            this.graph = graph;
        }

        void connect(String v) {
            index.put(v, next);
            low.put(v, next);
            next++;
            stack.push(v);
            onStack.add(v);
            for (String w : graph.getOrDefault(v, Set.of())) {
                if (!index.containsKey(w)) {
                    connect(w);
                    low.put(v, Math.min(low.get(v), low.get(w)));
                } else if (onStack.contains(w)) {
                    low.put(v, Math.min(low.get(v), index.get(w)));
                }
            }
            if (low.get(v).equals(index.get(v))) {
                List<String> component = new ArrayList<>();
                String w;
                do {
                    w = stack.pop();
                    onStack.remove(w);
                    component.add(w);
                } while (!w.equals(v));
                if (component.size() > 1) {
                    component.sort(null);
                    components.add(component);
                }
            }
        }
    }
}
