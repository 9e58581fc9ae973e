package dev.postern.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** Small checks on request documents that the config readers do not make. */
final class Documents {
    private Documents() {}

    /**
     * {@code body} with {@code key} set to the value the URL names: added when the document leaves it out, 400 when
     * the document names something else. A document that is not an object is left to the reader to refuse.
     */
    static JsonNode withKey(JsonNode body, String key, String fromUrl) throws ApiException {
        if (!(body instanceof ObjectNode object)) {
            return body;
        }
        JsonNode given = object.get(key);
        if (given == null || given.isNull()) {
            ObjectNode copy = object.deepCopy();
            copy.put(key, fromUrl);
            return copy;
        }
        if (given.isTextual() && !given.textValue().equals(fromUrl)) {
            throw ApiException.invalidBody(
                    key, "'" + given.textValue() + "' is not the " + key + " in the URL ('" + fromUrl + "')");
        }
        return body;
    }

    /**
     * The string under {@code key} of a small object document such as {@code {"pool": "dovecot"}}; every problem
     * (not an object, unknown keys, missing or not a string) is reported at once.
     */
    static String requiredString(JsonNode body, String key, List<String> allowedKeys) throws ApiException {
        List<Problem.FieldError> errors = new ArrayList<>();
        if (!body.isObject()) {
            throw ApiException.invalidBody("", "is not an object (expected {\"" + key + "\": ...})");
        }
        unknownKeys(body, allowedKeys, errors);
        JsonNode value = body.get(key);
        String text = null;
        if (value == null || value.isNull()) {
            errors.add(Problem.FieldError.body(key, "is required"));
        } else if (!value.isTextual()) {
            errors.add(Problem.FieldError.body(key, value + " is not a string"));
        } else {
            text = value.textValue();
        }
        if (!errors.isEmpty()) {
            throw new ApiException(Problem.invalidWith(errors));
        }
        return text;
    }

    static void unknownKeys(JsonNode body, List<String> allowedKeys, List<Problem.FieldError> errors) {
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowedKeys.contains(name)) {
                errors.add(Problem.FieldError.body(
                        name, "unknown key (known keys: " + String.join(", ", allowedKeys) + ")"));
            }
        }
    }
}
