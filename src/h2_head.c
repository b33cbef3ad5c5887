/*
 * h2_head.c: heads between HTTP/2 and the edge's HTTP/1.1 model; see
 * h2_head.h.
 *
 * Checking a request reuses the HTTP/1.1 parser rather than a second
 * copy of its rules: the method, :path and authority are written as a
 * request line and a Host field and parsed. A rule tightened there
 * (a new dot-segment spelling, a port check) then holds for both
 * protocols at once, and the two can never disagree about what
 * reaches a backend.
 */
#include "h2_head.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "core.h"
#include "http1_head.h"

/* The fixed part of the request line and Host line built for the check:
 * " HTTP/1.1\r\nHost: " and "\r\n\r\n". */
#define CHECK_FIXED (sizeof(" HTTP/1.1\r\nHost: ") - 1 + 4)

static int is(const char *name, size_t len, const char *lit, size_t litlen)
{
    return len == litlen && memcmp(name, lit, len) == 0;
}

#define IS(name, len, lit) is((name), (len), (lit), sizeof(lit) - 1)

void te_h2_head_init(te_h2_head *h, te_h1_field *fields, unsigned cap,
                     size_t max_size)
{
    memset(h, 0, sizeof(*h));
    h->fields = fields;
    h->cap = cap;
    h->max_size = max_size;
    h->cookie_tail = &h->cookies;
}

static void fail(te_h2_head *h, int status)
{
    if (h->status == 0)
        h->status = status;
}

/* RFC 9113 8.3.1: the four request pseudo-fields. nghttp2 refuses
 * unknown ones, repeats and any after a regular field; :scheme is
 * checked there for its characters and not used here. */
static void add_pseudo(te_h2_head *h, const char *name, size_t nlen,
                       const char *v, size_t vlen)
{
    if (IS(name, nlen, ":method")) {
        h->method = v;
        h->method_len = vlen;
    } else if (IS(name, nlen, ":path")) {
        h->path = v;
        h->path_len = vlen;
    } else if (IS(name, nlen, ":authority")) {
        h->authority = v;
        h->authority_len = vlen;
    } else if (!IS(name, nlen, ":scheme")) {
        fail(h, 400);
    }
}

/* Digits only (nghttp2 checked them too), no overflow. */
static int parse_length(const char *v, size_t n, uint64_t *out)
{
    uint64_t x = 0;

    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || x > (UINT64_MAX - 9) / 10)
            return -1;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return 0;
}

static int add_cookie(te_h2_head *h, te_arena *a, const char *v, size_t vlen)
{
    te_h2_crumb *c;

    if (vlen == 0)
        return 0;
    c = te_arena_alloc(a, sizeof(*c));
    if (c == NULL)
        return -1;
    c->s = v;
    c->len = vlen;
    *h->cookie_tail = c;
    h->cookie_tail = &c->next;
    /* bounded by the list budget: no overflow */
    h->cookie_len += (h->cookies == c ? 0 : 2) + vlen;
    return 0;
}

int te_h2_head_add(te_h2_head *h, te_arena *a, const char *name, size_t nlen,
                   const char *value, size_t vlen)
{
    size_t fsize;
    char *n, *v;

    if (h->status != 0)
        return 0; /* refused already: nothing more is kept */

    /* RFC 9113 6.5.2: the list size we advertise; nghttp2 does not
     * enforce it, so count it here. */
    if (!te_size_add(nlen, vlen, &fsize) ||
        !te_size_add(fsize, TE_H2_FIELD_OVERHEAD, &fsize) ||
        !te_size_add(h->size, fsize, &h->size) || h->size > h->max_size) {
        fail(h, 431);
        return 0;
    }

    n = te_arena_alloc(a, nlen + vlen + 2);
    if (n == NULL)
        return -1;
    memcpy(n, name, nlen);
    v = n + nlen + 1;
    memcpy(v, value, vlen);

    if (nlen > 0 && name[0] == ':') {
        add_pseudo(h, n, nlen, v, vlen);
        return 0;
    }
    if (IS(n, nlen, "cookie"))
        return add_cookie(h, a, v, vlen);
    if (IS(n, nlen, "host")) {
        /* it stands in for a missing :authority and is checked against
         * one that is there; either way Host is written from r->host */
        if (h->has_host)
            fail(h, 400);
        h->host = v;
        h->host_len = vlen;
        h->has_host = 1;
        return 0;
    }
    if (IS(n, nlen, "content-length")) {
        if (parse_length(v, vlen, &h->content_length) < 0)
            fail(h, 400);
        h->has_content_length = 1;
    }

    if (h->nfields >= h->cap) {
        fail(h, 431);
        return 0;
    }
    h->fields[h->nfields].name = n;
    h->fields[h->nfields].name_len = nlen;
    h->fields[h->nfields].value = v;
    h->fields[h->nfields].value_len = vlen;
    h->nfields++;
    return 0;
}

