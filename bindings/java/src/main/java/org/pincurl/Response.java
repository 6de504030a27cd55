package org.pincurl;

import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import javax.annotation.Nullable;

/** The outcome of a request, copied out of the native response: immutable. */
public final class Response {
    private static final Charset UTF_8 = Charset.forName("UTF-8");

    private final Status status;
    private final long code;
    private final List<Header> headers;
    private final byte[] body;
    private final String effectiveUrl;
    private final String detail;
    @Nullable private final Verdict verdict;
    private final TransferInfo info;

    private Response(SWIGTYPE_p_pincurl_response r) {
        this.status = Status.of(PincurlNative.pincurl_response_status(r));
        this.code = PincurlNative.pincurl_response_code(r);
        long n = PincurlNative.pincurl_response_header_count(r);
        List<Header> hs = new ArrayList<Header>();
        for (long i = 0; i < n; i++) {
            hs.add(new Header(PincurlNative.pincurl_response_header_name(r, i),
                              PincurlNative.pincurl_response_header_value(r, i)));
        }
        this.headers = Collections.unmodifiableList(hs);
        byte[] b = PincurlNative.jni_response_body(r);
        this.body = b != null ? b : new byte[0];
        String url = PincurlNative.pincurl_response_effective_url(r);
        this.effectiveUrl = url != null ? url : "";
        String d = PincurlNative.pincurl_response_detail(r);
        this.detail = d != null ? d : "";
        this.verdict = Verdict.copy(PincurlNative.pincurl_response_verdict(r));
        this.info = TransferInfo.copy(PincurlNative.pincurl_response_info(r));
    }

    static Response copy(SWIGTYPE_p_pincurl_response r) {
        return new Response(r);
    }

    /** The outcome status (OK when an HTTP response arrived, whatever its code). */
    public Status status() {
        return status;
    }

    /** The HTTP status code of the last response, 0 if none. */
    public int code() {
        return (int) code;
    }

    /** The headers of the last response, in order. */
    public List<Header> headers() {
        return headers;
    }

    /** The first header of that name (case-insensitive), or null. */
    @Nullable
    public String header(String name) {
        for (Header h : headers) {
            if (h.name().equalsIgnoreCase(name)) {
                return h.value();
            }
        }
        return null;
    }

    /** The body kept in memory (empty when streamed). A copy. */
    public byte[] body() {
        return body.clone();
    }

    /** The body decoded as UTF-8. */
    public String bodyString() {
        return new String(body, UTF_8);
    }

    /** The URL of the last hop. */
    public String effectiveUrl() {
        return effectiveUrl;
    }

    /** The explanation of a failure ("" on success). */
    public String detail() {
        return detail;
    }

    /** The verdict of the last pinned validation of the request, or null if no pinned
     * host was validated. */
    @Nullable
    public Verdict verdict() {
        return verdict;
    }

    /** What libcurl measured about the transfer (timing, sizes, addresses). */
    public TransferInfo info() {
        return info;
    }

    /** One response header. */
    public static final class Header {
        private final String name;
        private final String value;

        Header(@Nullable String name, @Nullable String value) {
            this.name = name != null ? name : "";
            this.value = value != null ? value : "";
        }

        public String name() {
            return name;
        }

        public String value() {
            return value;
        }

        @Override
        public String toString() {
            return name + ": " + value;
        }
    }
}
