/*
 * Host names: normalisation for matching and IP literal parsing.
 *
 * Rules (pincurl_host_normalize):
 *  - names: ASCII only (IDNs in their A-label "xn--" form), lower-cased, one trailing dot
 *    removed; labels of 1..63 characters from a-z 0-9 '-' '_', at most 253 characters;
 *  - a name whose last label is numeric (decimal digits, or "0x" and hex digits) must be an
 *    IPv4 literal of exactly four decimal octets 0..255 without leading zeros; "127.1",
 *    "0x7f.0.0.1", "01.2.3.4" and "256.1.1.1" are refused, because resolvers disagree on what
 *    they mean;
 *  - IPv6 literals, with or without brackets, are parsed here (no libc: the core runs on
 *    firmware) and written in RFC 5952 form without brackets; zone ids are refused. An
 *    IPv4-mapped address (::ffff:0:0/96, in any spelling: "::ffff:192.0.2.1",
 *    "[::FFFF:c000:201]", "0:0:0:0:0:ffff:192.0.2.1") is the IPv4 address it maps and is
 *    written as such ("192.0.2.1"): a connection to it reaches that IPv4 host.
 * Pure functions: no allocation, no global state.
 */
#include "core/host.h"

#include <string.h>

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int pc_host_ipv4_mapped(const unsigned char addr[16])
{
    static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(addr, prefix, sizeof prefix) == 0;
}

int pc_host_parse_ipv4(const char *s, size_t len, unsigned char out[4])
{
    size_t pos = 0;
    for (int octet = 0; octet < 4; octet++) {
        if (octet > 0) {
            if (pos >= len || s[pos] != '.')
                return 0;
            pos++;
        }
        size_t start = pos;
        unsigned value = 0;
        while (pos < len && is_digit((unsigned char)s[pos]) && pos - start < 3) {
            value = value * 10 + (unsigned)(s[pos] - '0');
            pos++;
        }
        size_t digits = pos - start;
        if (digits == 0 || value > 255)
            return 0;
        if (digits > 1 && s[start] == '0')
            return 0; /* leading zero: octal to some resolvers */
        if (pos < len && is_digit((unsigned char)s[pos]))
            return 0; /* four or more digits */
        out[octet] = (unsigned char)value;
    }
    return pos == len;
}

int pc_host_parse_ipv6(const char *s, size_t len, unsigned char out[16])
{
    unsigned groups[8];
    size_t ngroups = 0;
    size_t gap = SIZE_MAX; /* index in groups where "::" stands */
    size_t pos = 0;

    if (len < 2)
        return 0;
    if (s[0] == ':') {
        if (s[1] != ':')
            return 0;
        gap = 0;
        pos = 2;
        if (pos == len)
            goto done; /* "::" */
    }
    for (;;) {
        /* One group: 1..4 hex digits, or an IPv4 tail as the last element. */
        size_t start = pos;
        unsigned value = 0;
        while (pos < len && pos - start < 5 && hex_value((unsigned char)s[pos]) >= 0) {
            value = (value << 4) | (unsigned)hex_value((unsigned char)s[pos]);
            pos++;
        }
        size_t digits = pos - start;
        if (pos < len && s[pos] == '.') {
            /* Embedded IPv4: the rest of the literal, taking two groups. */
            unsigned char v4[4];
            if (ngroups > 6 || !pc_host_parse_ipv4(s + start, len - start, v4))
                return 0;
            groups[ngroups++] = ((unsigned)v4[0] << 8) | v4[1];
            groups[ngroups++] = ((unsigned)v4[2] << 8) | v4[3];
            pos = len;
            break;
        }
        if (digits == 0 || digits > 4 || ngroups == 8)
            return 0;
        groups[ngroups++] = value;
        if (pos == len)
            break;
        if (s[pos] != ':')
            return 0; /* includes '%' zone ids and any other character */
        pos++;
        if (pos < len && s[pos] == ':') {
            if (gap != SIZE_MAX)
                return 0; /* a second "::" */
            gap = ngroups;
            pos++;
            if (pos == len)
                break; /* trailing "::" */
        } else if (pos == len) {
            return 0; /* trailing single ':' */
        }
    }
done:
    if (gap == SIZE_MAX) {
        if (ngroups != 8)
            return 0;
    } else if (ngroups > 7) {
        return 0; /* "::" must stand for at least one group */
    }
    {
        unsigned full[8] = {0};
        if (gap == SIZE_MAX) {
            memcpy(full, groups, sizeof full);
        } else {
            size_t tail = ngroups - gap;
            for (size_t i = 0; i < gap; i++)
                full[i] = groups[i];
            for (size_t i = 0; i < tail; i++)
                full[8 - tail + i] = groups[gap + i];
        }
        for (size_t i = 0; i < 8; i++) {
            out[2 * i] = (unsigned char)(full[i] >> 8);
            out[2 * i + 1] = (unsigned char)(full[i] & 0xff);
        }
    }
    return 1;
}

/* Appends text to buf at *pos; the caller sized buf for the longest form. */
static void put_str(char *buf, size_t *pos, const char *text)
{
    size_t n = strlen(text);
    memcpy(buf + *pos, text, n);
    *pos += n;
}

static void put_hex(char *buf, size_t *pos, unsigned value)
{
    static const char digits[] = "0123456789abcdef";
    int started = 0;
    for (int shift = 12; shift >= 0; shift -= 4) {
        unsigned d = (value >> shift) & 0xf;
        if (d != 0 || started || shift == 0) {
            buf[(*pos)++] = digits[d];
            started = 1;
        }
    }
}

