package dev.postern.proxy.transport;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The connections each client address has open on one listener before they log in ({@code
 * limits.pre-auth-connections-per-client}). A connection takes a slot when it is accepted (after its PROXY header,
 * so the address is the client's) and gives it back when it is handed to the relay or closes, whichever comes first.
 * A port-25 edge session never logs in, so it holds its slot to the end, as Postfix's
 * {@code smtpd_client_connection_count_limit} counts.
 */
public final class PreAuthSlots {
    private static final AttributeKey<Slot> KEY = AttributeKey.valueOf("postern.pre-auth-slot");

    private final int limit;
    private final ConcurrentHashMap<InetAddress, Integer> open = new ConcurrentHashMap<>();

    /** @param limit slots per address; 0 = unlimited (nothing is counted) */
    public PreAuthSlots(int limit) {
        this.limit = limit;
    }

    /** Takes a slot for {@code client} on {@code ch}; false (nothing taken) when the address has them all. */
    public boolean take(Channel ch, InetAddress client) {
        if (limit <= 0 || client == null) {
            return true;
        }
        Integer now = open.merge(client, 1, Integer::sum);
        if (now > limit) {
            give(client);
            return false;
        }
        Slot slot = new Slot(client);
        ch.attr(KEY).set(slot);
        ch.closeFuture().addListener(f -> slot.release());
        return true;
    }

    /** The connection logged in (or is relayed as it is): its slot is free again. Idempotent. */
    public static void release(Channel ch) {
        Slot slot = ch.attr(KEY).getAndSet(null);
        if (slot != null) {
            slot.release();
        }
    }

    /** Slots {@code client} holds now (for tests and the admin view). */
    public int held(InetAddress client) {
        return open.getOrDefault(client, 0);
    }

    private void give(InetAddress client) {
        open.computeIfPresent(client, (k, v) -> v <= 1 ? null : v - 1);
    }

    private final class Slot {
        private final InetAddress client;
        private boolean released;

        Slot(InetAddress client) {
            this.client = client;
        }

        // both callers run on the channel's event loop
        void release() {
            if (!released) {
                released = true;
                give(client);
            }
        }
    }
}
