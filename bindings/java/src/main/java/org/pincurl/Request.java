package org.pincurl;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** An HTTP request: immutable, made with {@link #builder(String)}. */
public final class Request {
    private final String method;
    private final String url;
    private final List<String> headers;
    private final byte[] body;
    private final InputStream bodyStream;
    private final long bodyLength;
    private final OutputStream sink;

    private Request(Builder b) {
        this.method = b.method;
        this.url = b.url;
        this.headers = Collections.unmodifiableList(new ArrayList<>(b.headers));
        this.body = b.body;
        this.bodyStream = b.bodyStream;
        this.bodyLength = b.bodyLength;
        this.sink = b.sink;
    }

    /** A GET of url. */
    public static Request get(String url) {
        return builder(url).build();
    }

    /** A builder for a request to an absolute http:// or https:// URL (GET by default). */
    public static Builder builder(String url) {
        return new Builder(url);
    }

    public String method() {
        return method;
    }

    public String url() {
        return url;
    }

    /** The header lines, "Name: value". */
    public List<String> headers() {
        return headers;
    }

    byte[] body() {
        return body;
    }

    InputStream bodyStream() {
        return bodyStream;
    }

    long bodyLength() {
        return bodyLength;
    }

    OutputStream sink() {
        return sink;
    }

    /** Builds a {@link Request}. Not thread-safe. */
    public static final class Builder {
        private String method = "GET";
        private final String url;
        private final List<String> headers = new ArrayList<>();
        private byte[] body;
        private InputStream bodyStream;
        private long bodyLength = -1;
        private OutputStream sink;

        private Builder(String url) {
            if (url == null) {
                throw new NullPointerException("url");
            }
            this.url = url;
        }

        /** "GET", "POST", "PUT", ... */
        public Builder method(String method) {
            if (method == null || method.isEmpty()) {
                throw new IllegalArgumentException("empty method");
            }
            checkText(method, "method");
            this.method = method;
            return this;
        }

        /** Adds a header. Name and value must not hold CR, LF or NUL; the name no colon. */
        public Builder header(String name, String value) {
            if (name == null || value == null) {
                throw new NullPointerException("header name or value");
            }
            if (name.isEmpty() || name.indexOf(':') >= 0) {
                throw new IllegalArgumentException("bad header name: " + name);
            }
            checkText(name, "header name");
            checkText(value, "header value");
            headers.add(name + ": " + value);
            return this;
        }

        /** A body from memory (the array is copied). */
        public Builder body(byte[] body) {
            if (body == null) {
                throw new NullPointerException("body");
            }
            this.body = body.clone();
            this.bodyStream = null;
            return this;
        }

        /** A body read from in while the request is sent (the caller closes it). length
         * is its size in bytes, or -1 if unknown (sent chunked). A failure reading it
         * aborts the request with ABORTED_BY_CALLBACK, the IOException as cause. */
        public Builder body(InputStream in, long length) {
            if (in == null) {
                throw new NullPointerException("in");
            }
            if (length < -1) {
                throw new IllegalArgumentException("length must be -1 or more");
            }
            this.bodyStream = in;
            this.bodyLength = length;
            this.body = null;
            return this;
        }

        /** Streams the response body to out instead of keeping it in the response (the
         * caller closes it). A failure writing aborts the request (ABORTED_BY_CALLBACK). */
        public Builder writeTo(OutputStream out) {
            if (out == null) {
                throw new NullPointerException("out");
            }
            this.sink = out;
            return this;
        }

        public Request build() {
            return new Request(this);
        }

        private static void checkText(String s, String what) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '\r' || c == '\n' || c == '\0') {
                    throw new IllegalArgumentException(what + " holds CR, LF or NUL");
                }
            }
        }
    }
}
