package dev.postern.config;

/**
 * One thing wrong with a configuration.
 *
 * @param path where, e.g. {@code listeners[2].port}
 * @param message what, e.g. {@code 70000 is not a port (1-65535)}
 */
public record ConfigProblem(String path, String message) {
    @Override
    public String toString() {
        return path.isEmpty() ? message : path + ": " + message;
    }
}