static void put_dec(char *buf, size_t *pos, unsigned value)
{
    if (value >= 100)
        buf[(*pos)++] = (char)('0' + value / 100);
    if (value >= 10)
        buf[(*pos)++] = (char)('0' + (value / 10) % 10);
    buf[(*pos)++] = (char)('0' + value % 10);
}

size_t pc_host_format_ipv6(const unsigned char addr[16], char out[PC_HOST_IPV6_TEXT_MAX])
{
    unsigned groups[8];
    for (size_t i = 0; i < 8; i++)
        groups[i] = ((unsigned)addr[2 * i] << 8) | addr[2 * i + 1];

    /* IPv4-mapped: ::ffff:a.b.c.d */
    int mapped = groups[0] == 0 && groups[1] == 0 && groups[2] == 0 && groups[3] == 0 &&
                 groups[4] == 0 && groups[5] == 0xffff;
    size_t nhex = mapped ? 6 : 8;

    /* Longest run of zero groups (at least two), leftmost on ties. */
    size_t best_start = SIZE_MAX, best_len = 0;
    for (size_t i = 0; i < nhex;) {
        if (groups[i] != 0) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < nhex && groups[j] == 0)
            j++;
        if (j - i >= 2 && j - i > best_len) {
            best_start = i;
            best_len = j - i;
        }
        i = j;
    }

    size_t pos = 0;
    for (size_t i = 0; i < nhex; i++) {
        if (i == best_start) {
            put_str(out, &pos, "::");
            i += best_len - 1;
            continue;
        }
        if (pos > 0 && out[pos - 1] != ':')
            out[pos++] = ':';
        put_hex(out, &pos, groups[i]);
    }
    if (mapped) {
        if (out[pos - 1] != ':')
            out[pos++] = ':';
        for (size_t i = 12; i < 16; i++) {
            if (i > 12)
                out[pos++] = '.';
            put_dec(out, &pos, addr[i]);
        }
    }
    out[pos] = '\0';
    return pos;
}

/* 1 if the label is numeric the way URL parsers read IPv4 parts: decimal digits, or "0x"
 * followed by hex digits (possibly none). */
static int label_is_numeric(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        for (size_t i = 2; i < len; i++)
            if (hex_value((unsigned char)s[i]) < 0)
                return 0;
        return 1;
    }
    for (size_t i = 0; i < len; i++)
        if (!is_digit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int name_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_';
}

static pincurl_status copy_out(const char *text, size_t n, char *out, size_t size)
{
    if (n + 1 > size)
        return PINCURL_BUFFER_TOO_SMALL;
    memcpy(out, text, n);
    out[n] = '\0';
    return PINCURL_OK;
}

pincurl_status pincurl_host_normalize(const char *host, size_t len, char *out, size_t size)
{
    if (out != NULL && size > 0)
        out[0] = '\0';
    if (out == NULL || size == 0 || (host == NULL && len != 0))
        return PINCURL_INVALID_ARGUMENT;
    if (len == 0)
        return PINCURL_HOST_INVALID;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)host[i] >= 0x80)
            return PINCURL_HOST_NOT_ASCII;

    /* IPv6, bracketed or bare. */
    const char *v6 = NULL;
    size_t v6_len = 0;
    if (host[0] == '[') {
        if (len < 2 || host[len - 1] != ']')
            return PINCURL_HOST_INVALID;
        v6 = host + 1;
        v6_len = len - 2;
    } else if (memchr(host, ':', len) != NULL) {
        v6 = host;
        v6_len = len;
    }
    if (v6 != NULL) {
        unsigned char addr[16];
        char text[PC_HOST_IPV6_TEXT_MAX];
        if (!pc_host_parse_ipv6(v6, v6_len, addr))
            return PINCURL_HOST_INVALID;
        if (pc_host_ipv4_mapped(addr)) {
            /* ::ffff:a.b.c.d is the IPv4 address a.b.c.d: one host, one entry */
            size_t pos = 0;
            for (size_t i = 12; i < 16; i++) {
                if (i > 12)
                    text[pos++] = '.';
                put_dec(text, &pos, addr[i]);
            }
            return copy_out(text, pos, out, size);
        }
        size_t n = pc_host_format_ipv6(addr, text);
        return copy_out(text, n, out, size);
    }

    /* Names and IPv4: one trailing dot is dropped. */
    if (host[len - 1] == '.')
        len--;
    if (len == 0 || len > PINCURL_HOST_MAX)
        return PINCURL_HOST_INVALID;

    char name[PINCURL_HOST_MAX];
    size_t label_start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || host[i] == '.') {
            size_t label_len = i - label_start;
            if (label_len == 0 || label_len > 63)
                return PINCURL_HOST_INVALID;
            if (i < len)
                name[i] = '.';
            label_start = i + 1;
            continue;
        }
        unsigned char c = (unsigned char)host[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (!name_char_ok(c))
            return PINCURL_HOST_INVALID;
        name[i] = (char)c;
    }

    /* A numeric last label makes it an IPv4 literal, which must be in the strict form. */
    size_t last = len;
    while (last > 0 && name[last - 1] != '.')
        last--;
    if (label_is_numeric(name + last, len - last)) {
        unsigned char v4[4];
        if (!pc_host_parse_ipv4(name, len, v4))
            return PINCURL_HOST_INVALID;
    }
    return copy_out(name, len, out, size);
}

int pincurl_host_is_ip(const char *normalized_host)
{
    if (normalized_host == NULL)
        return 0;
    size_t len = strlen(normalized_host);
    unsigned char addr[16];
    if (memchr(normalized_host, ':', len) != NULL)
        return pc_host_parse_ipv6(normalized_host, len, addr);
    return pc_host_parse_ipv4(normalized_host, len, addr);
}
