/* Pins: parsing, formatting and comparison; the strict base64 codec underneath. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/base64.h"
#include "pincurl/pincurl.h"

/* A pin's text from raw digest bytes of any length (base64 through our encoder, which the
 * RFC 4648 vectors below check independently). */
static void pin_text(const unsigned char *digest, size_t n, char *out, size_t size)
{
    cr_assert(size > 7);
    memcpy(out, "sha256/", 7);
    cr_assert_eq(pc_base64_encode(digest, n, out + 7, size - 7, NULL), PINCURL_OK);
}

static void sample_digest(unsigned char *d, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        d[i] = (unsigned char)(seed * 31u + i * 7u + 3u);
}

static pincurl_status parse_str(const char *s, pincurl_pin *pin)
{
    return pincurl_pin_parse(s, strlen(s), pin);
}

/* ---- base64 ----------------------------------------------------------------------------- */

Test(base64, rfc4648_vectors)
{
    static const struct {
        const char *plain, *enc;
    } v[] = {{"", ""},          {"f", "Zg=="},         {"fo", "Zm8="},
             {"foo", "Zm9v"},   {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
             {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char enc[32];
        unsigned char dec[32];
        size_t n = 99;
        cr_assert_eq(pc_base64_encode((const unsigned char *)v[i].plain, strlen(v[i].plain), enc,
                                      sizeof enc, &n),
                     PINCURL_OK);
        cr_assert_str_eq(enc, v[i].enc);
        cr_assert_eq(n, strlen(v[i].enc));
        cr_assert_eq(pc_base64_decode(v[i].enc, strlen(v[i].enc), dec, sizeof dec, &n), PINCURL_OK);
        cr_assert_eq(n, strlen(v[i].plain));
        cr_assert(memcmp(dec, v[i].plain, n) == 0);
    }
    cr_assert_eq(pc_base64_encoded_len(32), 44);
}

Test(base64, strict_rejections)
{
    static const char *bad[] = {
        "Zg",       /* missing padding */
        "Zg=",      /* short padding */
        "Zm9",      /* partial group */
        "Zh==",     /* non-canonical: unused bits set */
        "Zm9=",     /* non-canonical with one '=' */
        "Zg==Zg==", /* data after padding */
        "Zg==\n",   /* whitespace after */
        " Zm9v",    /* whitespace before */
        "Zm 9v",    /* whitespace inside */
        "Z===",     /* padding too early */
        "=Zm9",     /* padding first */
        "Zm-v",     /* URL-safe alphabet */
        "Zm_v",     /* URL-safe alphabet */
        "Zm9v=",    /* stray padding */
    };
    unsigned char out[16];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = 77;
        cr_assert_eq(pc_base64_decode(bad[i], strlen(bad[i]), out, sizeof out, &n),
                     PINCURL_PIN_BAD_BASE64, "accepted \"%s\"", bad[i]);
        cr_assert_eq(n, 0);
    }
    const char nul[] = {'Z', 'm', '\0', 'v'};
    cr_assert_eq(pc_base64_decode(nul, sizeof nul, out, sizeof out, NULL), PINCURL_PIN_BAD_BASE64);
}

Test(base64, capacity_and_arguments)
{
    unsigned char out[8];
    size_t n = 0;
    memset(out, 0xee, sizeof out);
    cr_assert_eq(pc_base64_decode("Zm9vYmFy", 8, out, 5, &n), PINCURL_BUFFER_TOO_SMALL);
    cr_assert_eq(out[0], 0xee, "nothing is written when the output does not fit");
    cr_assert_eq(n, 6, "the needed length is reported");
    cr_assert_eq(pc_base64_decode("Zm9vYmFy", 8, NULL, 0, &n), PINCURL_OK);
    cr_assert_eq(n, 6);
    cr_assert_eq(pc_base64_decode(NULL, 4, out, sizeof out, &n), PINCURL_INVALID_ARGUMENT);
    /* an invalid input is reported as such even when the buffer is too small */
    cr_assert_eq(pc_base64_decode("Zm9v!mFy", 8, out, 1, &n), PINCURL_PIN_BAD_BASE64);

    char enc[9];
    cr_assert_eq(pc_base64_encode((const unsigned char *)"foobar", 6, enc, 8, &n),
                 PINCURL_BUFFER_TOO_SMALL);
    cr_assert_eq(pc_base64_encode((const unsigned char *)"foobar", 6, enc, 9, &n), PINCURL_OK);
    cr_assert_str_eq(enc, "Zm9vYmFy");
    cr_assert_eq(pc_base64_encode(NULL, 1, enc, sizeof enc, &n), PINCURL_INVALID_ARGUMENT);
}

Test(base64, pem_variant_skips_line_breaks_only)
{
    unsigned char out[16];
    size_t n = 0;
    const char *body = "Zm9v\r\nYmFy\n  \tZm9v\nYg==\r\n";
    cr_assert_eq(pc_base64_decode_pem(body, strlen(body), out, sizeof out, &n), PINCURL_OK);
    cr_assert_eq(n, 10);
    cr_assert(memcmp(out, "foobarfoob", 10) == 0);
    cr_assert_eq(pc_base64_decode_pem("Zm9v\nYm:y\n", 10, out, sizeof out, &n),
                 PINCURL_PEM_MALFORMED);
    cr_assert_eq(pc_base64_decode_pem("Zg==\nZg==\n", 10, out, sizeof out, &n),
                 PINCURL_PEM_MALFORMED);
    cr_assert_eq(pc_base64_decode_pem("Zm9\n", 4, out, sizeof out, &n), PINCURL_PEM_MALFORMED);
}

/* ---- parse and format ------------------------------------------------------------------- */

Test(pin, format_parse_round_trip)
{
    for (unsigned seed = 0; seed < 64; seed++) {
        pincurl_pin pin, back;
        char text[PINCURL_PIN_TEXT_SIZE];
        sample_digest(pin.sha256, sizeof pin.sha256, seed);
        cr_assert_eq(pincurl_pin_format(&pin, text, sizeof text), PINCURL_OK);
        cr_assert_eq(strlen(text), PINCURL_PIN_TEXT_SIZE - 1);
        cr_assert(strncmp(text, "sha256/", 7) == 0);
        cr_assert_eq(text[50], '=');
        cr_assert_eq(parse_str(text, &back), PINCURL_OK, "%s", text);
        cr_assert(memcmp(pin.sha256, back.sha256, sizeof pin.sha256) == 0);
        cr_assert(pincurl_pin_equal(&pin, &back));
    }
}

Test(pin, known_digest)
{
    /* SHA-256 of the empty string, a published vector. */
    static const unsigned char empty_sha256[32] = {
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
    pincurl_pin pin;
    cr_assert_eq(parse_str("sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", &pin), PINCURL_OK);
    cr_assert(memcmp(pin.sha256, empty_sha256, 32) == 0);
    char text[PINCURL_PIN_TEXT_SIZE];
    cr_assert_eq(pincurl_pin_format(&pin, text, sizeof text), PINCURL_OK);
    cr_assert_str_eq(text, "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

Test(pin, curl_double_slash_form)
{
    pincurl_pin a, b;
    char text[PINCURL_PIN_TEXT_SIZE], curl[PINCURL_PIN_TEXT_SIZE + 1];
    sample_digest(a.sha256, 32, 5);
    cr_assert_eq(pincurl_pin_format(&a, text, sizeof text), PINCURL_OK);
    snprintf(curl, sizeof curl, "sha256//%s", text + 7);
    cr_assert_eq(parse_str(curl, &b), PINCURL_OK);
    cr_assert(pincurl_pin_equal(&a, &b));

    /* A digest whose encoding itself starts with '/': both forms still parse. */
    memset(a.sha256, 0xfc, 32);
    cr_assert_eq(pincurl_pin_format(&a, text, sizeof text), PINCURL_OK);
    cr_assert_eq(text[7], '/');
    cr_assert_eq(parse_str(text, &b), PINCURL_OK);
    cr_assert(pincurl_pin_equal(&a, &b));
    snprintf(curl, sizeof curl, "sha256//%s", text + 7);
    cr_assert_eq(strlen(curl), 52);
    cr_assert_eq(parse_str(curl, &b), PINCURL_OK);
    cr_assert(pincurl_pin_equal(&a, &b));
    /* Only one extra slash is curl's form. */
    char three[64];
    sample_digest(a.sha256, 32, 5);
    cr_assert_eq(pincurl_pin_format(&a, text, sizeof text), PINCURL_OK);
    snprintf(three, sizeof three, "sha256///%s", text + 7);
    cr_assert_eq(parse_str(three, &b), PINCURL_PIN_BAD_BASE64);
}

Test(pin, bad_prefix)
{
    pincurl_pin pin, zero;
    char text[PINCURL_PIN_TEXT_SIZE], other[80];
    memset(&zero, 0, sizeof zero);
    sample_digest(pin.sha256, 32, 9);
    cr_assert_eq(pincurl_pin_format(&pin, text, sizeof text), PINCURL_OK);
    const char *b64 = text + 7;

    static const char *prefixes[] = {"sha1/", "SHA256/", "sha-256/", "sha256:", "sha384/",
                                     " sha256/", "", "sha256"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        snprintf(other, sizeof other, "%s%s", prefixes[i], b64);
        memset(&pin, 0xaa, sizeof pin);
        cr_assert_eq(parse_str(other, &pin), PINCURL_PIN_BAD_PREFIX, "accepted %s", other);
        cr_assert(memcmp(&pin, &zero, sizeof pin) == 0, "output cleared on failure");
    }
    cr_assert_eq(pincurl_pin_parse("", 0, &pin), PINCURL_PIN_BAD_PREFIX);
    cr_assert_eq(pincurl_pin_parse(text, 0, &pin), PINCURL_PIN_BAD_PREFIX);
    cr_assert_eq(pincurl_pin_parse(text, 6, &pin), PINCURL_PIN_BAD_PREFIX);
    memcpy(other, text, sizeof text);
    other[3] = '\0'; /* NUL inside the prefix */
    cr_assert_eq(pincurl_pin_parse(other, 51, &pin), PINCURL_PIN_BAD_PREFIX);
}

Test(pin, bad_base64)
{
    pincurl_pin pin;
    char text[PINCURL_PIN_TEXT_SIZE], t[64];
    sample_digest(pin.sha256, 32, 11);
    cr_assert_eq(pincurl_pin_format(&pin, text, sizeof text), PINCURL_OK);
    cr_assert_eq(parse_str(text, &pin), PINCURL_OK);

    static const char bad_chars[] = {'*', '-', '_', ' ', '.', '\n', (char)0xc3, '\0'};
    for (size_t i = 0; i < sizeof bad_chars; i++) {
        memcpy(t, text, sizeof text);
        t[20] = bad_chars[i];
        cr_assert_eq(pincurl_pin_parse(t, 51, &pin), PINCURL_PIN_BAD_BASE64,
                     "accepted byte 0x%02x", (unsigned char)bad_chars[i]);
    }
    /* missing padding */
    cr_assert_eq(pincurl_pin_parse(text, 50, &pin), PINCURL_PIN_BAD_BASE64);
    /* trailing garbage and whitespace */
    snprintf(t, sizeof t, "%s\n", text);
    cr_assert_eq(parse_str(t, &pin), PINCURL_PIN_BAD_BASE64);
    snprintf(t, sizeof t, "%s ", text);
    cr_assert_eq(parse_str(t, &pin), PINCURL_PIN_BAD_BASE64);
    snprintf(t, sizeof t, "%sAAAA", text);
    cr_assert_eq(parse_str(t, &pin), PINCURL_PIN_BAD_BASE64);
    /* leading space after the prefix */
    snprintf(t, sizeof t, "sha256/ %s", text + 7);
    cr_assert_eq(parse_str(t, &pin), PINCURL_PIN_BAD_BASE64);
    /* non-canonical: the last character before '=' carries unused bits */
    cr_assert_eq(parse_str("sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &pin), PINCURL_OK);
    cr_assert_eq(parse_str("sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", &pin),
                 PINCURL_PIN_BAD_BASE64);
    cr_assert_eq(parse_str("sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAD=", &pin),
                 PINCURL_PIN_BAD_BASE64);
    cr_assert_eq(parse_str("sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=", &pin), PINCURL_OK);
}

Test(pin, bad_length)
{
    unsigned char d[40];
    char t[80];
    pincurl_pin pin;
    sample_digest(d, sizeof d, 3);
    size_t lens[] = {0, 1, 16, 30, 31, 33, 34, 40};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        pin_text(d, lens[i], t, sizeof t);
        cr_assert_eq(parse_str(t, &pin), PINCURL_PIN_BAD_LENGTH, "%zu bytes accepted", lens[i]);
    }
    pin_text(d, 31, t, sizeof t);
    cr_assert_eq(strlen(t), 51, "a 31-byte digest also takes 44 characters");
    pin_text(d, 33, t, sizeof t);
    cr_assert_eq(strlen(t), 51, "a 33-byte digest also takes 44 characters");
    pin_text(d, 32, t, sizeof t);
    cr_assert_eq(parse_str(t, &pin), PINCURL_OK);
}

Test(pin, reads_exactly_len_bytes)
{
    char buf[128];
    pincurl_pin a, b;
    sample_digest(a.sha256, 32, 21);
    cr_assert_eq(pincurl_pin_format(&a, buf, sizeof buf), PINCURL_OK);
    memcpy(buf + 51, "garbage, not NUL-terminated", 27);
    cr_assert_eq(pincurl_pin_parse(buf, 51, &b), PINCURL_OK);
    cr_assert(pincurl_pin_equal(&a, &b));
}

Test(pin, null_arguments)
{
    pincurl_pin pin;
    char buf[PINCURL_PIN_TEXT_SIZE];
    cr_assert_eq(pincurl_pin_parse(NULL, 51, &pin), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_pin_parse(NULL, 0, &pin), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_pin_parse("sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 51, NULL),
                 PINCURL_INVALID_ARGUMENT);
    memset(&pin, 0, sizeof pin);
    cr_assert_eq(pincurl_pin_format(NULL, buf, sizeof buf), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_pin_format(&pin, NULL, sizeof buf), PINCURL_INVALID_ARGUMENT);
    cr_assert_eq(pincurl_pin_equal(NULL, &pin), 0);
    cr_assert_eq(pincurl_pin_equal(&pin, NULL), 0);
}

Test(pin, format_buffer_too_small)
{
    pincurl_pin pin;
    char buf[PINCURL_PIN_TEXT_SIZE];
    sample_digest(pin.sha256, 32, 1);
    memset(buf, 'x', sizeof buf);
    cr_assert_eq(pincurl_pin_format(&pin, buf, PINCURL_PIN_TEXT_SIZE - 1), PINCURL_BUFFER_TOO_SMALL);
    cr_assert_eq(buf[0], '\0');
    cr_assert_eq(pincurl_pin_format(&pin, buf, 0), PINCURL_BUFFER_TOO_SMALL);
    cr_assert_eq(pincurl_pin_format(&pin, buf, PINCURL_PIN_TEXT_SIZE), PINCURL_OK);
}

/* ---- comparison ------------------------------------------------------------------------- */

Test(pin, equal_compares_every_byte)
{
    pincurl_pin a, b;
    sample_digest(a.sha256, 32, 42);
    b = a;
    cr_assert_eq(pincurl_pin_equal(&a, &b), 1);
    cr_assert_eq(pincurl_pin_equal(&a, &a), 1);
    b.sha256[0] ^= 0x01;
    cr_assert_eq(pincurl_pin_equal(&a, &b), 0, "differs in the first byte");
    b = a;
    b.sha256[31] ^= 0x80;
    cr_assert_eq(pincurl_pin_equal(&a, &b), 0, "differs in the last byte");
    for (size_t i = 0; i < 32; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            b = a;
            b.sha256[i] ^= (unsigned char)(1u << bit);
            cr_assert_eq(pincurl_pin_equal(&a, &b), 0, "byte %zu bit %u", i, bit);
            cr_assert_eq(pincurl_pin_equal(&b, &a), 0);
        }
    }
    memset(a.sha256, 0, 32);
    memset(b.sha256, 0xff, 32);
    cr_assert_eq(pincurl_pin_equal(&a, &b), 0);
}
