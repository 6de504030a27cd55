/* PEM scanning, certificate lists, and pins of public keys in their usual encodings. */
#include "core/pem.h"

#include <string.h>

#include "core/alloc.h"
#include "core/base64.h"
#include "core/der.h"
#include "core/pin_hash.h"
#include "pincurl/core.h"

#define BEGIN_MARK "-----BEGIN "
#define END_MARK "-----END "
#define DASHES "-----"
#define MAX_CERTIFICATES 4096

static int has_prefix_at(const char *data, size_t len, size_t i, const char *prefix)
{
    size_t n = strlen(prefix);
    return len - i >= n && memcmp(data + i, prefix, n) == 0;
}

/* The index of the first line at or after `from` (which is a line start) that begins with
 * prefix, or len. */
static size_t find_line(const char *data, size_t len, size_t from, const char *prefix)
{
    size_t i = from;
    while (i < len) {
        if (has_prefix_at(data, len, i, prefix))
            return i;
        const char *nl = memchr(data + i, '\n', len - i);
        if (nl == NULL)
            return len;
        i = (size_t)(nl - data) + 1;
    }
    return len;
}

/* Parses "<mark>LABEL-----" plus trailing blanks at data[i]; on success gives the label
 * and, in *next, the start of the following line (len when none). */
static int parse_marker_line(const char *data, size_t len, size_t i, const char *mark,
                             const char **label, size_t *label_len, size_t *next)
{
    size_t start = i + strlen(mark);
    size_t j = start;
    while (j < len && data[j] != '\n' && !has_prefix_at(data, len, j, DASHES))
        j++;
    if (j >= len || data[j] == '\n' || j == start)
        return -1;
    *label = data + start;
    *label_len = j - start;
    j += strlen(DASHES);
    while (j < len && (data[j] == ' ' || data[j] == '\t' || data[j] == '\r'))
        j++;
    if (j < len && data[j] != '\n')
        return -1;
    *next = j < len ? j + 1 : len;
    return 0;
}

pincurl_status pc_pem_next(const char *data, size_t len, size_t *pos, pc_pem_block *block,
                           int *found)
{
    memset(block, 0, sizeof *block);
    *found = 0;
    if (data == NULL || *pos >= len)
        return PINCURL_OK;
    size_t begin = find_line(data, len, *pos, BEGIN_MARK);
    if (begin == len) {
        *pos = len;
        return PINCURL_OK;
    }
    const char *label, *end_label;
    size_t label_len, end_label_len, body, after;
    if (parse_marker_line(data, len, begin, BEGIN_MARK, &label, &label_len, &body) != 0)
        return PINCURL_PEM_MALFORMED;
    if (body >= len)
        return PINCURL_PEM_MALFORMED; /* no body and no END line */
    size_t end = find_line(data, len, body, END_MARK);
    if (end == len || find_line(data, end, body, BEGIN_MARK) != end)
        return PINCURL_PEM_MALFORMED; /* unterminated */
    if (parse_marker_line(data, len, end, END_MARK, &end_label, &end_label_len, &after) != 0)
        return PINCURL_PEM_MALFORMED;
    if (end_label_len != label_len || memcmp(end_label, label, label_len) != 0)
        return PINCURL_PEM_MALFORMED;
    block->label = label;
    block->label_len = label_len;
    block->body = data + body;
    block->body_len = end - body;
    *pos = after;
    *found = 1;
    return PINCURL_OK;
}

int pc_pem_label_is(const pc_pem_block *block, const char *label)
{
    size_t n = strlen(label);
    return block->label_len == n && memcmp(block->label, label, n) == 0;
}

static int label_has(const pc_pem_block *block, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= block->label_len; i++)
        if (memcmp(block->label + i, word, n) == 0)
            return 1;
    return 0;
}