/*
 * The method, path and authority as an HTTP/1.1 request line and Host,
 * through the HTTP/1.1 parser (see the top of the file). 0 with
 * *method_id set, or the parser's status (400, 414, 501).
 */
static int check_as_h1(const te_h2_head *h, te_arena *a, const char *auth,
                       size_t alen, size_t max_line, int *method_id)
{
    te_h1_request req;
    te_h1_limits lim;
    te_h1_field host;
    te_h1_scan scan;
    size_t len;
    char *buf, *p;
    int rc;

    if (!te_size_add(h->method_len, h->path_len, &len) ||
        !te_size_add(len, alen, &len) ||
        !te_size_add(len, CHECK_FIXED + 1, &len))
        return 400;
    buf = te_arena_alloc(a, len);
    if (buf == NULL)
        return 503;

    p = buf;
    memcpy(p, h->method, h->method_len);
    p += h->method_len;
    *p++ = ' ';
    memcpy(p, h->path, h->path_len);
    p += h->path_len;
    memcpy(p, " HTTP/1.1\r\nHost: ", 17);
    p += 17;
    memcpy(p, auth, alen);
    p += alen;
    memcpy(p, "\r\n\r\n", 4);
    p += 4;
    len = (size_t)(p - buf);

    lim.max_request_line = max_line;
    lim.max_head = len + 1;
    lim.max_fields = 1; /* Host only: anything else is no authority */
    te_h1_scan_reset(&scan);
    rc = te_h1_parse_request(&scan, buf, len, &lim, &req, &host, 1);
    if (rc < 0)
        return -rc;
    if ((size_t)rc != len)
        return 400;
    *method_id = req.method_id;
    return 0;
}

/* RFC 9113 8.2.3: the cookie crumbs as one field, joined with "; ". */
static int join_cookies(te_h2_head *h, te_arena *a)
{
    te_h1_field *f;
    char *v, *p;

    if (h->cookies == NULL)
        return 0;
    if (h->nfields >= h->cap)
        return 431;
    v = te_arena_alloc(a, h->cookie_len + 1);
    if (v == NULL)
        return 503;
    p = v;
    for (te_h2_crumb *c = h->cookies; c != NULL; c = c->next) {
        if (p != v) {
            memcpy(p, "; ", 2);
            p += 2;
        }
        memcpy(p, c->s, c->len);
        p += c->len;
    }

    f = &h->fields[h->nfields++];
    f->name = "cookie";
    f->name_len = 6;
    f->value = v;
    f->value_len = (size_t)(p - v);
    return 0;
}

int te_h2_head_finish(te_h2_head *h, te_arena *a, size_t max_line,
                      te_request *r)
{
    const char *auth = h->authority;
    size_t alen = h->authority_len;
    int method_id = TE_H1_OTHER;
    int rc;

    if (h->status != 0)
        return h->status;
    if (h->method == NULL)
        return 400;
    /* RFC 9110 9.3.6: a tunnel, which the edge does not offer (as for
     * HTTP/1.1); nghttp2 lets a CONNECT without :path through */
    if (IS(h->method, h->method_len, "CONNECT"))
        return 501;
    if (h->path == NULL)
        return 400;

    /* RFC 9113 8.3.1: a host field must name what :authority names;
     * without :authority it stands in. Routing goes by this host. */
    if (auth == NULL) {
        auth = h->host;
        alen = h->host_len;
    } else if (h->has_host &&
               (alen != h->host_len || strncasecmp(auth, h->host, alen) != 0)) {
        return 400;
    }
    if (auth == NULL)
        return 400;

    rc = check_as_h1(h, a, auth, alen, max_line, &method_id);
    if (rc == 0)
        rc = join_cookies(h, a);
    if (rc != 0)
        return rc;

    r->method = h->method;
    r->method_len = h->method_len;
    r->method_id = method_id;
    r->path = h->path;
    r->path_len = h->path_len;
    r->host = auth;
    r->host_len = alen;
    r->fields = h->fields;
    r->nfields = h->nfields;
    r->content_length = h->content_length;
    r->has_content_length = h->has_content_length;
    return 0;
}

