package dev.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The OpenAPI document in the repository describes exactly the routes the server has. */
class OpenApiTest {
    private static final List<String> METHODS = List.of("get", "put", "post", "delete", "patch", "head", "options");
    private final AdminFixture admin = AdminFixture.start();

    @AfterEach
    void stop() {
        admin.close();
    }

    private JsonNode document() {
        AdminFixture.Reply r = admin.get("/api/v1/openapi.json");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
        return r.json();
    }

    @Test
    void documentsExactlyTheRoutesOfTheServer() {
        JsonNode doc = document();
        List<String> documented = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            for (Iterator<String> keys = path.getValue().fieldNames(); keys.hasNext(); ) {
                String key = keys.next();
                if (METHODS.contains(key)) {
                    documented.add(key.toUpperCase(Locale.ROOT) + " " + path.getKey());
                }
            }
        }

        assertThat(documented).containsExactlyInAnyOrderElementsOf(admin.server.routeTable());
    }

    @Test
    void isOpenApi31WithEveryReferenceResolved() {
        JsonNode doc = document();
        assertThat(doc.get("openapi").asText()).isEqualTo("3.1.0");

        Matcher refs = Pattern.compile("\"\\$ref\"\\s*:\\s*\"#/([^\"]+)\"").matcher(doc.toString());
        int count = 0;
        while (refs.find()) {
            count++;
            String pointer = "/" + refs.group(1);
            assertThat(doc.at(pointer).isMissingNode())
                    .as("$ref #%s resolves", pointer)
                    .isFalse();
        }
        assertThat(count).isGreaterThan(50);
    }

    @Test
    void everyPathParameterIsDeclared() {
        JsonNode doc = document();
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            Matcher m = Pattern.compile("\\{([^}]+)}").matcher(path.getKey());
            while (m.find()) {
                String name = m.group(1);
                String json = path.getValue().toString();
                boolean declared = json.contains("\"name\":\"" + name + "\"")
                        || json.contains("#/components/parameters/" + Character.toUpperCase(name.charAt(0))
                                + name.substring(1) + "\"");
                assertThat(declared).as("%s declares {%s}", path.getKey(), name).isTrue();
            }
        }
    }

    @Test
    void everyWriteDocumentsItsRefusals() {
        JsonNode doc = document();
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            for (String method : List.of("put", "post", "delete")) {
                JsonNode op = path.getValue().get(method);
                if (op != null) {
                    assertThat(op.get("responses").has("401"))
                            .as("%s %s: 401", method, path.getKey())
                            .isTrue();
                    assertThat(op.get("responses").has("403"))
                            .as("%s %s: 403", method, path.getKey())
                            .isTrue();
                }
            }
        }
    }
}
