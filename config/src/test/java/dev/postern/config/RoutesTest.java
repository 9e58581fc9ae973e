package dev.postern.config;

import static dev.postern.config.ConfigTexts.MINIMAL;
import static dev.postern.config.ConfigTexts.parse;
import static dev.postern.config.ConfigTexts.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RoutesTest {
    private static final Routes ROUTES = new Routes(
            Map.of("VIP@Example.com", "fast"),
            Map.of("example.com", "main", "*.example.com", "sub", "*.b.example.com", "deep"),
            Optional.of("fallback"));

    @Test
    void anExactUserBeatsItsDomain() {
        assertThat(ROUTES.match("vip@EXAMPLE.com")).contains(new Routes.Match("user", "vip@example.com", "fast"));
        assertThat(ROUTES.match("other@example.com")).contains(new Routes.Match("domain", "example.com", "main"));
    }

    @Test
    void theLongestWildcardWinsAndAWildcardDoesNotMatchItsOwnDomain() {
        assertThat(ROUTES.match("u@a.example.com")).contains(new Routes.Match("domain", "*.example.com", "sub"));
        assertThat(ROUTES.match("u@x.b.example.com")).contains(new Routes.Match("domain", "*.b.example.com", "deep"));
        assertThat(ROUTES.match("u@b.example.com")).contains(new Routes.Match("domain", "*.example.com", "sub"));
        assertThat(ROUTES.match("u@example.org")).isEmpty();
        assertThat(ROUTES.match("no-domain")).isEmpty();
    }

    @Test
    void routesAreReadFromTheConfiguration() throws ConfigException {
        PosternConfig config = parse(
                MINIMAL
                        + """
                pools:
                  - {name: main, backends: [{address: "10.0.0.1:143"}]}
                  - {name: fast, backends: [{address: "10.0.0.2:143"}]}
                routes:
                  users: {"VIP@example.com": fast}
                  domains: {example.com: main, "*.example.com": main}
                  default: main
                routing:
                  store: state/routes.json
                """);
        assertThat(config.routes().users()).containsEntry("vip@example.com", "fast");
        assertThat(config.routes().domains()).containsOnlyKeys("example.com", "*.example.com");
        assertThat(config.routes().defaultPool()).contains("main");
        assertThat(config.routeStore()).contains(java.nio.file.Path.of("/nonexistent/state/routes.json"));
        assertThat(config.routingSeed().pools()).hasSize(2);
    }

    @Test
    void routesMustNameExistingPoolsAndValidDomains() {
        assertThat(
                        problems(
                                MINIMAL
                                        + """
                        pools:
                          - {name: main, backends: [{address: "10.0.0.1:143"}]}
                        routes:
                          users: {"a@example.com": mian}
                          domains: {"ex ample.com": main, "*.*.com": main}
                          default: nope
                        """))
                .containsExactlyInAnyOrder(
                        "routes.users.a@example.com: no pool named 'mian' (pools: main)",
                        "routes.domains.ex ample.com: 'ex ample.com' is not a domain or *.domain",
                        "routes.domains.*.*.com: '*.*.com' is not a domain or *.domain",
                        "routes.default: no pool named 'nope' (pools: main)");
    }
}
