package dev.postern.config;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.JsonParserDelegate;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Reads a Postern YAML configuration into a validated {@link PosternConfig}.
 *
 * <p>The YAML is read into a tree and walked by hand, so that every problem is reported at once, each naming its
 * path and value ({@code listeners[1].pool: no pool named 'dovcot' (pools: dovecot, postfix)}). In any string value
 * {@code ${env:NAME}} is replaced by an environment variable and {@code ${file:PATH}} by a file's content; relative
 * paths are relative to the configuration file's directory. Secrets never appear in a problem.
 *
 * <p>Tests build configurations from text with {@link #parse(String)} or {@link #parse(String, Path, Function)}.
 */
public final class ConfigLoader {
    static final List<String> KEYS =
            List.of("listeners", "tls", "pools", "routes", "routing", "timeouts", "limits", "admin", "dns");
    static final List<String> ROUTING_KEYS = List.of("store");
    static final List<String> ADMIN_KEYS = List.of("bind");

    private static final YAMLFactory YAML = YAMLFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            // `tls:` with nothing after it means "no value", not an empty string
            .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL)
            .build();
    private static final ObjectMapper MAPPER = new ObjectMapper(YAML);

    private ConfigLoader() {}

    /** Loads {@code file}, resolving {@code ${env:...}} from the process environment. */
    public static PosternConfig load(Path file) throws ConfigException {
        return load(file, System::getenv);
    }

    /** Loads {@code file}, resolving {@code ${env:NAME}} with {@code env} (which returns null for an unset name). */
    public static PosternConfig load(Path file, Function<String, String> env) throws ConfigException {
        Path absolute = file.toAbsolutePath().normalize();
        String yaml;
        try {
            yaml = Files.readString(absolute, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw single(absolute + " does not exist");
        } catch (CharacterCodingException e) {
            throw single(absolute + " is not UTF-8 text");
        } catch (FileSystemException e) {
            throw single(absolute + " cannot be read ("
                    + Objects.requireNonNullElse(e.getReason(), e.getClass().getSimpleName()) + ")");
        } catch (IOException e) {
            throw single(absolute + " cannot be read (" + e.getClass().getSimpleName() + ")");
        }
        return parse(yaml, absolute.getParent(), env, Optional.of(absolute));
    }

    /** Parses YAML text; relative paths resolve against the working directory. */
    public static PosternConfig parse(String yaml) throws ConfigException {
        return parse(yaml, Path.of(""));
    }

    /** Parses YAML text; relative paths resolve against {@code baseDir}. */
    public static PosternConfig parse(String yaml, Path baseDir) throws ConfigException {
        return parse(yaml, baseDir, System::getenv);
    }

    /**
     * Parses YAML text; relative paths resolve against {@code baseDir} and {@code ${env:NAME}} is looked up with
     * {@code env} (which returns null for an unset name).
     */
    public static PosternConfig parse(String yaml, Path baseDir, Function<String, String> env) throws ConfigException {
        return parse(yaml, baseDir, env, Optional.empty());
    }

    private static PosternConfig parse(String yaml, Path baseDir, Function<String, String> env, Optional<Path> source)
            throws ConfigException {
        Objects.requireNonNull(yaml, "yaml");
        Objects.requireNonNull(env, "env");
        Path base = baseDir.toAbsolutePath().normalize();
        JsonNode tree = readTree(yaml);
        Problems problems = new Problems();
        Node root = Node.root(tree, new Node.Context(problems, new Interpolator(env, base), base));
        if (!root.isPresent()) {
            throw single("the configuration is empty (it needs at least listeners)");
        }
        if (!root.isMapping(KEYS)) {
            problems.throwIfAny();
        }
        Node timeoutsNode = root.get("timeouts");
        TimeoutsConfig timeouts = SettingsReader.timeouts(timeoutsNode, TimeoutsConfig.DEFAULTS);
        LimitsConfig limits = SettingsReader.limits(root.get("limits"), LimitsConfig.DEFAULTS);
        TlsConfig tls = TlsReader.read(root.get("tls"));
        List<PoolsReader.PoolDraft> pools = PoolsReader.read(root.get("pools"));
        // Listeners inherit the global settings; when those are broken (reported) the defaults stand in, so that
        // the listeners' own problems are still found.
        ListenersReader listenersReader = new ListenersReader(
                problems,
                pools,
                timeouts != null ? timeouts : TimeoutsConfig.DEFAULTS,
                limits != null ? limits : LimitsConfig.DEFAULTS);
        List<ListenerConfig> listeners = listenersReader.read(root.get("listeners"));
        AdminConfig admin = admin(root.get("admin"), listenersReader);
        java.util.Set<String> poolNames = new java.util.LinkedHashSet<>();
        pools.forEach(p -> {
            if (p.name() != null) {
                poolNames.add(p.name());
            }
        });
        Routes routes = RoutesReader.read(root.get("routes"), poolNames);
        Optional<Path> routeStore = Optional.empty();
        Node routing = root.get("routing");
        if (routing.isMapping(ROUTING_KEYS) && routing.get("store").isPresent()) {
            routeStore = Optional.ofNullable(routing.get("store").filePath());
        }
        DnsConfig dns = DnsReader.dns(root.get("dns"));
        problems.throwIfAny();
        return new PosternConfig(
                listeners,
                tls,
                pools.stream().map(PoolsReader.PoolDraft::pool).toList(),
                timeouts,
                limits,
                admin,
                routes,
                routeStore,
                dns,
                source);
    }

    /**
     * Reads a YAML fragment with {@code reader}, for the tests of section readers that no top-level key reaches yet
     * (the SMTP edge's {@code dnsbl} and {@code spf}, which a listener will carry).
     *
     * @throws ConfigException with every problem {@code reader} reported
     */
    static <T> T readFragment(String yaml, Function<Node, T> reader) throws ConfigException {
        JsonNode tree = readTree(yaml);
        Problems problems = new Problems();
        Path base = Path.of("").toAbsolutePath();
        Node root = Node.root(tree, new Node.Context(problems, new Interpolator(name -> null, base), base));
        T value = reader.apply(root);
        problems.throwIfAny();
        return value;
    }

    private static AdminConfig admin(Node node, ListenersReader binds) {
        if (!node.isMapping(ADMIN_KEYS)) {
            return AdminConfig.DISABLED;
        }
        Node bindNode = node.get("bind");
        if (!bindNode.isPresent()) {
            return AdminConfig.DISABLED;
        }
        HostPort bind = bindNode.hostPort();
        if (bind == null || !binds.claim(bindNode, bind, "admin.bind")) {
            return null;
        }
        return new AdminConfig(Optional.of(bind));
    }

    private static JsonNode readTree(String yaml) throws ConfigException {
        try (JsonParser parser = new NoAliases(YAML.createParser(yaml))) {
            JsonNode tree = MAPPER.readTree(parser);
            if (tree != null && parser.nextToken() != null) {
                throw single("line " + parser.currentLocation().getLineNr()
                        + ": a second YAML document; a configuration is one document");
            }
            return tree;
        } catch (JsonProcessingException e) {
            throw single(syntaxError(e));
        } catch (IOException e) {
            throw single("cannot read the YAML (" + e.getClass().getSimpleName() + ")");
        }
    }

    /**
     * The problem and where it is, without the source excerpt SnakeYAML appends (which may hold a secret written
     * inline in the file).
     */
    private static String syntaxError(JsonProcessingException e) {
        String what;
        if (e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException marked) {
            what = marked.getProblem();
            if (marked.getContext() != null) {
                what += " (" + marked.getContext() + ")";
            }
        } else {
            what = e.getOriginalMessage();
        }
        int newline = what.indexOf('\n');
        if (newline >= 0) {
            what = what.substring(0, newline);
        }
        var where = e.getLocation();
        return where == null
                ? "YAML syntax error: " + what
                : "YAML syntax error at line " + where.getLineNr() + ", column " + where.getColumnNr() + ": " + what;
    }

    private static ConfigException single(String message) {
        return new ConfigException(List.of(new ConfigProblem("", message)));
    }

    /** Refuses YAML aliases ({@code *name}): Jackson's tree would read them as the plain string "name". */
    private static final class NoAliases extends JsonParserDelegate {
        NoAliases(JsonParser delegate) {
            super(delegate);
        }

        @Override
        public JsonToken nextToken() throws IOException {
            JsonToken token = super.nextToken();
            if (delegate instanceof YAMLParser yaml && yaml.isCurrentAlias()) {
                throw new JsonParseException(
                        this, "aliases (*" + yaml.getText() + ") are not supported; repeat the value instead");
            }
            return token;
        }
    }
}
