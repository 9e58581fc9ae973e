package dev.postern.proxy;

import ch.qos.logback.classic.Level;
import dev.postern.admin.cli.AdminCli;
import dev.postern.config.ConfigException;
import dev.postern.config.ConfigLoader;
import dev.postern.config.ConfigProblem;
import dev.postern.config.PosternConfig;
import dev.postern.config.TlsMode;
import dev.postern.proxy.metrics.PrometheusMetrics;
import dev.postern.proxy.tls.ReloadSignal;
import dev.postern.proxy.tls.TlsManager;
import dev.postern.proxy.tls.TlsSetupException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The command line: {@code postern --config FILE [--check] [--debug] [--log-format text|json]}. Errors are one line
 * each on stderr and exit code 1; stack traces only with {@code --debug}.
 */
public final class Main {
    /** The environment variable that sets the log format when {@code --log-format} is not given. */
    static final String LOG_FORMAT_ENV = "POSTERN_LOG_FORMAT";

    private static final String USAGE = "usage: postern --config FILE [--check] [--debug] [--log-format text|json]\n"
            + "       postern admin COMMAND ...   (the admin API's command line; postern admin help)\n"
            + "  --config FILE  the YAML configuration (see config/postern.yaml)\n"
            + "  --check        validate the configuration (and load its certificates and keys), then exit 0 or 1\n"
            + "  --debug        debug logging, and stack traces with errors\n"
            + "  --log-format F text (the default) or json: one JSON object a line, the session line's facts as"
            + " fields;\n                 the default comes from the environment variable " + LOG_FORMAT_ENV;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command line; returns the exit code (blocks while Postern runs, unless {@code --check}). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length > 0 && args[0].equals("admin")) {
            // the operator's command line for the admin API: postern admin pools, drain, explain, ...
            return AdminCli.run(java.util.Arrays.copyOfRange(args, 1, args.length), out, err);
        }
        Path configFile = null;
        boolean check = false;
        boolean debug = false;
        String logFormat = System.getenv(LOG_FORMAT_ENV);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--config", "-c" -> {
                    if (i + 1 >= args.length) {
                        err.println("postern: --config needs a file\n" + USAGE);
                        return 1;
                    }
                    configFile = Path.of(args[++i]);
                }
                case "--check" -> check = true;
                case "--debug" -> debug = true;
                case "--log-format" -> {
                    if (i + 1 >= args.length) {
                        err.println("postern: --log-format needs text or json\n" + USAGE);
                        return 1;
                    }
                    logFormat = args[++i];
                }
                case "--help", "-h" -> {
                    out.println(USAGE);
                    return 0;
                }
                default -> {
                    err.println("postern: unknown argument '" + args[i] + "'\n" + USAGE);
                    return 1;
                }
            }
        }
        LogFormat format = LogFormat.TEXT;
        if (logFormat != null && !logFormat.isEmpty()) {
            Optional<LogFormat> named = LogFormat.named(logFormat);
            if (named.isEmpty()) {
                err.println("postern: log format '" + logFormat + "' is neither text nor json");
                return 1;
            }
            format = named.get();
        }
        LogOutput.use(format);
        if (configFile == null) {
            err.println("postern: no configuration file given\n" + USAGE);
            return 1;
        }
        if (debug) {
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).setLevel(Level.DEBUG);
        }
        if (!Files.isRegularFile(configFile)) {
            err.println("postern: " + configFile + ": no such file");
            return 1;
        }
        PosternConfig config;
        try {
            config = ConfigLoader.load(configFile);
        } catch (ConfigException e) {
            err.println("postern: " + configFile + ": " + e.problems().size() + " problem(s):");
            for (ConfigProblem p : e.problems()) {
                err.println("  " + p);
            }
            return 1;
        }
        if (check) {
            return check(config, configFile, out, err, debug);
        }
        return serve(config, err, debug);
    }

    private static int check(PosternConfig config, Path file, PrintStream out, PrintStream err, boolean debug) {
        if (config.listeners().stream().anyMatch(l -> l.tls() != TlsMode.NONE)) {
            try {
                TlsManager.create(config.tls(), config.timeouts().tlsHandshake());
            } catch (TlsSetupException e) {
                err.println("postern: " + e.getMessage());
                if (debug) {
                    e.printStackTrace(err);
                }
                return 1;
            }
        }
        out.println("postern: " + file + ": OK (" + config.listeners().size() + " listeners, "
                + config.pools().size() + " pools)");
        return 0;
    }

    private static int serve(PosternConfig config, PrintStream err, boolean debug) {
        Logger log = LoggerFactory.getLogger(Main.class);
        Postern postern;
        try {
            postern = Postern.start(config, PrometheusMetrics.create());
        } catch (StartupException e) {
            err.println("postern: " + e.getMessage());
            if (debug) {
                e.printStackTrace(err);
            }
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            log.info("shutdown requested");
                            postern.stop(postern.config().timeouts().shutdownGrace());
                            stopped.countDown();
                        },
                        "postern-shutdown"));
        // SIGHUP: the whole file again (listeners, auth, limits, timeouts, TLS and its files); a bad file changes
        // nothing
        ReloadSignal.install(postern::reload);
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }
}
