package org.pincurl;

import java.io.IOException;

import javax.annotation.Nullable;

/**
 * A pincurl operation failed. Carries the {@link Status} and, for a refused request, the
 * failure detail (the host, every certificate of the validated path with its pin, the pins
 * the policy has) and the response with the verdict; for a refused policy document, the
 * JSON path of the offending value and, for a syntax error, its line and column.
 */
public class PincurlException extends IOException {
    private static final long serialVersionUID = 1L;

    private final Status status;
    private final int statusNumber;
    private final String detail;
    @Nullable private final transient Response response;
    private final String jsonPath;
    private final long line;
    private final long column;

    PincurlException(int statusNumber, String message, @Nullable String detail,
                     @Nullable Response response, @Nullable String jsonPath, long line,
                     long column, @Nullable Throwable cause) {
        super(message, cause);
        this.statusNumber = statusNumber;
        this.status = Status.of(statusNumber);
        this.detail = detail != null ? detail : "";
        this.response = response;
        this.jsonPath = jsonPath != null ? jsonPath : "";
        this.line = line;
        this.column = column;
    }

    /** A failure of a call that has no detail beyond its status. */
    static PincurlException of(int statusNumber, String what) {
        return new PincurlException(statusNumber, what + ": " + describe(statusNumber), null,
                                    null, null, 0, 0, null);
    }

    /** Throws unless statusNumber is OK. */
    static void check(int statusNumber, String what) throws PincurlException {
        if (statusNumber != Status.OK.number()) {
            throw of(statusNumber, what);
        }
    }

    static String describe(int statusNumber) {
        Status s = Status.find(statusNumber);
        return s != null ? s.name() + " (" + s.message() + ")"
                         : "status " + statusNumber + " (unknown to this binding)";
    }

    /** The status; INTERNAL when the library returned a number this binding lacks. */
    public Status status() {
        return status;
    }

    /** The status number exactly as the library returned it. */
    public int statusNumber() {
        return statusNumber;
    }

    /** The failure detail ("" when there is none). */
    public String detail() {
        return detail;
    }

    /** For a failed request: the response (status, detail, verdict, transfer info; no
     * HTTP answer), or null. */
    @Nullable
    public Response response() {
        return response;
    }

    /** For a failed request: the verdict of its last pinned validation, or null. */
    @Nullable
    public Verdict verdict() {
        return response != null ? response.verdict() : null;
    }

    /** For a refused policy document: the JSON path of the offending value, else "". */
    public String jsonPath() {
        return jsonPath;
    }

    /** For a JSON syntax error: its 1-based line, else 0. */
    public long line() {
        return line;
    }

    /** For a JSON syntax error: its 1-based column, else 0. */
    public long column() {
        return column;
    }
}
