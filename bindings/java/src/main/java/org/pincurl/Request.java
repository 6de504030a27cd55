package org.pincurl;

import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import javax.annotation.Nullable;

/** An HTTP request: immutable, made with {@link #builder(String)}. */
public final class Request {
    private final String method;
    private final String url;
    private final List<String> headers;
    @Nullable private final byte[] body;
    @Nullable private final InputStream bodyStream;
    private final long bodyLength;
    private final boolean upload;
    @Nullable private final OutputStream sink;
    @Nullable private final String outputFile;
    private final List<FormPart> form;
    @Nullable private final String[] credentials;
    @Nullable private final String referer;
    private final boolean autoReferer;
    @Nullable private final String cookie;
    @Nullable private final String acceptEncoding;

    private Request(Builder b) {
        this.method = b.method;
        this.url = b.url;
        this.headers = Collections.unmodifiableList(new ArrayList<String>(b.headers));
        this.body = b.body;
        this.bodyStream = b.bodyStream;
        this.bodyLength = b.bodyLength;
        this.upload = b.upload;
        this.sink = b.sink;
        this.outputFile = b.outputFile;
        this.form = Collections.unmodifiableList(new ArrayList<FormPart>(b.form));
        this.credentials = b.credentials;
        this.referer = b.referer;
        this.autoReferer = b.autoReferer;
        this.cookie = b.cookie;
        this.acceptEncoding = b.acceptEncoding;
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

    /** Fills a native request (the caller frees it). Stream callbacks are set by the
     * client, which owns their lifetime. */
    void apply(SWIGTYPE_p_pincurl_request r) throws PincurlException {
        for (String line : headers) {
            PincurlException.check(PincurlNative.pincurl_request_add_header(r, line),
                                   "header " + line);
        }
        if (body != null) {
            PincurlException.check(PincurlNative.pincurl_request_set_body(r, body), "body");
        }
        for (FormPart p : form) {
            int st = p.file != null
                ? PincurlNative.pincurl_request_add_form_file(r, p.name, p.file, p.filename,
                                                               p.contentType)
                : PincurlNative.pincurl_request_add_form_data(r, p.name, p.data, p.filename,
                                                               p.contentType);
            PincurlException.check(st, "form part " + p.name);
        }
        if (outputFile != null) {
            PincurlException.check(PincurlNative.pincurl_request_set_output_file(r, outputFile),
                                   "output file");
        }
        if (credentials != null) {
            PincurlException.check(PincurlNative.pincurl_request_set_credentials(
                r, credentials[0], credentials[1]), "credentials");
        }
        if (referer != null || autoReferer) {
            PincurlException.check(PincurlNative.pincurl_request_set_referer(
                r, referer, autoReferer ? 1 : 0), "referer");
        }
        if (cookie != null) {
            PincurlException.check(PincurlNative.pincurl_request_set_cookie(r, cookie), "cookie");
        }
        if (acceptEncoding != null) {
            PincurlException.check(PincurlNative.pincurl_request_set_accept_encoding(
                r, acceptEncoding), "accept encoding");
        }
    }

    @Nullable
    InputStream bodyStream() {
        return bodyStream;
    }

    long bodyLength() {
        return bodyLength;
    }

    boolean upload() {
        return upload;
    }

    @Nullable
    OutputStream sink() {
        return sink;
    }

    private static final class FormPart {
        final String name;
        @Nullable final byte[] data;
        @Nullable final String file;
        @Nullable final String filename;
        @Nullable final String contentType;

        FormPart(String name, @Nullable byte[] data, @Nullable String file,
                 @Nullable String filename, @Nullable String contentType) {
            this.name = name;
            this.data = data;
            this.file = file;
            this.filename = filename;
            this.contentType = contentType;
        }
    }

    /** Builds a {@link Request}. Not thread-safe. */
    public static final class Builder {
        private String method = "GET";
        private final String url;
        private final List<String> headers = new ArrayList<String>();
        @Nullable private byte[] body;
        @Nullable private InputStream bodyStream;
        private long bodyLength = -1;
        private boolean upload;
        @Nullable private OutputStream sink;
        @Nullable private String outputFile;
        private final List<FormPart> form = new ArrayList<FormPart>();
        @Nullable private String[] credentials;
        @Nullable private String referer;
        private boolean autoReferer;
        @Nullable private String cookie;
        @Nullable private String acceptEncoding;

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

        /** A body from memory (the array is copied). Replaces a body or form set before. */
        public Builder body(byte[] body) {
            if (body == null) {
                throw new NullPointerException("body");
            }
            clearBody();
            this.body = body.clone();
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
            clearBody();
            this.bodyStream = in;
            this.bodyLength = length;
            return this;
        }

        /** An upload as curl's -T: the body is read from in, the method is PUT unless
         * {@link #method} says otherwise, and no Content-Type is added. */
        public Builder upload(InputStream in, long length) {
            body(in, length);
            this.upload = true;
            return this;
        }

        /** A multipart/form-data part holding data (copied); filename and contentType may
         * be null. The method is POST unless {@link #method} says otherwise. */
        public Builder formData(String name, byte[] data, @Nullable String filename,
                                @Nullable String contentType) {
            if (name == null || data == null) {
                throw new NullPointerException("name and data are required");
            }
            if (body != null || bodyStream != null) {
                clearBody();
            }
            form.add(new FormPart(name, data.clone(), null, filename, contentType));
            return this;
        }

        /** A multipart/form-data part whose content is the file, read while the request
         * is sent. filename null: the file's base name. */
        public Builder formFile(String name, File file, @Nullable String filename,
                                @Nullable String contentType) {
            if (name == null || file == null) {
                throw new NullPointerException("name and file are required");
            }
            if (body != null || bodyStream != null) {
                clearBody();
            }
            form.add(new FormPart(name, null, file.getPath(), filename, contentType));
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

        /** Writes the response body to a file (created or truncated) instead of memory. */
        public Builder outputFile(File file) {
            if (file == null) {
                throw new NullPointerException("file");
            }
            this.outputFile = file.getPath();
            return this;
        }

        /** HTTP Basic credentials, sent to the URL's host only (never to another host a
         * redirect leads to). */
        public Builder credentials(String user, String password) {
            if (user == null || password == null) {
                throw new NullPointerException("user and password are required");
            }
            this.credentials = new String[] {user, password};
            return this;
        }

        /** The Referer header; automatic also sets it on every redirect hop. */
        public Builder referer(@Nullable String referer, boolean automatic) {
            this.referer = referer;
            this.autoReferer = automatic;
            return this;
        }

        /** A Cookie header of this request ("name=value; name2=value2"). */
        public Builder cookie(String cookie) {
            if (cookie == null) {
                throw new NullPointerException("cookie");
            }
            this.cookie = cookie;
            return this;
        }

        /** Asks for a compressed response and decodes it: an Accept-Encoding value, ""
         * for every encoding the library decodes. */
        public Builder acceptEncoding(String encodings) {
            if (encodings == null) {
                throw new NullPointerException("encodings");
            }
            this.acceptEncoding = encodings;
            return this;
        }

        public Request build() {
            return new Request(this);
        }

        private void clearBody() {
            body = null;
            bodyStream = null;
            bodyLength = -1;
            upload = false;
            form.clear();
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
