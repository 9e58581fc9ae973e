package dev.postern.config;

import static dev.postern.config.ConfigTexts.MINIMAL;
import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The top-level {@code transport} key: which I/O transport the process asks for. */
class TransportConfigTest {

    @Test
    void withoutTheKeyTheTransportIsAuto() throws ConfigException {
        assertThat(parse(MINIMAL).transport()).isEqualTo(TransportKind.AUTO);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"auto, AUTO", "io_uring, IO_URING", "epoll, EPOLL", "nio, NIO"})
    void eachTransportIsReadByItsName(String name, TransportKind kind) throws ConfigException {
        PosternConfig config = parse(MINIMAL + "transport: " + name + "\n");

        assertThat(config.transport()).isEqualTo(kind);
        assertThat(kind.configName()).isEqualTo(name);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "iouring | transport: 'iouring' is not one of auto, io_uring, epoll, nio (did you mean 'io_uring'?)",
                "io-uring | transport: 'io-uring' is not one of auto, io_uring, epoll, nio (did you mean 'io_uring'?)",
                "kqueue | transport: 'kqueue' is not one of auto, io_uring, epoll, nio",
                "{kind: epoll} | transport: a mapping is not one of auto, io_uring, epoll, nio"
            })
    void anUnknownTransportIsAProblemThatListsTheKnownOnes(String value, String problem) {
        assertThat(problems(MINIMAL + "transport: " + value + "\n")).containsExactly(problem);
    }

    @Test
    void theTransportSurvivesACopyWithOtherPools() throws ConfigException {
        PosternConfig config = parse(MINIMAL + "transport: io_uring\n");

        assertThat(config.withPools(config.pools()).transport()).isEqualTo(TransportKind.IO_URING);
    }

    @Test
    void theConfigurationInForceShowsTheTransportAskedFor() throws ConfigException {
        PosternConfig config = parse(MINIMAL + "transport: io_uring\n");

        assertThat(ConfigJson.toTree(config).get("transport").asText()).isEqualTo("io_uring");
        assertThat(ConfigJson.toTree(parse(MINIMAL)).get("transport").asText()).isEqualTo("auto");
    }
}
