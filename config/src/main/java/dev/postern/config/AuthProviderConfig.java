package dev.postern.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/** One authentication provider a listener can name in its {@code auth} chain. */
public sealed interface AuthProviderConfig
        permits AuthProviderConfig.StaticFile,
                AuthProviderConfig.Http,
                LdapConfig,
                JwtProviderConfig,
                IntrospectionConfig {

    /** The name listeners refer to. */
    String name();

    /**
     * Users and password hashes in a file ({@code user:hash}, one a line), reloaded when it changes.
     *
     * @param name the provider's name
     * @param file the users file
     * @param reloadCheck how often the file is checked for changes
     */
    record StaticFile(String name, Path file, Duration reloadCheck) implements AuthProviderConfig {
        public StaticFile {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(file, "file");
            Objects.requireNonNull(reloadCheck, "reloadCheck");
        }
    }

    /**
     * An HTTP auth service speaking nginx's {@code auth_http} protocol.
     *
     * @param name the provider's name
     * @param url where requests go: http or https, host, optional port and path
     * @param timeout the longest a request may take (connecting included); then the login is answered with a
     *     temporary error, or from the cache's stale entries
     * @param headers extra request headers (a shared secret), never logged
     * @param tlsVerify check the service's certificate and host name (https only)
     * @param maxConnections keep-alive connections to the service at most
     */
    record Http(
            String name, URI url, Duration timeout, Map<String, Secret> headers, boolean tlsVerify, int maxConnections)
            implements AuthProviderConfig {
        public Http {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(url, "url");
            Objects.requireNonNull(timeout, "timeout");
            headers = Map.copyOf(headers);
        }

        /** Whether the service is reached over TLS. */
        public boolean https() {
            return "https".equalsIgnoreCase(url.getScheme());
        }

        /** The port to connect to: the URL's, or the scheme's default. */
        public int port() {
            return url.getPort() > 0 ? url.getPort() : https() ? 443 : 80;
        }

        @Override
        public String toString() {
            // the header values are Secrets, which print as ***; the URL may hold no credentials (the loader refuses)
            return "Http[name=" + name + ", url=" + url + ", timeout=" + timeout + ", headers=" + headers.keySet()
                    + ", tlsVerify=" + tlsVerify + ", maxConnections=" + maxConnections + "]";
        }
    }
}