pincurl_status pc_pem_decode(const pc_pem_block *block, const pincurl_allocator *alloc,
                             unsigned char **der, size_t *der_len)
{
    size_t n = 0;
    *der = NULL;
    *der_len = 0;
    pincurl_status st = pc_base64_decode_pem(block->body, block->body_len, NULL, 0, &n);
    if (st != PINCURL_OK)
        return st;
    unsigned char *buf = pc_malloc(alloc, n);
    if (buf == NULL)
        return PINCURL_OUT_OF_MEMORY;
    st = pc_base64_decode_pem(block->body, block->body_len, buf, n, &n);
    if (st != PINCURL_OK) {
        pc_free(alloc, buf);
        return st;
    }
    *der = buf;
    *der_len = n;
    return PINCURL_OK;
}

/* 1 if data is exactly one DER element that starts with a SEQUENCE. */
static int is_single_der_sequence(const unsigned char *data, size_t len)
{
    pc_der_tlv tlv;
    return len > 0 && data[0] == PC_DER_SEQUENCE && pc_der_read(data, len, &tlv) == PINCURL_OK &&
           tlv.tlv_len == len;
}

/* ---- Certificate lists ----------------------------------------------------------------- */

typedef struct cert_entry {
    size_t off;
    size_t len;
    size_t block; /* position among the input's certificate blocks */
    size_t line;  /* 1-based line of its BEGIN line; 0 for a DER input */
} cert_entry;

typedef struct skipped_entry {
    size_t block, line;
    pincurl_status why;
} skipped_entry;

struct pincurl_cert_list {
    pincurl_allocator alloc;
    unsigned char *data; /* every certificate's DER, back to back */
    size_t used;
    size_t cap;
    cert_entry *entries;
    size_t count;
    size_t entries_cap;
    skipped_entry *skipped; /* with PINCURL_CERT_LIST_SKIP_BAD */
    size_t skipped_count;
    size_t skipped_cap;
};

static pincurl_status list_add(pincurl_cert_list *list, size_t off, size_t len, size_t block,
                               size_t line)
{
    if (list->count == MAX_CERTIFICATES)
        return PINCURL_LIMIT_EXCEEDED;
    if (list->count == list->entries_cap) {
        size_t cap = list->entries_cap == 0 ? 4 : list->entries_cap * 2;
        cert_entry *e = pc_realloc(&list->alloc, list->entries, cap * sizeof *e);
        if (e == NULL)
            return PINCURL_OUT_OF_MEMORY;
        list->entries = e;
        list->entries_cap = cap;
    }
    cert_entry *e = &list->entries[list->count++];
    e->off = off;
    e->len = len;
    e->block = block;
    e->line = line;
    return PINCURL_OK;
}

static pincurl_status list_skip(pincurl_cert_list *list, size_t block, size_t line,
                                pincurl_status why)
{
    if (list->skipped_count == MAX_CERTIFICATES)
        return PINCURL_LIMIT_EXCEEDED;
    if (list->skipped_count == list->skipped_cap) {
        size_t cap = list->skipped_cap == 0 ? 4 : list->skipped_cap * 2;
        skipped_entry *e = pc_realloc(&list->alloc, list->skipped, cap * sizeof *e);
        if (e == NULL)
            return PINCURL_OUT_OF_MEMORY;
        list->skipped = e;
        list->skipped_cap = cap;
    }
    skipped_entry *e = &list->skipped[list->skipped_count++];
    e->block = block;
    e->line = line;
    e->why = why;
    return PINCURL_OK;
}

/* The labels a certificate block may carry: RFC 7468's, its obsolete "X509 CERTIFICATE",
 * and OpenSSL's "TRUSTED CERTIFICATE" (the certificate followed by OpenSSL's trust
 * settings, which are not read). */
static int cert_label(const char *label, size_t len, int *trusted)
{
    pc_pem_block b;
    b.label = label;
    b.label_len = len;
    *trusted = pc_pem_label_is(&b, "TRUSTED CERTIFICATE");
    return *trusted || pc_pem_label_is(&b, "CERTIFICATE") ||
           pc_pem_label_is(&b, "X509 CERTIFICATE");
}

/* The certificate of a decoded block: all of it, or for a TRUSTED CERTIFICATE its first
 * element (what follows is the trust settings). */
