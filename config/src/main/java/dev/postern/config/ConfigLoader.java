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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

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
    static final List<String> KEYS = List.of(
            "listeners",
            "tls",
            "pools",
            "routes",
            "routing",
            "timeouts",
            "limits",
            "admin",
            "auth",
            "dns",
            "cluster",
            "transport");
    static final List<String> ADMIN_KEYS = List.of("bind", "tls", "tokens", "metrics-auth");
    static final List<String> TOKEN_KEYS = List.of("name", "token", "access");

    /** Shorter tokens are too easy to guess. */
    static final int MIN_TOKEN_LENGTH = 16;

    /** RFC 6750 b64token: what an {@code Authorization: Bearer} header can carry. */
    private static final Pattern BEARER_TOKEN = Pattern.compile("[A-Za-z0-9._~+/-]+=*");

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
        AuthReader authReader = new AuthReader();
        AuthConfig auth = authReader.read(root.get("auth"));
        // Listeners inherit the global settings; when those are broken (reported) the defaults stand in, so that
        // the listeners' own problems are still found.
        ListenersReader listenersReader = new ListenersReader(
                problems,
                pools,
                timeouts != null ? timeouts : TimeoutsConfig.DEFAULTS,
                limits != null ? limits : LimitsConfig.DEFAULTS,
                authReader);
        List<ListenerConfig> listeners = listenersReader.read(root.get("listeners"));
        AdminConfig admin = admin(root.get("admin"), listenersReader);
        loginChecksSpeakAProtocol(pools, listeners, problems);
        java.util.Set<String> poolNames = new java.util.LinkedHashSet<>();
        pools.forEach(p -> {
            if (p.name() != null) {
                poolNames.add(p.name());
            }
        });
        Routes routes = RoutesReader.read(root.get("routes"), poolNames);
        ClusterReader.Routing routing = ClusterReader.read(root.get("routing"), root.get("cluster"));
        HoldsConfig holds = ClusterReader.holds(root.get("routing"));
        DnsConfig dns = DnsReader.dns(root.get("dns"));
        TransportKind transport = TransportKind.read(root.get("transport"));
        problems.throwIfAny();
        return new PosternConfig(
                listeners,
                tls,
                pools.stream().map(PoolsReader.PoolDraft::pool).toList(),
                timeouts,
                limits,
                admin,
                auth,
                routes,
                routing.file(),
                dns,
                routing.cluster(),
                source,
                holds,
                transport);
    }

    /** A login health check of a pool that names no protocol needs one from the listeners that use the pool. */
    private static void loginChecksSpeakAProtocol(
            List<PoolsReader.PoolDraft> pools, List<ListenerConfig> listeners, Problems problems) {
        if (listeners == null) {
            return; // their problems are reported; which protocol a pool is checked in is unknown
        }
        for (PoolsReader.PoolDraft draft : pools) {
            Pool pool = draft.pool();
            if (pool == null
                    || pool.healthCheck().mode() != HealthCheckConfig.Mode.LOGIN
                    || pool.healthCheck().protocol().isPresent()) {
                continue;
            }
            Protocol derived = HealthCheckConfig.derivedProtocol(pool, listeners);
            if (!HealthCheckConfig.LOGIN_PROTOCOLS.contains(derived)) {
                problems.add(
                        draft.path() + ".health-check.mode",
                        "login is only for imap, pop3 and smtp pools (pool '" + pool.name() + "' is checked as "
                                + derived.configName() + "; set health-check.protocol)");
            }
        }
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
        Node tlsNode = node.get("tls");
        Boolean tls = tlsNode.isPresent() ? tlsNode.bool() : Boolean.FALSE;
        Node metricsAuthNode = node.get("metrics-auth");
        Boolean metricsAuth = metricsAuthNode.isPresent() ? metricsAuthNode.bool() : Boolean.FALSE;
        List<AdminConfig.Token> tokens = tokens(node.get("tokens"));
        Node bindNode = node.get("bind");
        Optional<HostPort> bind = Optional.empty();
        boolean valid = tls != null && metricsAuth != null && tokens != null;
        if (bindNode.isPresent()) {
            HostPort hp = bindNode.hostPort();
            valid &= hp != null && binds.claim(bindNode, hp, "admin.bind");
            bind = Optional.ofNullable(hp);
        }
        return valid ? new AdminConfig(bind, tls, tokens, metricsAuth) : null;
    }

    /** The API tokens; null when any is invalid (reported). A token's value never appears in a problem. */
    private static List<AdminConfig.Token> tokens(Node node) {
        List<AdminConfig.Token> tokens = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        Map<Secret, String> values = new HashMap<>();
        boolean valid = true;
        for (Node element : node.list()) {
            if (!element.isMapping(TOKEN_KEYS)) {
                if (!element.isPresent()) {
                    element.problem("is empty (a token needs name and token)");
                }
                valid = false;
                continue;
            }
            Node nameNode = element.get("name").required();
            String name = nameNode.name();
            if (name != null) {
                String previous = names.putIfAbsent(name, element.path());
                if (previous != null) {
                    nameNode.problem("'" + name + "' is already used by " + previous);
                    name = null;
                }
            }
            Node tokenNode = element.get("token").required();
            Secret token = tokenNode.secret();
            if (token != null) {
                if (token.reveal().length() < MIN_TOKEN_LENGTH) {
                    tokenNode.problem("is too short (at least " + MIN_TOKEN_LENGTH
                            + " characters; e.g. the output of `openssl rand -base64 32`)");
                    token = null;
                } else if (!BEARER_TOKEN.matcher(token.reveal()).matches()) {
                    tokenNode.problem("has characters a bearer token cannot carry (letters, digits and -._~+/, then"
                            + " '=' padding)");
                    token = null;
                } else {
                    String previous = values.putIfAbsent(token, element.path());
                    if (previous != null) {
                        tokenNode.problem("is the same token as " + previous + "'s; give each its own");
                        token = null;
                    }
                }
            }
            Node accessNode = element.get("access");
            AdminConfig.Access access =
                    accessNode.isPresent() ? accessNode.oneOf(AdminConfig.Access.class) : AdminConfig.Access.READ_ONLY;
            if (name == null || token == null || access == null) {
                valid = false;
            } else {
                tokens.add(new AdminConfig.Token(name, token, access));
            }
        }
        return valid ? tokens : null;
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
