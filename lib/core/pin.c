/* Pins: parsing, formatting, constant-time comparison and hashing of SPKI bytes. */
#ifndef PINCURL_OWN_SHA256 /* else lib/core/sha256.c hashes */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>
#endif

#include <string.h>

#include "core/base64.h"
#include "core/der.h"
#include "core/pin_hash.h"
#include "pincurl/core.h"

#define PIN_PREFIX "sha256/"
#define PIN_PREFIX_LEN 7

pincurl_status pincurl_pin_parse(const char *text, size_t len, pincurl_pin *out)
{
    unsigned char digest[PINCURL_PIN_DIGEST_SIZE];
    size_t n = 0;

    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (text == NULL || out == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (len < PIN_PREFIX_LEN || memcmp(text, PIN_PREFIX, PIN_PREFIX_LEN) != 0)
        return PINCURL_PIN_BAD_PREFIX;
    const char *b64 = text + PIN_PREFIX_LEN;
    size_t b64_len = len - PIN_PREFIX_LEN;
    /* curl's "sha256//": a valid encoding has a multiple of 4 characters, so an extra
     * leading '/' is recognisable without ambiguity. */
    if (b64_len % 4 == 1 && b64[0] == '/') {
        b64++;
        b64_len--;
    }
    pincurl_status st = pc_base64_decode(b64, b64_len, NULL, 0, &n);
    if (st != PINCURL_OK)
        return st;
    if (n != PINCURL_PIN_DIGEST_SIZE)
        return PINCURL_PIN_BAD_LENGTH;
    st = pc_base64_decode(b64, b64_len, digest, sizeof digest, &n);
    if (st != PINCURL_OK)
        return st;
    memcpy(out->sha256, digest, sizeof digest);
    return PINCURL_OK;
}

pincurl_status pincurl_pin_format(const pincurl_pin *pin, char *buf, size_t size)
{
    if (pin == NULL || buf == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (size < PINCURL_PIN_TEXT_SIZE) {
        if (size > 0)
            buf[0] = '\0';
        return PINCURL_BUFFER_TOO_SMALL;
    }
    memcpy(buf, PIN_PREFIX, PIN_PREFIX_LEN);
    return pc_base64_encode(pin->sha256, sizeof pin->sha256, buf + PIN_PREFIX_LEN,
                            size - PIN_PREFIX_LEN, NULL);
}

int pincurl_pin_equal(const pincurl_pin *a, const pincurl_pin *b)
{
    if (a == NULL || b == NULL)
        return 0;
    volatile unsigned char diff = 0;
    for (size_t i = 0; i < PINCURL_PIN_DIGEST_SIZE; i++)
        diff |= (unsigned char)(a->sha256[i] ^ b->sha256[i]);
    return diff == 0;
}

#ifndef PINCURL_OWN_SHA256
pincurl_status pc_pin_hash_parts(const unsigned char *a, size_t alen, const unsigned char *b,
                                 size_t blen, pincurl_pin *out)
{
    wc_Sha256 sha;
    memset(out, 0, sizeof *out);
    if (alen > UINT32_MAX || blen > UINT32_MAX)
        return PINCURL_LIMIT_EXCEEDED;
    if (wc_InitSha256(&sha) != 0)
        return PINCURL_INTERNAL;
    int rc = wc_Sha256Update(&sha, a, (word32)alen);
    if (rc == 0 && blen > 0)
        rc = wc_Sha256Update(&sha, b, (word32)blen);
    if (rc == 0)
        rc = wc_Sha256Final(&sha, out->sha256);
    wc_Sha256Free(&sha);
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        return PINCURL_INTERNAL;
    }
    return PINCURL_OK;
}

#endif

pincurl_status pincurl_spki_locate(const unsigned char *der, size_t len,
                                   const unsigned char **spki, size_t *spki_len)
{
    pc_der_cert cert;
    if (spki != NULL)
        *spki = NULL;
    if (spki_len != NULL)
        *spki_len = 0;
    if ((der == NULL && len != 0) || spki == NULL || spki_len == NULL)
        return PINCURL_INVALID_ARGUMENT;
    pincurl_status st = pc_der_cert_parse(der, len, &cert);
    if (st != PINCURL_OK)
        return st;
    *spki = cert.spki.tlv;
    *spki_len = cert.spki.tlv_len;
    return PINCURL_OK;
}

pincurl_status pincurl_pin_from_cert_der(const unsigned char *der, size_t len, pincurl_pin *out)
{
    const unsigned char *spki;
    size_t spki_len;
    if (out == NULL)
        return PINCURL_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    pincurl_status st = pincurl_spki_locate(der, len, &spki, &spki_len);
    if (st != PINCURL_OK)
        return st;
    return pc_pin_hash_parts(spki, spki_len, NULL, 0, out);
}

pincurl_status pincurl_pin_from_spki_der(const unsigned char *spki, size_t len, pincurl_pin *out)
{
    if (out == NULL || (spki == NULL && len != 0))
        return PINCURL_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    pincurl_status st = pc_der_spki_check(spki, len);
    if (st != PINCURL_OK)
        return st;
    return pc_pin_hash_parts(spki, len, NULL, 0, out);
}
