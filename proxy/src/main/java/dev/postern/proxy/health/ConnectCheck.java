package dev.postern.proxy.health;

import dev.postern.proxy.transport.Transport;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Promise;

/**
 * Mode {@code connect}: the backend accepts a TCP connection, which is closed at once without a word (a PROXY v2
 * backend sees no header, as from a load balancer's own probe). The mode of tcp pools.
 */
public final class ConnectCheck extends ChannelCheck {
    public ConnectCheck(Transport transport) {
        super(transport);
    }

    @Override
    void install(Channel ch, Target target, Promise<Void> result, Progress progress) {}

    @Override
    void connected(Channel ch, Target target, Promise<Void> result) {
        result.trySuccess(null);
        ch.close();
    }
}