/* ---------------------------------------------------------- response -- */

static void nv_set(nghttp2_nv *nv, const char *name, size_t nlen,
                   const char *value, size_t vlen)
{
    nv->name = (uint8_t *)(uintptr_t)name;
    nv->namelen = nlen;
    nv->value = (uint8_t *)(uintptr_t)value;
    nv->valuelen = vlen;
    nv->flags = NGHTTP2_NV_FLAG_NONE;
}

#define NV_LIT(nv, name, value, vlen)                                          \
    nv_set((nv), (name), sizeof(name) - 1, (value), (vlen))

/* RFC 9113 8.2: names are lower case on the wire; a copy in a. */
static const char *lower(te_arena *a, const char *s, size_t n)
{
    char *d = te_arena_alloc(a, n + 1);

    if (d == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        d[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    return d;
}

/* Room for fixed entries plus one per added field. */
static nghttp2_nv *nv_alloc(te_arena *a, size_t fixed, const te_field_add *f)
{
    size_t count = fixed, size;

    for (; f != NULL; f = f->next)
        count++;
    if (!te_size_mul(count, sizeof(nghttp2_nv), &size))
        return NULL;
    return te_arena_alloc(a, size);
}

/* The fields modules added, then HSTS; i is the next free entry. */
static size_t nv_tail(te_arena *a, nghttp2_nv *nv, size_t i,
                      const te_field_add *f, const char *hsts)
{
    for (; f != NULL; f = f->next) {
        const char *name = lower(a, f->name, f->name_len);

        if (name == NULL)
            return 0;
        nv_set(&nv[i++], name, f->name_len, f->value, f->value_len);
    }
    if (hsts != NULL)
        NV_LIT(&nv[i++], "strict-transport-security", hsts, strlen(hsts));
    return i;
}

static const char *status_text(te_arena *a, int status)
{
    char *s = te_arena_alloc(a, 4);

    if (s == NULL)
        return NULL;
    s[0] = (char)('0' + status / 100 % 10);
    s[1] = (char)('0' + status / 10 % 10);
    s[2] = (char)('0' + status % 10);
    return s;
}

nghttp2_nv *te_h2_response_nv(te_arena *a, const te_h1_response *res,
                              const te_request *r, const char *hsts, size_t *n)
{
    nghttp2_nv *nv;
    const char *status;
    te_h1_hop hop;
    size_t i = 0;

    nv = nv_alloc(a, (size_t)res->nfields + 3, r->resp_add);
    status = status_text(a, res->status);
    if (nv == NULL || status == NULL)
        return NULL;
    NV_LIT(&nv[i++], ":status", status, 3);

    te_h1_hop_init(&hop, res->fields, res->nfields, 0);
    for (unsigned k = 0; k < res->nfields; k++) {
        const te_h1_field *f = &res->fields[k];
        const char *name;

        if (te_field_name_eq(f->name, f->name_len, "x-request-id", 12, 0) ||
            te_h1_hop_match(&hop, f->name, f->name_len))
            continue;
        name = lower(a, f->name, f->name_len);
        if (name == NULL)
            return NULL;
        nv_set(&nv[i++], name, f->name_len, f->value, f->value_len);
    }

    NV_LIT(&nv[i++], "x-request-id", r->id, r->id_len);
    i = nv_tail(a, nv, i, r->resp_add, hsts);
    *n = i;
    return i != 0 ? nv : NULL;
}

nghttp2_nv *te_h2_answer_nv(te_arena *a, const te_request *r, int status,
                            const char *type, size_t body_len, int added,
                            const char *hsts, size_t *n)
{
    const te_field_add *add = added ? r->resp_add : NULL;
    const char *st;
    nghttp2_nv *nv;
    char *len;
    size_t i = 0;
    int k;

    nv = nv_alloc(a, 5, add);
    st = status_text(a, status);
    len = te_arena_alloc(a, 24);
    if (nv == NULL || st == NULL || len == NULL)
        return NULL;

    NV_LIT(&nv[i++], ":status", st, 3);
    if (type != NULL)
        NV_LIT(&nv[i++], "content-type", type, strlen(type));
    if (status != 204 && status != 304) {
        k = snprintf(len, 24, "%zu", body_len);
        NV_LIT(&nv[i++], "content-length", len, (size_t)k);
    }
    NV_LIT(&nv[i++], "x-request-id", r->id, r->id_len);
    i = nv_tail(a, nv, i, add, hsts);
    *n = i;
    return i != 0 ? nv : NULL;
}
