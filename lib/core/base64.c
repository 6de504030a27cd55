/* Strict base64: our own codec, so that every invalid input has one exact status. */
#include "core/base64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The 6-bit value of c, or -1 if c is not in the alphabet. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static int is_pem_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* One pass over the input. Writes to out only when out is not NULL (the caller has checked
 * the capacity with a first pass). pem: whitespace is skipped, and unused bits of the last
 * group may be set (they are ignored: the bytes are the same). Returns 0 when valid, -1
 * otherwise. */
static int decode_pass(const char *in, size_t len, int pem, unsigned char *out,
                       size_t *outlen)
{
    const unsigned char *s = (const unsigned char *)in;
    unsigned char quad[4];
    unsigned q = 0;
    int finished = 0;
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (pem && is_pem_space(c))
            continue;
        if (finished)
            return -1; /* anything after the padded group */
        quad[q++] = c;
        if (q < 4)
            continue;
        q = 0;

        int v0 = b64_value(quad[0]);
        int v1 = b64_value(quad[1]);
        if (v0 < 0 || v1 < 0)
            return -1;
        int v2, v3;
        unsigned bytes;
        if (quad[2] == '=') {
            if (quad[3] != '=')
                return -1;
            if ((v1 & 0x0f) != 0 && !pem)
                return -1; /* non-canonical: unused bits set */
            v2 = v3 = 0;
            bytes = 1;
            finished = 1;
        } else {
            v2 = b64_value(quad[2]);
            if (v2 < 0)
                return -1;
            if (quad[3] == '=') {
                if ((v2 & 0x03) != 0 && !pem)
                    return -1;
                v3 = 0;
                bytes = 2;
                finished = 1;
            } else {
                v3 = b64_value(quad[3]);
                if (v3 < 0)
                    return -1;
                bytes = 3;
            }
        }
        unsigned long group = ((unsigned long)v0 << 18) | ((unsigned long)v1 << 12) |
                              ((unsigned long)v2 << 6) | (unsigned long)v3;
        if (out != NULL) {
            out[n] = (unsigned char)(group >> 16);
            if (bytes > 1)
                out[n + 1] = (unsigned char)((group >> 8) & 0xff);
            if (bytes > 2)
                out[n + 2] = (unsigned char)(group & 0xff);
        }
        n += bytes;
    }
    if (q != 0)
        return -1; /* a partial group: missing padding */
    *outlen = n;
    return 0;
}

static pincurl_status decode(const char *in, size_t len, unsigned char *out, size_t outcap,
                             size_t *outlen, int pem, pincurl_status invalid)
{
    size_t n = 0;
    if (outlen != NULL)
        *outlen = 0;
    if ((in == NULL && len != 0) || (out == NULL && outcap != 0))
        return PINCURL_INVALID_ARGUMENT;
    if (decode_pass(in, len, pem, NULL, &n) != 0)
        return invalid;
    if (outlen != NULL)
        *outlen = n;
    if (out == NULL)
        return PINCURL_OK;
    if (n > outcap)
        return PINCURL_BUFFER_TOO_SMALL;
    if (decode_pass(in, len, pem, out, &n) != 0)
        return invalid; /* cannot happen: the first pass accepted the same input */
    return PINCURL_OK;
}

pincurl_status pc_base64_decode(const char *in, size_t len, unsigned char *out, size_t outcap,
                                size_t *outlen)
{
    return decode(in, len, out, outcap, outlen, 0, PINCURL_PIN_BAD_BASE64);
}

pincurl_status pc_base64_decode_pem(const char *in, size_t len, unsigned char *out,
                                    size_t outcap, size_t *outlen)
{
    return decode(in, len, out, outcap, outlen, 1, PINCURL_PEM_MALFORMED);
}

size_t pc_base64_encoded_len(size_t n)
{
    size_t groups = n / 3 + (n % 3 != 0);
    if (groups > SIZE_MAX / 4)
        return SIZE_MAX;
    return groups * 4;
}

pincurl_status pc_base64_encode(const unsigned char *in, size_t len, char *out, size_t outcap,
                                size_t *outlen)
{
    if (outlen != NULL)
        *outlen = 0;
    if ((in == NULL && len != 0) || out == NULL)
        return PINCURL_INVALID_ARGUMENT;
    size_t need = pc_base64_encoded_len(len);
    if (need == SIZE_MAX || outcap < need + 1) {
        if (outcap > 0)
            out[0] = '\0';
        return PINCURL_BUFFER_TOO_SMALL;
    }
    size_t o = 0;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        unsigned long g = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8) |
                          (unsigned long)in[i + 2];
        out[o++] = alphabet[(g >> 18) & 0x3f];
        out[o++] = alphabet[(g >> 12) & 0x3f];
        out[o++] = alphabet[(g >> 6) & 0x3f];
        out[o++] = alphabet[g & 0x3f];
    }
    if (len - i == 1) {
        unsigned long g = (unsigned long)in[i] << 16;
        out[o++] = alphabet[(g >> 18) & 0x3f];
        out[o++] = alphabet[(g >> 12) & 0x3f];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        unsigned long g = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8);
        out[o++] = alphabet[(g >> 18) & 0x3f];
        out[o++] = alphabet[(g >> 12) & 0x3f];
        out[o++] = alphabet[(g >> 6) & 0x3f];
        out[o++] = '=';
    }
    out[o] = '\0';
    if (outlen != NULL)
        *outlen = o;
    return PINCURL_OK;
}