static size_t cert_part(const unsigned char *der, size_t len, int trusted)
{
    pc_der_tlv tlv;
    if (trusted && pc_der_read(der, len, &tlv) == PINCURL_OK)
        return tlv.tlv_len;
    return len;
}

/* Where the certificate's key is: the whole certificate checked (the default), or only as
 * far as its key (PINCURL_CERT_LIST_SKIP_BAD, for showing pins of odd certificates). */
static pincurl_status find_key(const unsigned char *der, size_t len, unsigned flags)
{
    if (flags & PINCURL_CERT_LIST_SKIP_BAD) {
        pc_der_cert c;
        return pc_der_cert_locate(der, len, &c);
    }
    const unsigned char *spki;
    size_t spki_len;
    return pincurl_spki_locate(der, len, &spki, &spki_len);
}

static size_t line_of(const char *text, size_t pos)
{
    size_t line = 1;
    for (size_t i = 0; i < pos; i++)
        line += text[i] == '\n';
    return line;
}

/* The start of the line after the one at i (len when none). */
static size_t next_line(const char *text, size_t len, size_t i)
{
    const char *nl = memchr(text + i, '\n', len - i);
    return nl != NULL ? (size_t)(nl - text) + 1 : len;
}

static pincurl_status load_pem(pincurl_cert_list *list, const char *text, size_t len,
                               unsigned flags, size_t *blocks)
{
    int skip_bad = (flags & PINCURL_CERT_LIST_SKIP_BAD) != 0;
    size_t pos = 0, line = 1, line_pos = 0;
    /* With SKIP_BAD the scan goes on past bad blocks: the next END line and the BEGIN line
     * after the current one are remembered, so that a run of unterminated blocks is not
     * searched to the end of the input once per block (every search moves forward). */
    size_t end_at = 0, end_known = 0, begin2_at = 0, begin2_known = 0;
    *blocks = 0;
    for (;;) {
        pc_pem_block block;
        int found, trusted = 0;
        pincurl_status st = PINCURL_OK;
        size_t begin = find_line(text, len, pos, BEGIN_MARK);
        if (begin < len) { /* lines counted incrementally: the input is scanned once */
            line += line_of(text + line_pos, begin - line_pos) - 1;
            line_pos = begin;
        }
        if (skip_bad && begin < len) {
            size_t after = next_line(text, len, begin);
            if (!end_known || end_at < after) {
                end_at = find_line(text, len, after, END_MARK);
                end_known = 1;
            }
            if (!begin2_known || begin2_at < after) {
                begin2_at = find_line(text, len, after, BEGIN_MARK);
                begin2_known = 1;
            }
            if (end_at == len || begin2_at < end_at)
                st = PINCURL_PEM_MALFORMED; /* unterminated, or another block inside */
        }
        if (st == PINCURL_OK)
            st = pc_pem_next(text, len, &pos, &block, &found);
        if (st != PINCURL_OK) {
            /* A block that is not well formed. Skipped when its label is a certificate's
             * (or cannot be read), then the scan resumes after its BEGIN line. */
            const char *label;
            size_t label_len, next;
            if (!skip_bad || begin >= len)
                return st;
            int parsed = parse_marker_line(text, len, begin, BEGIN_MARK, &label, &label_len,
                                           &next) == 0;
            if (!parsed || cert_label(label, label_len, &trusted)) {
                if ((st = list_skip(list, (*blocks)++, line, st)) != PINCURL_OK)
                    return st;
            }
            pos = next_line(text, len, begin);
            continue;
        }
        if (!found)
            return PINCURL_OK;
        if (!cert_label(block.label, block.label_len, &trusted))
            continue;
        size_t index = (*blocks)++, n = 0;
        /* The decoded size never exceeds the body's size, so the buffer always has room. */
        st = pc_base64_decode_pem(block.body, block.body_len, list->data + list->used,
                                  list->cap - list->used, &n);
        if (st == PINCURL_BUFFER_TOO_SMALL)
            return PINCURL_INTERNAL;
        if (st == PINCURL_OK) {
            n = cert_part(list->data + list->used, n, trusted);
            st = find_key(list->data + list->used, n, flags);
        }
        if (st != PINCURL_OK && st != PINCURL_OUT_OF_MEMORY && skip_bad) {
            if ((st = list_skip(list, index, line, st)) != PINCURL_OK)
                return st;
            continue;
        }
        if (st != PINCURL_OK)
            return st;
        if ((st = list_add(list, list->used, n, index, line)) != PINCURL_OK)
            return st;
        list->used += n;
    }
}

