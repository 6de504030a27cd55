package org.pincurl;

import javax.annotation.Nullable;

/**
 * What libcurl measured and reported about a transfer (curl's --write-out variables), for
 * the last hop: a copy of pincurl_transfer_info. Times are microseconds from the start of
 * the request, -1 where libcurl gave none.
 */
public final class TransferInfo {
    private final int curlCode;
    private final String curlError;
    private final long osErrno;
    private final long httpVersion;
    private final long httpConnectCode;
    private final long numRedirects;
    private final long numConnects;
    private final long sslVerifyResult;
    private final long namelookupMicros;
    private final long connectMicros;
    private final long appconnectMicros;
    private final long pretransferMicros;
    private final long starttransferMicros;
    private final long redirectMicros;
    private final long totalMicros;
    private final long sizeDownload;
    private final long sizeUpload;
    private final long sizeHeader;
    private final long sizeRequest;
    private final long retryAfterSeconds;
    private final String remoteIp;
    private final long remotePort;
    private final String localIp;
    private final long localPort;
    @Nullable private final String scheme;
    @Nullable private final String contentType;
    @Nullable private final String redirectUrl;
    @Nullable private final String effectiveMethod;

    private TransferInfo(pincurl_transfer_info t) {
        this.curlCode = t.getCurl_code();
        String e = t.getCurl_error();
        this.curlError = e != null ? e : "";
        this.osErrno = t.getOs_errno();
        this.httpVersion = t.getHttp_version();
        this.httpConnectCode = t.getHttp_connect_code();
        this.numRedirects = t.getNum_redirects();
        this.numConnects = t.getNum_connects();
        this.sslVerifyResult = t.getSsl_verify_result();
        this.namelookupMicros = t.getNamelookup_us();
        this.connectMicros = t.getConnect_us();
        this.appconnectMicros = t.getAppconnect_us();
        this.pretransferMicros = t.getPretransfer_us();
        this.starttransferMicros = t.getStarttransfer_us();
        this.redirectMicros = t.getRedirect_us();
        this.totalMicros = t.getTotal_us();
        this.sizeDownload = t.getSize_download();
        this.sizeUpload = t.getSize_upload();
        this.sizeHeader = t.getSize_header();
        this.sizeRequest = t.getSize_request();
        this.retryAfterSeconds = t.getRetry_after();
        this.remoteIp = PincurlNative.jni_info_remote_ip(t);
        this.remotePort = t.getRemote_port();
        this.localIp = PincurlNative.jni_info_local_ip(t);
        this.localPort = t.getLocal_port();
        this.scheme = t.getScheme();
        this.contentType = t.getContent_type();
        this.redirectUrl = t.getRedirect_url();
        this.effectiveMethod = t.getEffective_method();
    }

    static TransferInfo copy(pincurl_transfer_info t) {
        if (t == null) {
            throw new OutOfMemoryError("pincurl_response_info");
        }
        return new TransferInfo(t);
    }

    /** The CURLcode the transfer ended with (0: CURLE_OK). */
    public int curlCode() {
        return curlCode;
    }

    /** libcurl's message for it ("" when the code is 0). */
    public String curlError() {
        return curlError;
    }

    public long osErrno() {
        return osErrno;
    }

    /** 10, 11, 20, 30; 0 if no response. */
    public long httpVersion() {
        return httpVersion;
    }

    public long httpConnectCode() {
        return httpConnectCode;
    }

    public long redirects() {
        return numRedirects;
    }

    /** New connections made. */
    public long connects() {
        return numConnects;
    }

    public long sslVerifyResult() {
        return sslVerifyResult;
    }

    public long nameLookupMicros() {
        return namelookupMicros;
    }

    public long connectMicros() {
        return connectMicros;
    }

    /** Until the TLS handshake (and its pin decision) ended. */
    public long tlsHandshakeMicros() {
        return appconnectMicros;
    }

    public long preTransferMicros() {
        return pretransferMicros;
    }

    public long firstByteMicros() {
        return starttransferMicros;
    }

    public long redirectMicros() {
        return redirectMicros;
    }

    public long totalMicros() {
        return totalMicros;
    }

    public long bytesDownloaded() {
        return sizeDownload;
    }

    public long bytesUploaded() {
        return sizeUpload;
    }

    public long headerBytes() {
        return sizeHeader;
    }

    public long requestBytes() {
        return sizeRequest;
    }

    /** A Retry-After header in seconds from now, 0 if none. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** The address connected to ("" if none). */
    public String remoteIp() {
        return remoteIp;
    }

    public long remotePort() {
        return remotePort;
    }

    public String localIp() {
        return localIp;
    }

    public long localPort() {
        return localPort;
    }

    @Nullable
    public String scheme() {
        return scheme;
    }

    @Nullable
    public String contentType() {
        return contentType;
    }

    /** Where the last response redirects (not followed), or null. */
    @Nullable
    public String redirectUrl() {
        return redirectUrl;
    }

    @Nullable
    public String effectiveMethod() {
        return effectiveMethod;
    }
}
