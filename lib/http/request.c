/* Requests: method, URL, headers and body, all owned copies. */
#include "http/http.h"

#include <stdlib.h>
#include <string.h>

static char *copy_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d != NULL)
        memcpy(d, s, n + 1);
    return d;
}

/* RFC 9110 token characters. */
static int is_token(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
            continue;
        if (strchr("!#$%&'*+-.^_`|~", ch) == NULL)
            return 0;
    }
    return 1;
}

pincurl_request *pincurl_request_new(const char *method, const char *url)
{
    pincurl_request *r;

    if (method == NULL || url == NULL || !is_token(method))
        return NULL;
    for (const char *p = url; *p != '\0'; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return NULL;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->method = copy_str(method);
    r->url = copy_str(url);
    r->read_length = -1;
    if (r->method == NULL || r->url == NULL) {
        pincurl_request_free(r);
        return NULL;
    }
    return r;
}

void pincurl_request_free(pincurl_request *r)
{
    if (r == NULL)
        return;
    free(r->method);
    free(r->url);
    for (size_t i = 0; i < r->header_count; i++)
        free(r->headers[i]);
    free(r->headers);
    free(r->body);
    free(r->output_file);
    free(r);
}

pincurl_status pincurl_request_add_header(pincurl_request *r, const char *line)
{
    const char *colon;
    char **grown;
    char *copy;

    if (r == NULL || line == NULL)
        return PINCURL_INVALID_ARGUMENT;
    colon = strchr(line, ':');
    if (colon == NULL || colon == line || strpbrk(line, "\r\n") != NULL)
        return PINCURL_INVALID_ARGUMENT;
    for (const char *p = line; p < colon; p++) {
        char name[2] = {*p, '\0'};
        if (!is_token(name))
            return PINCURL_INVALID_ARGUMENT;
    }
    if (r->header_count >= 1024)
        return PINCURL_LIMIT_EXCEEDED;
    copy = copy_str(line);
    if (copy == NULL)
        return PINCURL_OUT_OF_MEMORY;
    grown = realloc(r->headers, (r->header_count + 1) * sizeof(char *));
    if (grown == NULL) {
        free(copy);
        return PINCURL_OUT_OF_MEMORY;
    }
    r->headers = grown;
    r->headers[r->header_count++] = copy;
    return PINCURL_OK;
}

pincurl_status pincurl_request_set_body(pincurl_request *r, const void *data, size_t len)
{
    unsigned char *copy = NULL;

    if (r == NULL || (data == NULL && len > 0))
        return PINCURL_INVALID_ARGUMENT;
    if (len > 0) {
        copy = malloc(len);
        if (copy == NULL)
            return PINCURL_OUT_OF_MEMORY;
        memcpy(copy, data, len);
    }
    free(r->body);
    r->body = copy;
    r->body_len = len;
    r->has_body = 1;
    r->read_cb = NULL;
    r->read_user = NULL;
    r->read_length = -1;
    return PINCURL_OK;
}

pincurl_status pincurl_request_set_body_callback(pincurl_request *r, pincurl_read_cb cb,
                                                 void *user, int64_t length)
{
    if (r == NULL || cb == NULL || length < -1)
        return PINCURL_INVALID_ARGUMENT;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    r->has_body = 1;
    r->read_cb = cb;
    r->read_user = user;
    r->read_length = length;
    return PINCURL_OK;
}

pincurl_status pincurl_request_set_write_callback(pincurl_request *r, pincurl_write_cb cb,
                                                  void *user)
{
    if (r == NULL)
        return PINCURL_INVALID_ARGUMENT;
    r->write_cb = cb;
    r->write_user = user;
    if (cb != NULL) {
        free(r->output_file);
        r->output_file = NULL;
    }
    return PINCURL_OK;
}

pincurl_status pincurl_request_set_output_file(pincurl_request *r, const char *path)
{
    char *copy = NULL;

    if (r == NULL || (path != NULL && path[0] == '\0'))
        return PINCURL_INVALID_ARGUMENT;
    if (path != NULL) {
        copy = copy_str(path);
        if (copy == NULL)
            return PINCURL_OUT_OF_MEMORY;
        r->write_cb = NULL;
        r->write_user = NULL;
    }
    free(r->output_file);
    r->output_file = copy;
    return PINCURL_OK;
}