pincurl_status pincurl_cert_list_load_ex(const unsigned char *data, size_t len, unsigned flags,
                                         const pincurl_allocator *alloc,
                                         pincurl_cert_list **out)
{
    pincurl_allocator a;
    pincurl_status st;
    size_t blocks = 0;

    if (out == NULL)
        return PINCURL_INVALID_ARGUMENT;
    *out = NULL;
    if ((data == NULL && len != 0) || (flags & ~PINCURL_CERT_LIST_SKIP_BAD) != 0)
        return PINCURL_INVALID_ARGUMENT;
    if (len == 0)
        return PINCURL_NO_CERTIFICATE;

    pc_allocator_init(&a, alloc);
    pincurl_cert_list *list = pc_calloc(&a, 1, sizeof *list);
    if (list == NULL)
        return PINCURL_OUT_OF_MEMORY;
    list->alloc = a;
    list->data = pc_malloc(&a, len);
    if (list->data == NULL) {
        st = PINCURL_OUT_OF_MEMORY;
        goto fail;
    }
    list->cap = len;

    if (is_single_der_sequence(data, len)) {
        blocks = 1;
        if ((st = find_key(data, len, flags)) != PINCURL_OK) {
            if (!(flags & PINCURL_CERT_LIST_SKIP_BAD) || st == PINCURL_OUT_OF_MEMORY ||
                (st = list_skip(list, 0, 0, st)) != PINCURL_OK)
                goto fail;
        } else {
            memcpy(list->data, data, len);
            list->used = len;
            if ((st = list_add(list, 0, len, 0, 0)) != PINCURL_OK)
                goto fail;
        }
    } else {
        if ((st = load_pem(list, (const char *)data, len, flags, &blocks)) != PINCURL_OK)
            goto fail;
        if (blocks == 0 && data[0] == PC_DER_SEQUENCE) {
            /* Not PEM: report why the input is not one DER certificate. */
            const unsigned char *spki;
            size_t spki_len;
            st = pincurl_spki_locate(data, len, &spki, &spki_len);
            if (st == PINCURL_OK)
                st = PINCURL_INTERNAL;
            if ((flags & PINCURL_CERT_LIST_SKIP_BAD) && st != PINCURL_INTERNAL) {
                blocks = 1;
                if ((st = list_skip(list, 0, 0, st)) != PINCURL_OK)
                    goto fail;
            } else {
                goto fail;
            }
        }
    }
    if (blocks == 0 || (list->count == 0 && !(flags & PINCURL_CERT_LIST_SKIP_BAD))) {
        st = PINCURL_NO_CERTIFICATE;
        goto fail;
    }
    *out = list;
    return PINCURL_OK;

fail:
    pincurl_cert_list_free(list);
    return st;
}

pincurl_status pincurl_cert_list_load(const unsigned char *data, size_t len,
                                      const pincurl_allocator *alloc, pincurl_cert_list **out)
{
    return pincurl_cert_list_load_ex(data, len, 0, alloc, out);
}

pincurl_status pincurl_cert_list_origin(const pincurl_cert_list *list, size_t i, size_t *block,
                                        size_t *line)
{
    if (block != NULL)
        *block = 0;
    if (line != NULL)
        *line = 0;
    if (list == NULL || i >= list->count)
        return PINCURL_INVALID_ARGUMENT;
    if (block != NULL)
        *block = list->entries[i].block;
    if (line != NULL)
        *line = list->entries[i].line;
    return PINCURL_OK;
}

