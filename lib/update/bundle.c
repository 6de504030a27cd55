/* Signed policy bundles: the strict parser, Ed25519 signing and verification, keys and
 * their text form. The format is docs/updates.md. */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "pincurl/policy.h"
#include "pincurl/update.h"
#include "update/update_internal.h"

#if !defined(HAVE_ED25519) || !defined(HAVE_ED25519_SIGN) || !defined(HAVE_ED25519_VERIFY) || \
    !defined(HAVE_ED25519_KEY_IMPORT) || !defined(HAVE_ED25519_KEY_EXPORT)
#error "pincurl's signed updates need wolfSSL with Ed25519 (HAVE_ED25519)"
#endif

static const unsigned char MAGIC[8] = {'P', 'C', 'U', 'P', 'D', 'A', 'T', 'E'};

#define OFF_MAGIC 0
#define OFF_VERSION 8
#define OFF_ALG 9
#define OFF_KEYID_LEN 10
#define OFF_RESERVED 11
#define OFF_SEQUENCE 12
#define OFF_NOT_BEFORE 20
#define OFF_EXPIRES 28
#define OFF_POLICY_LEN 36

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t get_u32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Two's complement without implementation-defined conversions. */
static int64_t u64_to_i64(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return (int64_t)v;
    return -(int64_t)(~v) - 1;
}

static uint64_t i64_to_u64(int64_t v)
{
    return (uint64_t)v; /* well defined: modulo 2^64 */
}

