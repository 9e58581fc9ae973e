package dev.postern.config;

import java.time.Duration;
import java.util.List;

/** Reads the {@code proxy-protocol} block of a listener. */
final class ProxyProtocolReader {
    static final List<String> KEYS = List.of("mode", "trusted", "timeout");

    /** The header comes first, from a balancer on a near network: longer than this is a mistake. */
    static final Duration MAX_TIMEOUT = Duration.ofMinutes(1);

    private ProxyProtocolReader() {}

    /** The block; {@link ProxyProtocolConfig#OFF} when absent, null when invalid (reported). */
    static ProxyProtocolConfig read(Node node) {
        if (!node.isPresent()) {
            return ProxyProtocolConfig.OFF;
        }
        if (!node.isMapping(KEYS)) {
            return null;
        }
        Node modeNode = node.get("mode");
        Node trustedNode = node.get("trusted");
        Node timeoutNode = node.get("timeout");
        if (!modeNode.isPresent()) {
            // the default is off: a block with networks but no mode would silently read no header at all
            modeNode.problem("is required (off, optional or required): without it the block does nothing");
            return null;
        }
        ProxyProtocolConfig.Mode mode = modeNode.oneOf(ProxyProtocolConfig.Mode.class);
        List<Cidr> trusted = Cidr.list(trustedNode);
        boolean valid = mode != null && trusted != null;
        if (mode != null && mode != ProxyProtocolConfig.Mode.OFF && trusted != null && trusted.isEmpty()) {
            String what = "the networks of the balancers that may send a header, e.g. [10.0.0.0/8]";
            if (trustedNode.isPresent()) {
                trustedNode.problem("is empty (" + what + ")");
            } else {
                trustedNode.problem("is required when mode is " + mode.configName() + " (" + what + ")");
            }
            valid = false;
        }
        Duration timeout = ProxyProtocolConfig.DEFAULT_TIMEOUT;
        if (timeoutNode.isPresent()) {
            timeout = timeoutNode.duration(true);
            if (timeout != null && timeout.compareTo(MAX_TIMEOUT) > 0) {
                timeoutNode.problem(ConfigJson.formatDuration(timeout) + " is too long (at most "
                        + ConfigJson.formatDuration(MAX_TIMEOUT) + ": the header is the first thing a balancer sends)");
                timeout = null;
            }
            valid &= timeout != null;
        }
        return valid ? new ProxyProtocolConfig(mode, trusted, timeout) : null;
    }
}