size_t pincurl_cert_list_skipped_count(const pincurl_cert_list *list)
{
    return list == NULL ? 0 : list->skipped_count;
}

pincurl_status pincurl_cert_list_skipped(const pincurl_cert_list *list, size_t i, size_t *block,
                                         size_t *line, pincurl_status *why)
{
    if (block != NULL)
        *block = 0;
    if (line != NULL)
        *line = 0;
    if (why != NULL)
        *why = PINCURL_OK;
    if (list == NULL || i >= list->skipped_count)
        return PINCURL_INVALID_ARGUMENT;
    if (block != NULL)
        *block = list->skipped[i].block;
    if (line != NULL)
        *line = list->skipped[i].line;
    if (why != NULL)
        *why = list->skipped[i].why;
    return PINCURL_OK;
}

size_t pincurl_cert_list_count(const pincurl_cert_list *list)
{
    return list == NULL ? 0 : list->count;
}

const unsigned char *pincurl_cert_list_der(const pincurl_cert_list *list, size_t i, size_t *len)
{
    if (len != NULL)
        *len = 0;
    if (list == NULL || i >= list->count)
        return NULL;
    if (len != NULL)
        *len = list->entries[i].len;
    return list->data + list->entries[i].off;
}

void pincurl_cert_list_free(pincurl_cert_list *list)
{
    if (list == NULL)
        return;
    pincurl_allocator a = list->alloc;
    pc_free(&a, list->skipped);
    pc_free(&a, list->entries);
    pc_free(&a, list->data);
    pc_free(&a, list);
}

/* ---- Public keys ----------------------------------------------------------------------- */

/* rsaEncryption AlgorithmIdentifier: SEQUENCE { OID 1.2.840.113549.1.1.1, NULL }. */
static const unsigned char rsa_algorithm[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                              0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};

/* Writes a DER header (tag and minimal length) and returns its size (at most 6). */
static size_t put_header(unsigned char *out, unsigned tag, size_t len)
{
    size_t n = 0;
    out[n++] = (unsigned char)tag;
    if (len < 0x80) {
        out[n++] = (unsigned char)len;
        return n;
    }
    size_t bytes = 0;
    for (size_t v = len; v != 0; v >>= 8)
        bytes++;
    out[n++] = (unsigned char)(0x80u | bytes);
    for (size_t i = bytes; i-- > 0;)
        out[n++] = (unsigned char)((len >> (8 * i)) & 0xffu);
    return n;
}

/* Checks RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (exactly
 * pkcs1[0..len)) and hashes the SubjectPublicKeyInfo that wraps it. */
static pincurl_status pin_from_pkcs1(const unsigned char *pkcs1, size_t len, pincurl_pin *out)
{
    pc_der_tlv seq, n, e;
    pc_der_cursor c;
    pincurl_status st = pc_der_read(pkcs1, len, &seq);
    if (st != PINCURL_OK)
        return st;
    if (seq.tag != PC_DER_SEQUENCE || seq.tlv_len != len)
        return PINCURL_DER_MALFORMED;
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    if ((st = pc_der_expect(&c, PC_DER_INTEGER, &n)) != PINCURL_OK)
        return st;
    if ((st = pc_der_expect(&c, PC_DER_INTEGER, &e)) != PINCURL_OK)
        return st;
    if (!pc_der_cursor_done(&c) || n.content_len == 0 || e.content_len == 0)
        return PINCURL_DER_MALFORMED;
    if (len > 0x7fff0000u)
        return PINCURL_LIMIT_EXCEEDED;

    unsigned char bitstr_hdr[8];
    size_t bitstr_content = len + 1;
    size_t bh = put_header(bitstr_hdr, PC_DER_BIT_STRING, bitstr_content);
    unsigned char header[32];
    size_t h = put_header(header, PC_DER_SEQUENCE, sizeof rsa_algorithm + bh + bitstr_content);
    memcpy(header + h, rsa_algorithm, sizeof rsa_algorithm);
    h += sizeof rsa_algorithm;
    memcpy(header + h, bitstr_hdr, bh);
    h += bh;
    header[h++] = 0x00; /* no unused bits */
    return pc_pin_hash_parts(header, h, pkcs1, len, out);
}

