package dev.postern.proxy.smtp.edge;

import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * What per-client limits count by: an IPv4 address, or the /64 of an IPv6 address (one customer's network, which a
 * host can move around in at will).
 *
 * @param high the first 64 bits of an IPv6 address; 0 for IPv4
 * @param low the IPv4 address; -1 for IPv6 (the /64 has no low part)
 */
record ClientKey(long high, long low) {

    static ClientKey of(InetAddress address) {
        byte[] b = address.getAddress();
        if (address instanceof Inet6Address) {
            long high = 0;
            for (int i = 0; i < 8; i++) {
                high = high << 8 | (b[i] & 0xff);
            }
            return new ClientKey(high, -1);
        }
        long v4 = 0;
        for (byte x : b) {
            v4 = v4 << 8 | (x & 0xff);
        }
        return new ClientKey(0, v4);
    }
}
