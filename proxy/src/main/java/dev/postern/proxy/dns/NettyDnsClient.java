package dev.postern.proxy.dns;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.postern.config.DnsConfig;
import dev.postern.config.HostPort;
import dev.postern.proxy.transport.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRecordDecoder;
import io.netty.handler.codec.dns.DnsPtrRecord;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.resolver.HostsFileEntriesResolver;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import io.netty.resolver.dns.DnsServerAddressStream;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link DnsClient} of a Postern process: one Netty {@link DnsNameResolver} on one event loop, asking the
 * configured name servers (or the system's) in order, the next one when a query times out or fails; each is asked
 * once, with the configured timeout. Truncated UDP answers are asked again over TCP.
 *
 * <p>Answers are cached by name and type for their TTL, bounded by the configured minimum and maximum, NXDOMAIN and
 * NODATA for the TTL their SOA gives (RFC 2308); failures are never cached. Concurrent lookups of one name share one
 * query. The cache is ours rather than Netty's {@code DefaultDnsCache}, which holds addresses only and sits behind
 * {@code resolve()}, where NXDOMAIN, NODATA and SERVFAIL all look alike; RFC 7208 needs them told apart.
 */
public final class NettyDnsClient implements DnsClient, AutoCloseable {
    /** Cached answers at most (a name is small: this stays within a few MiB). */
    static final int MAX_CACHE_ENTRIES = 20_000;

    private static final Logger log = LoggerFactory.getLogger(NettyDnsClient.class);
    private static final int MAX_CNAME_HOPS = 8;

    private final EventLoop loop;
    private final DnsNameResolver resolver;
    private final List<InetSocketAddress> servers;
    private final long minTtl;
    private final long maxTtl;
    private final TtlCache<Key, DnsAnswer<?>> cache;

    private record Key(String name, DnsType<?> type) {}

    private NettyDnsClient(DnsConfig config, EventLoop loop, Transport transport, Ticker ticker) {
        this.loop = loop;
        this.servers = config.systemServers()
                ? systemServers()
                : config.servers().stream().map(NettyDnsClient::address).toList();
        this.resolver = new DnsNameResolverBuilder(loop)
                .datagramChannelType(transport.datagramChannelType())
                .socketChannelType(transport.socketChannelType())
                .nameServerProvider(new SequentialDnsServerAddressStreamProvider(servers))
                .queryTimeoutMillis(Math.max(1, config.timeout().toMillis()))
                .recursionDesired(true)
                .resolvedAddressTypes(ResolvedAddressTypes.IPV4_PREFERRED)
                .hostsFileEntriesResolver(noHostsFile())
                .searchDomains(List.of())
                .ndots(1)
                .build();
        this.minTtl = config.cacheMinTtl().toSeconds();
        this.maxTtl = config.cacheMaxTtl().toSeconds();
        this.cache = maxTtl == 0
                ? null
                : new TtlCache<>(ticker, MAX_CACHE_ENTRIES, answer -> TimeUnit.SECONDS.toNanos(cacheSeconds(answer)));
    }

    /**
     * A client on one of {@code transport}'s event loops, with the channel types of its transport.
     *
     * @param config servers, timeout and cache bounds
     */
    public static NettyDnsClient create(DnsConfig config, Transport transport) {
        return create(config, transport.workerGroup().next(), transport, Ticker.systemTicker());
    }

    /**
     * A client on {@code loop}.
     *
     * @param transport the transport {@code loop} belongs to, which gives the channel types
     * @param ticker the cache's clock
     */
    public static NettyDnsClient create(DnsConfig config, EventLoop loop, Transport transport, Ticker ticker) {
        Objects.requireNonNull(config, "config");
        NettyDnsClient client = new NettyDnsClient(config, loop, transport, ticker);
        log.debug(
                "DNS client: servers {}, timeout {} ms, cache TTL {}..{} s",
                client.servers,
                config.timeout().toMillis(),
                client.minTtl,
                client.maxTtl);
        return client;
    }

    /** The name servers asked, in order. */
    public List<InetSocketAddress> servers() {
        return servers;
    }

    @Override
    public <T> CompletionStage<DnsAnswer<T>> lookup(String name, DnsType<T> type) {
        String normalized = DnsNames.normalize(name);
        if (normalized == null) {
            return CompletableFuture.completedFuture(new DnsAnswer.NoRecords<>(true, 0));
        }
        if (cache == null) {
            return query(normalized, type);
        }
        return typed(cache.get(new Key(normalized, type), key -> typed(query(normalized, type))));
    }

    /** The key holds the type, so a cached answer has the records its type says. */
    @SuppressWarnings("unchecked")
    private static <A> CompletionStage<A> typed(CompletionStage<?> stage) {
        return (CompletionStage<A>) stage;
    }

    private <T> CompletableFuture<DnsAnswer<T>> query(String name, DnsType<T> type) {
        CompletableFuture<DnsAnswer<T>> result = new CompletableFuture<>();
        if (loop.inEventLoop()) {
            ask(name, type, 0, result);
        } else {
            loop.execute(() -> ask(name, type, 0, result));
        }
        return result;
    }

    private <T> void ask(String name, DnsType<T> type, int server, CompletableFuture<DnsAnswer<T>> result) {
        Future<AddressedEnvelope<DnsResponse, InetSocketAddress>> reply;
        try {
            reply = resolver.query(servers.get(server), new DefaultDnsQuestion(name, type.recordType()));
        } catch (RuntimeException e) {
            // an encoding problem with this name: no query can be sent for it
            result.complete(new DnsAnswer.NoRecords<>(true, 0));
            return;
        }
        reply.addListener(f -> {
            DnsAnswer<T> answer;
            if (f.isSuccess()) {
                @SuppressWarnings("unchecked")
                AddressedEnvelope<DnsResponse, InetSocketAddress> envelope =
                        (AddressedEnvelope<DnsResponse, InetSocketAddress>) f.getNow();
                try {
                    answer = decode(name, type, envelope.content());
                } catch (RuntimeException e) {
                    // record data Netty decoded but that makes no sense for its type
                    answer = new DnsAnswer.Failed<>("malformed answer");
                } finally {
                    envelope.release();
                }
            } else {
                answer = new DnsAnswer.Failed<>(failure(f.cause()));
            }
            if (answer instanceof DnsAnswer.Failed<T> failed && server + 1 < servers.size()) {
                log.debug(
                        "{} {} from {}: {}; asking the next server", type, name, servers.get(server), failed.reason());
                ask(name, type, server + 1, result);
                return;
            }
            result.complete(answer);
        });
    }

    private static String failure(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof DnsNameResolverTimeoutException) {
                return "timeout";
            }
        }
        return cause.getClass().getSimpleName();
    }

    /** The mnemonic of a response code (RFC 1035, 2136). */
    private static String rcode(int code) {
        switch (code) {
            case 1:
                return "FORMERR";
            case 2:
                return "SERVFAIL";
            case 4:
                return "NOTIMP";
            case 5:
                return "REFUSED";
            default:
                return "RCODE " + code;
        }
    }

    /** The records of {@code type} for {@code name} (or the names its CNAMEs lead to) in {@code response}. */
    static <T> DnsAnswer<T> decode(String name, DnsType<T> type, DnsResponse response) {
        DnsResponseCode code = response.code();
        if (code.equals(DnsResponseCode.NXDOMAIN)) {
            return new DnsAnswer.NoRecords<>(true, negativeTtl(response));
        }
        if (!code.equals(DnsResponseCode.NOERROR)) {
            return new DnsAnswer.Failed<>(rcode(code.intValue()));
        }
        if (response.isTruncated()) {
            return new DnsAnswer.Failed<>("truncated");
        }
        int count = response.count(DnsSection.ANSWER);
        Set<String> owners = new HashSet<>();
        owners.add(name);
        long ttl = Long.MAX_VALUE;
        // CNAMEs come first in a resolver's answer, but nothing requires it: walk until the set stops growing.
        for (int hop = 0; hop < MAX_CNAME_HOPS; hop++) {
            boolean grew = false;
            for (int i = 0; i < count; i++) {
                DnsRecord r = response.recordAt(DnsSection.ANSWER, i);
                if (r.type().equals(DnsRecordType.CNAME)
                        && owners.contains(owner(r))
                        && r instanceof DnsRawRecord raw) {
                    String target = DnsNames.normalize(decodeName(raw.content(), 0));
                    if (target != null && owners.add(target)) {
                        ttl = Math.min(ttl, r.timeToLive());
                        grew = true;
                    }
                }
            }
            if (!grew) {
                break;
            }
        }
        List<T> values = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            DnsRecord r = response.recordAt(DnsSection.ANSWER, i);
            if (!r.type().equals(type.recordType()) || !owners.contains(owner(r))) {
                continue;
            }
            T value = decodeRecord(type, r);
            if (value != null) {
                values.add(value);
                ttl = Math.min(ttl, r.timeToLive());
            }
        }
        if (values.isEmpty()) {
            return new DnsAnswer.NoRecords<>(false, negativeTtl(response));
        }
        return new DnsAnswer.Found<>(values, ttl);
    }

    @SuppressWarnings("unchecked")
    private static <T> T decodeRecord(DnsType<T> type, DnsRecord r) {
        if (type == DnsType.PTR) {
            return r instanceof DnsPtrRecord ptr ? (T) stripDot(ptr.hostname()) : null;
        }
        if (!(r instanceof DnsRawRecord raw)) {
            return null;
        }
        ByteBuf content = raw.content();
        int length = content.readableBytes();
        if (type == DnsType.A || type == DnsType.AAAA) {
            if (length != (type == DnsType.A ? 4 : 16)) {
                return null;
            }
            byte[] bytes = new byte[length];
            content.getBytes(content.readerIndex(), bytes);
            try {
                return (T) InetAddress.getByAddress(bytes);
            } catch (UnknownHostException e) {
                return null;
            }
        }
        if (type == DnsType.TXT) {
            return (T) txt(content);
        }
        if (type == DnsType.MX) {
            if (length < 3) {
                return null;
            }
            int preference = content.getUnsignedShort(content.readerIndex());
            return (T) new MxRecord(preference, stripDot(decodeName(content, 2)));
        }
        return null;
    }

    /** The character-strings of a TXT record, joined; each byte one character (SPF records are ASCII). */
    private static String txt(ByteBuf content) {
        StringBuilder out = new StringBuilder(content.readableBytes());
        int i = content.readerIndex();
        int end = content.writerIndex();
        while (i < end) {
            int len = content.getUnsignedByte(i++);
            int stop = Math.min(end, i + len);
            out.append(content.toString(i, stop - i, StandardCharsets.ISO_8859_1));
            i = stop;
        }
        return out.toString();
    }

    /** A (possibly compressed) name in record data, starting {@code skip} bytes in. */
    private static String decodeName(ByteBuf content, int skip) {
        // the record's buffer shares the whole message, so compression pointers resolve
        ByteBuf in = content.duplicate();
        in.readerIndex(in.readerIndex() + skip);
        try {
            return DefaultDnsRecordDecoder.decodeName(in);
        } catch (RuntimeException e) {
            return "";
        }
    }

    /** RFC 2308: the smaller of the SOA's TTL and its MINIMUM field; 0 without an SOA. */
    private static long negativeTtl(DnsResponse response) {
        for (int i = 0; i < response.count(DnsSection.AUTHORITY); i++) {
            DnsRecord r = response.recordAt(DnsSection.AUTHORITY, i);
            if (r.type().equals(DnsRecordType.SOA) && r instanceof DnsRawRecord raw) {
                ByteBuf c = raw.content();
                if (c.readableBytes() >= 20) {
                    return Math.min(r.timeToLive(), c.getUnsignedInt(c.writerIndex() - 4));
                }
            }
        }
        return 0;
    }

    private static String owner(DnsRecord r) {
        return stripDot(r.name()).toLowerCase(java.util.Locale.ROOT);
    }

    private static String stripDot(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    /** Seconds an answer stays cached: its TTL within the configured bounds; failures not at all. */
    long cacheSeconds(DnsAnswer<?> answer) {
        long ttl;
        if (answer instanceof DnsAnswer.Found<?> found) {
            ttl = found.ttlSeconds();
        } else if (answer instanceof DnsAnswer.NoRecords<?> none) {
            ttl = none.ttlSeconds();
        } else {
            return 0;
        }
        return Math.min(maxTtl, Math.max(minTtl, ttl));
    }

    private static InetSocketAddress address(HostPort server) {
        try {
            // the config holds IP literals only: this parses, it does not look anything up
            String host = server.host();
            return new InetSocketAddress(
                    InetAddress.getByName(host.indexOf(':') >= 0 ? "[" + host + "]" : host), server.port());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + server.host(), e);
        }
    }

    /** The name servers of {@code /etc/resolv.conf}, in order. */
    private static List<InetSocketAddress> systemServers() {
        DnsServerAddressStream stream =
                DnsServerAddressStreamProviders.platformDefault().nameServerAddressStream(".");
        List<InetSocketAddress> servers = new ArrayList<>();
        for (int i = 0; i < stream.size(); i++) {
            servers.add(stream.next());
        }
        return List.copyOf(servers);
    }

    private static HostsFileEntriesResolver noHostsFile() {
        return (name, types) -> null;
    }

    @Override
    public void close() {
        resolver.close();
        if (cache != null) {
            cache.invalidateAll();
        }
    }
}
