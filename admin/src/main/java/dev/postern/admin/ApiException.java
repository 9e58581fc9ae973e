package dev.postern.admin;

import dev.postern.config.ConfigProblem;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;

/** Ends a request with a problem document. Cheap: no stack trace. */
final class ApiException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient Problem problem;

    ApiException(Problem problem) {
        super(problem.status().code() + " " + problem.detail(), null, false, false);
        this.problem = problem;
    }

    Problem problem() {
        return problem;
    }

    static ApiException of(HttpResponseStatus status, String detail) {
        return new ApiException(Problem.of(status, detail));
    }

    static ApiException notFound(String detail) {
        return of(HttpResponseStatus.NOT_FOUND, detail);
    }

    static ApiException invalid(List<ConfigProblem> problems) {
        return new ApiException(Problem.invalid(problems));
    }

    static ApiException invalidParameter(String parameter, String message) {
        return new ApiException(Problem.invalidWith(List.of(Problem.FieldError.parameter(parameter, message))));
    }

    static ApiException invalidBody(String configPath, String message) {
        return new ApiException(Problem.invalidWith(List.of(Problem.FieldError.body(configPath, message))));
    }

    static ApiException conflict(String kind, String title, String detail) {
        return new ApiException(Problem.typed(HttpResponseStatus.CONFLICT, kind, title, detail));
    }
}