int pc_update_key_id_valid(const char *id, size_t len)
{
    if (id == NULL || len == 0 || len > PINCURL_UPDATE_KEY_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

pincurl_status pincurl_update_bundle_parse(const void *data, size_t len,
                                           pincurl_update_bundle *out)
{
    const unsigned char *p = data;

    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (data == NULL || out == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (len > PINCURL_UPDATE_MAX_BYTES)
        return PINCURL_UPDATE_TOO_LARGE;
    if (len < PINCURL_UPDATE_HEADER_SIZE)
        return PINCURL_UPDATE_MALFORMED;
    if (memcmp(p + OFF_MAGIC, MAGIC, sizeof MAGIC) != 0)
        return PINCURL_UPDATE_MALFORMED;
    if (p[OFF_VERSION] != PC_UPDATE_FORMAT_VERSION || p[OFF_ALG] != PC_UPDATE_ALG_ED25519)
        return PINCURL_UPDATE_UNSUPPORTED;
    if (p[OFF_RESERVED] != 0)
        return PINCURL_UPDATE_MALFORMED;

    size_t key_id_len = p[OFF_KEYID_LEN];
    uint64_t sequence = get_u64(p + OFF_SEQUENCE);
    int64_t not_before = u64_to_i64(get_u64(p + OFF_NOT_BEFORE));
    int64_t expires = u64_to_i64(get_u64(p + OFF_EXPIRES));
    size_t policy_len = get_u32(p + OFF_POLICY_LEN);

    if (key_id_len == 0 || key_id_len > PINCURL_UPDATE_KEY_ID_MAX)
        return PINCURL_UPDATE_MALFORMED;
    if (sequence == 0 || not_before >= expires)
        return PINCURL_UPDATE_MALFORMED;
    if (policy_len == 0)
        return PINCURL_UPDATE_MALFORMED;
    if (policy_len > PINCURL_POLICY_MAX_BYTES)
        return PINCURL_UPDATE_TOO_LARGE;
    /* Every term is bounded above, so the sum cannot overflow. */
    size_t expected = PINCURL_UPDATE_HEADER_SIZE + key_id_len + policy_len +
                      PINCURL_UPDATE_SIGNATURE_SIZE;
    if (len != expected)
        return PINCURL_UPDATE_MALFORMED;
    const char *key_id = (const char *)(p + PINCURL_UPDATE_HEADER_SIZE);
    if (!pc_update_key_id_valid(key_id, key_id_len))
        return PINCURL_UPDATE_MALFORMED;

    memcpy(out->key_id, key_id, key_id_len);
    out->key_id[key_id_len] = '\0';
    out->sequence = sequence;
    out->not_before = not_before;
    out->expires = expires;
    out->policy = p + PINCURL_UPDATE_HEADER_SIZE + key_id_len;
    out->policy_len = policy_len;
    out->signed_part = p;
    out->signed_len = PINCURL_UPDATE_HEADER_SIZE + key_id_len + policy_len;
    out->signature = p + out->signed_len;
    return PINCURL_OK;
}

/* The message Ed25519 signs: the context string, then the signed part. */
static unsigned char *signed_message(const unsigned char *part, size_t len, size_t *mlen)
{
    size_t clen = sizeof PC_UPDATE_CONTEXT; /* the NUL is part of the context */
    unsigned char *m = malloc(clen + len);
    if (m == NULL)
        return NULL;
    memcpy(m, PC_UPDATE_CONTEXT, clen);
    memcpy(m + clen, part, len);
    *mlen = clen + len;
    return m;
}

pincurl_status pincurl_update_bundle_verify(const pincurl_update_bundle *b,
                                            const unsigned char public_key[32])
{
    ed25519_key key;
    int res = 0;
    size_t mlen = 0;
    unsigned char *m;
    pincurl_status st;

    if (b == NULL || public_key == NULL || b->signed_part == NULL || b->signature == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (b->signed_len > UINT32_MAX - 64)
        return PINCURL_UPDATE_TOO_LARGE;
    if (wc_ed25519_init(&key) != 0)
        return PINCURL_INTERNAL;
    if (wc_ed25519_import_public(public_key, PINCURL_UPDATE_PUBLIC_KEY_SIZE, &key) != 0) {
        wc_ed25519_free(&key);
        return PINCURL_UPDATE_KEY_INVALID;
    }
    m = signed_message(b->signed_part, b->signed_len, &mlen);
    if (m == NULL) {
        wc_ed25519_free(&key);
        return PINCURL_OUT_OF_MEMORY;
    }
    int rc = wc_ed25519_verify_msg(b->signature, PINCURL_UPDATE_SIGNATURE_SIZE, m,
                                   (word32)mlen, &res, &key);
    st = rc == 0 && res == 1 ? PINCURL_OK : PINCURL_UPDATE_BAD_SIGNATURE;
    free(m);
    wc_ed25519_free(&key);
    return st;
}

static pincurl_status import_private(const unsigned char priv[32], ed25519_key *key,
                                     unsigned char pub[32])
{
    word32 plen = PINCURL_UPDATE_PUBLIC_KEY_SIZE;
    if (wc_ed25519_init(key) != 0)
        return PINCURL_INTERNAL;
    if (wc_ed25519_import_private_only(priv, PINCURL_UPDATE_PRIVATE_KEY_SIZE, key) != 0 ||
        wc_ed25519_make_public(key, pub, plen) != 0) {
        wc_ed25519_free(key);
        return PINCURL_UPDATE_KEY_INVALID;
    }
    /* import the pair so that signing uses the matching public key */
    wc_ed25519_free(key);
    if (wc_ed25519_init(key) != 0)
        return PINCURL_INTERNAL;
    if (wc_ed25519_import_private_key(priv, PINCURL_UPDATE_PRIVATE_KEY_SIZE, pub, plen, key) !=
        0) {
        wc_ed25519_free(key);
        return PINCURL_UPDATE_KEY_INVALID;
    }
    return PINCURL_OK;
}

pincurl_status pincurl_update_bundle_sign(const void *policy, size_t policy_len,
                                          const char *key_id, uint64_t sequence,
                                          int64_t not_before, int64_t expires,
                                          const unsigned char private_key[32],
                                          unsigned char **out, size_t *out_len)
{
    ed25519_key key;
    unsigned char pub[32];
    pincurl_status st;

    if (out != NULL)
        *out = NULL;
    if (out_len != NULL)
        *out_len = 0;
    if (policy == NULL || key_id == NULL || private_key == NULL || out == NULL ||
        out_len == NULL || policy_len == 0 || sequence == 0 || not_before >= expires)
        return PINCURL_INVALID_ARGUMENT;
    if (policy_len > PINCURL_POLICY_MAX_BYTES)
        return PINCURL_UPDATE_TOO_LARGE;
    size_t klen = strlen(key_id);
    if (!pc_update_key_id_valid(key_id, klen))
        return PINCURL_UPDATE_KEY_INVALID;

    size_t signed_len = PINCURL_UPDATE_HEADER_SIZE + klen + policy_len;
    size_t total = signed_len + PINCURL_UPDATE_SIGNATURE_SIZE;
    unsigned char *b = malloc(total);
    if (b == NULL)
        return PINCURL_OUT_OF_MEMORY;
    memcpy(b + OFF_MAGIC, MAGIC, sizeof MAGIC);
    b[OFF_VERSION] = PC_UPDATE_FORMAT_VERSION;
    b[OFF_ALG] = PC_UPDATE_ALG_ED25519;
    b[OFF_KEYID_LEN] = (unsigned char)klen;
    b[OFF_RESERVED] = 0;
    put_u64(b + OFF_SEQUENCE, sequence);
    put_u64(b + OFF_NOT_BEFORE, i64_to_u64(not_before));
    put_u64(b + OFF_EXPIRES, i64_to_u64(expires));
    put_u32(b + OFF_POLICY_LEN, (uint32_t)policy_len);
    memcpy(b + PINCURL_UPDATE_HEADER_SIZE, key_id, klen);
    memcpy(b + PINCURL_UPDATE_HEADER_SIZE + klen, policy, policy_len);

    st = import_private(private_key, &key, pub);
    if (st != PINCURL_OK) {
        free(b);
        return st;
    }
    size_t mlen = 0;
    unsigned char *m = signed_message(b, signed_len, &mlen);
    if (m == NULL) {
        wc_ed25519_free(&key);
        free(b);
        return PINCURL_OUT_OF_MEMORY;
    }
    word32 slen = PINCURL_UPDATE_SIGNATURE_SIZE;
    int rc = wc_ed25519_sign_msg(m, (word32)mlen, b + signed_len, &slen, &key);
    free(m);
    wc_ed25519_free(&key);
    if (rc != 0 || slen != PINCURL_UPDATE_SIGNATURE_SIZE) {
        free(b);
        return PINCURL_INTERNAL;
    }
    *out = b;
    *out_len = total;
    return PINCURL_OK;
}

void pincurl_update_buffer_free(void *buffer)
{
    free(buffer);
}

pincurl_status pincurl_update_keygen(unsigned char private_key[32], unsigned char public_key[32])
{
    WC_RNG rng;
    ed25519_key key;
    word32 plen = 32, qlen = 32;
    pincurl_status st = PINCURL_OK;

    if (private_key == NULL || public_key == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (wc_InitRng(&rng) != 0)
        return PINCURL_INTERNAL;
    if (wc_ed25519_init(&key) != 0) {
        wc_FreeRng(&rng);
        return PINCURL_INTERNAL;
    }
    if (wc_ed25519_make_key(&rng, ED25519_KEY_SIZE, &key) != 0 ||
        wc_ed25519_export_private_only(&key, private_key, &plen) != 0 ||
        wc_ed25519_export_public(&key, public_key, &qlen) != 0 || plen != 32 || qlen != 32)
        st = PINCURL_INTERNAL;
    wc_ed25519_free(&key);
    wc_FreeRng(&rng);
    return st;
}

pincurl_status pincurl_update_public_key(const unsigned char private_key[32],
                                         unsigned char public_key[32])
{
    ed25519_key key;
    if (private_key == NULL || public_key == NULL)
        return PINCURL_INVALID_ARGUMENT;
    pincurl_status st = import_private(private_key, &key, public_key);
    if (st == PINCURL_OK)
        wc_ed25519_free(&key);
    return st;
}

pincurl_status pincurl_update_key_id_default(const unsigned char public_key[32], char *out,
                                             size_t size)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[WC_SHA256_DIGEST_SIZE];

    if (public_key == NULL || out == NULL || size < 17)
        return PINCURL_INVALID_ARGUMENT;
    if (wc_Sha256Hash(public_key, 32, digest) != 0)
        return PINCURL_INTERNAL;
    for (int i = 0; i < 8; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[16] = '\0';
    return PINCURL_OK;
}

#define PUB_WORD "pincurl-ed25519-public"
#define PRIV_WORD "pincurl-ed25519-private"

pincurl_status pincurl_update_key_format(int is_private, const char *key_id,
                                         const unsigned char key[32], char *out, size_t size)
{
    char b64[48];
    size_t b64_len = 0;

    if (key_id == NULL || key == NULL || out == NULL || size == 0)
        return PINCURL_INVALID_ARGUMENT;
    out[0] = '\0';
    if (!pc_update_key_id_valid(key_id, strlen(key_id)))
        return PINCURL_UPDATE_KEY_INVALID;
    if (pc_base64_encode(key, 32, b64, sizeof b64, &b64_len) != PINCURL_OK)
        return PINCURL_INTERNAL;
    const char *word = is_private ? PRIV_WORD : PUB_WORD;
    size_t need = strlen(word) + 1 + strlen(key_id) + 1 + b64_len + 1;
    if (need + 1 > size)
        return PINCURL_BUFFER_TOO_SMALL;
    memcpy(out, word, strlen(word));
    size_t o = strlen(word);
    out[o++] = ' ';
    memcpy(out + o, key_id, strlen(key_id));
    o += strlen(key_id);
    out[o++] = ' ';
    memcpy(out + o, b64, b64_len);
    o += b64_len;
    out[o++] = '\n';
    out[o] = '\0';
    return PINCURL_OK;
}

pincurl_status pincurl_update_key_parse(const char *text, size_t len, int *is_private,
                                        char *key_id, unsigned char key[32])
{
    unsigned char buf[32];
    size_t n = 0;

    if (is_private != NULL)
        *is_private = 0;
    if (key_id != NULL)
        key_id[0] = '\0';
    if (text == NULL || is_private == NULL || key_id == NULL || key == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len > 0 && text[len - 1] == '\r')
        len--;

    int priv;
    size_t wlen;
    if (len > strlen(PRIV_WORD) && memcmp(text, PRIV_WORD, strlen(PRIV_WORD)) == 0 &&
        text[strlen(PRIV_WORD)] == ' ') {
        priv = 1;
        wlen = strlen(PRIV_WORD);
    } else if (len > strlen(PUB_WORD) && memcmp(text, PUB_WORD, strlen(PUB_WORD)) == 0 &&
               text[strlen(PUB_WORD)] == ' ') {
        priv = 0;
        wlen = strlen(PUB_WORD);
    } else {
        return PINCURL_UPDATE_KEY_INVALID;
    }
    const char *id = text + wlen + 1;
    const char *end = text + len;
    const char *sp = memchr(id, ' ', (size_t)(end - id));
    if (sp == NULL)
        return PINCURL_UPDATE_KEY_INVALID;
    size_t idlen = (size_t)(sp - id);
    if (!pc_update_key_id_valid(id, idlen))
        return PINCURL_UPDATE_KEY_INVALID;
    const char *b64 = sp + 1;
    size_t b64_len = (size_t)(end - b64);
    if (pc_base64_decode(b64, b64_len, buf, sizeof buf, &n) != PINCURL_OK || n != 32)
        return PINCURL_UPDATE_KEY_INVALID;
    memcpy(key_id, id, idlen);
    key_id[idlen] = '\0';
    memcpy(key, buf, 32);
    memset(buf, 0, sizeof buf);
    *is_private = priv;
    return PINCURL_OK;
}
