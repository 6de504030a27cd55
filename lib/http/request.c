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
    /* The URL is checked (and its host normalised) once; a call of a request whose URL
     * cannot be used fails before anything connects. */
    r->url_status = pc_url_target(r->url, r->url_scheme, r->url_host, &r->url_port);
    if (r->url_status == PINCURL_OUT_OF_MEMORY) {
        pincurl_request_free(r);
        return NULL;
    }
    return r;
}

static void clear_form(pincurl_request *r)
{
    for (size_t i = 0; i < r->form_count; i++) {
        pc_form_part *p = &r->form[i];
        free(p->name);
        free(p->data);
        free(p->path);
        free(p->filename);
        free(p->content_type);
    }
    free(r->form);
    r->form = NULL;
    r->form_count = 0;
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
    clear_form(r);
    free(r->user);
    free(r->password);
    free(r->referer);
    free(r->cookie);
    free(r->accept_encoding);
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
    clear_form(r);
    r->body = copy;
    r->body_len = len;
    r->has_body = 1;
    r->upload = 0;
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
    clear_form(r);
    r->body = NULL;
    r->body_len = 0;
    r->has_body = 1;
    r->upload = 0;
    r->read_cb = cb;
    r->read_user = user;
    r->read_length = length;
    return PINCURL_OK;
}

pincurl_status pincurl_request_set_upload(pincurl_request *r, pincurl_read_cb cb, void *user,
                                          int64_t length)
{
    pincurl_status st = pincurl_request_set_body_callback(r, cb, user, length);
    if (st == PINCURL_OK) {
        r->has_body = 0;
        r->upload = 1;
    }
    return st;
}

pincurl_status pincurl_request_set_header_callback(pincurl_request *r, pincurl_write_cb cb,
                                                   void *user)
{
    if (r == NULL)
        return PINCURL_INVALID_ARGUMENT;
    r->header_cb = cb;
    r->header_user = cb != NULL ? user : NULL;
    return PINCURL_OK;
}

/* Replaces *slot with a copy of value (NULL clears); CR and LF refused. */
static pincurl_status set_text(char **slot, const char *value)
{
    char *copy = NULL;
    if (value != NULL) {
        if (strpbrk(value, "\r\n") != NULL)
            return PINCURL_INVALID_ARGUMENT;
        if ((copy = copy_str(value)) == NULL)
            return PINCURL_OUT_OF_MEMORY;
    }
    free(*slot);
    *slot = copy;
    return PINCURL_OK;
}

/* Appends a part; data (len bytes, copied) or path. */
static pincurl_status add_part(pincurl_request *r, const char *name, const void *data, size_t len,
                               const char *path, const char *filename, const char *content_type)
{
    pc_form_part part, *grown;

    if (r == NULL || name == NULL || name[0] == '\0' || (data == NULL && len > 0 && !path) ||
        strpbrk(name, "\r\n") != NULL ||
        (filename != NULL && strpbrk(filename, "\r\n") != NULL) ||
        (content_type != NULL && strpbrk(content_type, "\r\n") != NULL))
        return PINCURL_INVALID_ARGUMENT;
    if (r->form_count >= 1024)
        return PINCURL_LIMIT_EXCEEDED;
    memset(&part, 0, sizeof(part));
    part.name = copy_str(name);
    part.has_filename = filename != NULL;
    if (filename != NULL)
        part.filename = copy_str(filename);
    if (content_type != NULL)
        part.content_type = copy_str(content_type);
    if (path != NULL) {
        part.path = copy_str(path);
    } else {
        part.data = malloc(len > 0 ? len : 1);
        if (part.data != NULL && len > 0)
            memcpy(part.data, data, len);
        part.len = len;
    }
    grown = realloc(r->form, (r->form_count + 1) * sizeof(*grown));
    if (part.name == NULL || (filename != NULL && part.filename == NULL) ||
        (content_type != NULL && part.content_type == NULL) ||
        (path != NULL ? part.path == NULL : part.data == NULL) || grown == NULL) {
        if (grown != NULL)
            r->form = grown;
        free(part.name);
        free(part.filename);
        free(part.content_type);
        free(part.path);
        free(part.data);
        return PINCURL_OUT_OF_MEMORY;
    }
    r->form = grown;
    r->form[r->form_count++] = part;
    /* a form replaces any other body */
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    r->has_body = 0;
    r->upload = 0;
    r->read_cb = NULL;
    r->read_user = NULL;
    r->read_length = -1;
    return PINCURL_OK;
}

pincurl_status pincurl_request_add_form_data(pincurl_request *r, const char *name,
                                             const void *data, size_t len,
                                             const char *filename, const char *content_type)
{
    if (data == NULL && len > 0)
        return PINCURL_INVALID_ARGUMENT;
    return add_part(r, name, data != NULL ? data : "", len, NULL, filename, content_type);
}

pincurl_status pincurl_request_add_form_file(pincurl_request *r, const char *name,
                                             const char *path, const char *filename,
                                             const char *content_type)
{
    if (path == NULL || path[0] == '\0')
        return PINCURL_INVALID_ARGUMENT;
    return add_part(r, name, NULL, 0, path, filename, content_type);
}

pincurl_status pincurl_request_set_credentials(pincurl_request *r, const char *user,
                                               const char *password)
{
    char *u = NULL, *p = NULL;
    pincurl_status st;

    if (r == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (user != NULL) {
        if ((st = set_text(&u, user)) != PINCURL_OK)
            return st;
        if ((st = set_text(&p, password != NULL ? password : "")) != PINCURL_OK) {
            free(u);
            return st;
        }
    }
    free(r->user);
    free(r->password);
    r->user = u;
    r->password = p;
    return PINCURL_OK;
}

pincurl_status pincurl_request_set_referer(pincurl_request *r, const char *referer,
                                           int automatic)
{
    pincurl_status st;
    if (r == NULL || (automatic != 0 && automatic != 1))
        return PINCURL_INVALID_ARGUMENT;
    if ((st = set_text(&r->referer, referer)) != PINCURL_OK)
        return st;
    r->auto_referer = automatic;
    return PINCURL_OK;
}

pincurl_status pincurl_request_set_cookie(pincurl_request *r, const char *cookie)
{
    if (r == NULL)
        return PINCURL_INVALID_ARGUMENT;
    return set_text(&r->cookie, cookie);
}

pincurl_status pincurl_request_set_accept_encoding(pincurl_request *r, const char *encodings)
{
    if (r == NULL)
        return PINCURL_INVALID_ARGUMENT;
    if (encodings != NULL && encodings[0] == '\0' &&
        !(pincurl_http_features() &
          (PINCURL_FEATURE_GZIP | PINCURL_FEATURE_BROTLI | PINCURL_FEATURE_ZSTD)))
        return PINCURL_UNSUPPORTED;
    return set_text(&r->accept_encoding, encodings);
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