/* Classifies one DER element holding a key or certificate and pins it. */
static pincurl_status pin_from_der_key(const unsigned char *der, size_t len, pincurl_pin *out)
{
    pc_der_tlv seq, first, second;
    pc_der_cursor c;
    pincurl_status st = pc_der_read(der, len, &seq);
    if (st != PINCURL_OK)
        return st;
    if (seq.tag != PC_DER_SEQUENCE || seq.tlv_len != len)
        return PINCURL_DER_MALFORMED;
    pc_der_cursor_init(&c, seq.content, seq.content_len);
    if ((st = pc_der_next(&c, &first)) != PINCURL_OK)
        return st;
    if ((st = pc_der_next(&c, &second)) != PINCURL_OK)
        return st;
    if (first.tag == PC_DER_SEQUENCE) {
        if (second.tag == PC_DER_BIT_STRING)
            return pincurl_pin_from_spki_der(der, len, out); /* SubjectPublicKeyInfo */
        if (second.tag == PC_DER_SEQUENCE)
            return pincurl_pin_from_cert_der(der, len, out); /* Certificate */
        if (second.tag == PC_DER_OCTET_STRING)
            return PINCURL_KEY_UNSUPPORTED; /* EncryptedPrivateKeyInfo */
        return PINCURL_DER_MALFORMED;
    }
    if (first.tag == PC_DER_INTEGER) {
        if (second.tag == PC_DER_INTEGER && pc_der_cursor_done(&c))
            return pin_from_pkcs1(der, len, out); /* RSAPublicKey */
        if (second.tag == PC_DER_INTEGER || second.tag == PC_DER_SEQUENCE ||
            second.tag == PC_DER_OCTET_STRING)
            return PINCURL_KEY_UNSUPPORTED; /* RSAPrivateKey, PKCS#8, ECPrivateKey */
    }
    return PINCURL_DER_MALFORMED;
}

pincurl_status pincurl_pin_from_public_key(const unsigned char *data, size_t len,
                                           pincurl_pin *out)
{
    pincurl_allocator a;
    size_t pos = 0;
    int saw_private = 0;

    if (out == NULL || (data == NULL && len != 0))
        return PINCURL_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (len == 0)
        return PINCURL_NO_KEY;
    if (is_single_der_sequence(data, len))
        return pin_from_der_key(data, len, out);

    pc_allocator_init(&a, NULL);
    for (;;) {
        pc_pem_block block;
        int found;
        pincurl_status st = pc_pem_next((const char *)data, len, &pos, &block, &found);
        if (st != PINCURL_OK)
            return st;
        if (!found)
            break;
        int spki = pc_pem_label_is(&block, "PUBLIC KEY");
        int pkcs1 = pc_pem_label_is(&block, "RSA PUBLIC KEY");
        int trusted = 0;
        int cert = cert_label(block.label, block.label_len, &trusted);
        if (!spki && !pkcs1 && !cert) {
            if (label_has(&block, "PRIVATE KEY"))
                saw_private = 1;
            continue;
        }
        unsigned char *der;
        size_t der_len;
        if ((st = pc_pem_decode(&block, &a, &der, &der_len)) != PINCURL_OK)
            return st;
        if (spki)
            st = pincurl_pin_from_spki_der(der, der_len, out);
        else if (pkcs1)
            st = pin_from_pkcs1(der, der_len, out);
        else
            st = pincurl_pin_from_cert_der(der, cert_part(der, der_len, trusted), out);
        pc_free(&a, der);
        if (st != PINCURL_OK)
            memset(out, 0, sizeof *out);
        return st;
    }
    if (saw_private)
        return PINCURL_KEY_UNSUPPORTED;
    if (data[0] == PC_DER_SEQUENCE)
        return pin_from_der_key(data, len, out); /* not PEM: the DER status */
    return PINCURL_NO_KEY;
}
