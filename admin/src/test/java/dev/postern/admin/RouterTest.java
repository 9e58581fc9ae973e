package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.codec.http.HttpMethod;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RouterTest {
    private static final Router.Handler NONE = r -> null;

    private final Router router = new Router();

    {
        router.add(HttpMethod.GET, "/api/v1/routes/users/{user}", NONE);
        router.add(HttpMethod.GET, "/api/v1/routes/{kind}", NONE);
        router.add(HttpMethod.GET, "/api/v1/routes/default", NONE);
        router.add(HttpMethod.PUT, "/api/v1/routes/default", NONE);
    }

    @Test
    void bindsParameters() {
        Router.Match m = router.match(HttpMethod.GET, List.of("api", "v1", "routes", "users", "a/b@c"));

        assertThat(m).isInstanceOfSatisfying(Router.Found.class, f -> {
            assertThat(f.route().template()).isEqualTo("/api/v1/routes/users/{user}");
            assertThat(f.params()).isEqualTo(Map.of("user", "a/b@c"));
        });
    }

    @Test
    void aLiteralSegmentWinsOverAParameter() {
        Router.Match m = router.match(HttpMethod.GET, Router.split("/api/v1/routes/default"));

        assertThat(((Router.Found) m).route().template()).isEqualTo("/api/v1/routes/default");
        assertThat(((Router.Found) router.match(HttpMethod.GET, Router.split("/api/v1/routes/other"))).params())
                .isEqualTo(Map.of("kind", "other"));
    }

    @Test
    void aKnownPathWithAnotherMethodListsTheAllowedOnes() {
        assertThat(router.match(HttpMethod.DELETE, Router.split("/api/v1/routes/default")))
                .isEqualTo(new Router.WrongMethod(new java.util.TreeSet<>(List.of("GET", "PUT"))));
    }

    @Test
    void unknownPathsAndEmptySegmentsMatchNothing() {
        assertThat(router.match(HttpMethod.GET, Router.split("/api/v1/routes/users/")))
                .isInstanceOf(Router.NotFound.class);
        assertThat(router.match(HttpMethod.GET, Router.split("/api/v2/routes/default")))
                .isInstanceOf(Router.NotFound.class);
        assertThat(router.match(HttpMethod.GET, Router.split("/"))).isInstanceOf(Router.NotFound.class);
    }

    @Test
    void refusesDuplicateRoutes() {
        assertThatThrownBy(() -> router.add(HttpMethod.GET, "/api/v1/routes/default", NONE))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void segmentsArePercentDecodedOneByOne() {
        assertThat(AdminApi.decodeSegments("/api/v1/pools/p/backends/%5B2001%3Adb8%3A%3A1%5D%3A25"))
                .containsExactly("api", "v1", "pools", "p", "backends", "[2001:db8::1]:25");
        assertThat(AdminApi.decodeSegments("/a%2Fb/c+d/%C3%A9")).containsExactly("a/b", "c+d", "é");
        assertThat(AdminApi.decodeSegments("/bad%2")).isNull();
        assertThat(AdminApi.decodeSegments("/bad%zz")).isNull();
        assertThat(AdminApi.decodeSegments("/not-utf8%C3")).isNull();
    }
}
