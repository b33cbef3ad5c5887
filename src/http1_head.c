/*
 * http1_head.c: serializing HTTP/1.1 heads for both legs; see http1_head.h.
 *
 * The heads on the request path (te_h1_head_request, te_h1_head_response)
 * are written into one span reserved in the output and committed once:
 * one evbuffer call, and one output callback (te_sock's flush), per head
 * rather than four per field.
 */
#include "http1_head.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core.h"

typedef struct lit {
    const char *s;
    size_t len;
} lit;

#define LIT(s)                                                                 \
    {                                                                          \
        (s), sizeof(s) - 1                                                     \
    }

/* Fields this hop's framing decides, written anew: never copied. */
static const lit request_own[] = {
    LIT("content-length"),
    LIT("expect"),
};

static int name_is(const te_h1_field *f, const char *name, size_t len)
{
    return len == f->name_len && strncasecmp(f->name, name, len) == 0;
}

#define NAME_IS(f, s) name_is((f), (s), sizeof(s) - 1)

/*
 * Whether a client's field goes to the backend: never the framing and
 * hop-by-hop ones (named with '_' for '-' included: Transfer_Encoding),
 * nor what te_request_field_dropped keeps back (first-hop fields,
 * internal headers, module-owned fields, names with '_'). Returns its
 * te_field_fate.
 */
static int request_field_fate(const te_request *r, const te_h1_hop *hop,
                              const te_h1_field *f)
{
    int fate = te_request_field_dropped(r, f->name, f->name_len);

    if (fate != TE_FIELD_KEPT)
        return fate;
    for (size_t i = 0; i < sizeof(request_own) / sizeof(request_own[0]); i++)
        if (te_field_name_eq(f->name, f->name_len, request_own[i].s,
                             request_own[i].len, 1))
            return TE_FIELD_DROPPED;
    if (te_h1_hop_match(hop, f->name, f->name_len))
        return TE_FIELD_DROPPED;
    return TE_FIELD_KEPT;
}

/* ------------------------------------------------------- head buffer -- */

/* A head being written into space reserved at the end of out. */
typedef struct head_buf {
    struct evbuffer *out;
    struct evbuffer_iovec v;
    char *p; /* next byte; NULL when nothing is reserved */
    char *end;
} head_buf;

static void hb_reserve(head_buf *hb, size_t want)
{
    hb->p = hb->end = NULL;
    if (evbuffer_reserve_space(hb->out, (ev_ssize_t)want, &hb->v, 1) == 1) {
        hb->p = hb->v.iov_base;
        hb->end = hb->p + hb->v.iov_len;
    }
}

static void hb_begin(head_buf *hb, struct evbuffer *out, size_t want)
{
    hb->out = out;
    hb_reserve(hb, want);
}

/* What was written goes into the buffer. */
static void hb_commit(head_buf *hb)
{
    if (hb->p == NULL)
        return;
    hb->v.iov_len = (size_t)(hb->p - (char *)hb->v.iov_base);
    evbuffer_commit_space(hb->out, &hb->v, 1);
    hb->p = hb->end = NULL;
}

/* hb_add when the reserved span is full: the estimate given to hb_begin
 * is an upper bound for the heads of this file, so this only runs if
 * one is wrong. */
static void hb_add_slow(head_buf *hb, const void *s, size_t n)
{
    hb_commit(hb);
    hb_reserve(hb, n + 512);
    if (hb->p == NULL) {
        evbuffer_add(hb->out, s, n);
        return;
    }
    memcpy(hb->p, s, n);
    hb->p += n;
}

/* Append n bytes. Inlined: most calls copy a literal of known size. */
static inline void hb_add(head_buf *hb, const void *s, size_t n)
{
    if ((size_t)(hb->end - hb->p) < n) {
        hb_add_slow(hb, s, n);
        return;
    }
    memcpy(hb->p, s, n);
    hb->p += n;
}

#define HB_LIT(hb, s) hb_add((hb), (s), sizeof(s) - 1)

static void hb_uint(head_buf *hb, uint64_t n)
{
    char buf[20];
    size_t i = sizeof(buf);

    do {
        buf[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n != 0);
    hb_add(hb, buf + i, sizeof(buf) - i);
}

static void hb_field(head_buf *hb, const char *name, size_t nlen,
                     const char *value, size_t vlen)
{
    hb_add(hb, name, nlen);
    HB_LIT(hb, ": ");
    hb_add(hb, value, vlen);
    HB_LIT(hb, "\r\n");
}

/* Fields modules added (checked by the module API: tokens, no CR/LF). */
static void hb_fields(head_buf *hb, const te_field_add *f)
{
    for (; f != NULL; f = f->next)
        hb_field(hb, f->name, f->name_len, f->value, f->value_len);
}

/* Room the added fields take: name, ": ", value, CRLF. */
static size_t fields_size(const te_h1_field *f, unsigned n,
                          const te_field_add *add)
{
    size_t size = 0;

    for (unsigned i = 0; i < n; i++)
        size += f[i].name_len + f[i].value_len + 4;
    for (; add != NULL; add = add->next)
        size += add->name_len + add->value_len + 4;
    return size;
}

/* ------------------------------------------------------------ heads -- */

void te_h1_head_request(struct evbuffer *out, const te_request *r)
{
    size_t addr_len = strlen(r->client_addr);
    const te_h1_field *underscored = NULL;
    unsigned nunderscored = 0;
    int has_host = 0;
    te_h1_hop hop;
    head_buf hb;

    /* the fixed fields below take less than 200 bytes besides these */
    hb_begin(&hb, out,
             256 + r->method_len + r->path_len + 2 * r->host_len + addr_len +
                 r->id_len + fields_size(r->fields, r->nfields, r->up_add));
    te_h1_hop_init(&hop, r->fields, r->nfields, 1);

    hb_add(&hb, r->method, r->method_len);
    HB_LIT(&hb, " ");
    hb_add(&hb, r->path, r->path_len);
    HB_LIT(&hb, " HTTP/1.1\r\n");

    for (unsigned i = 0; i < r->nfields; i++) {
        const te_h1_field *f = &r->fields[i];
        int fate = request_field_fate(r, &hop, f);

        if (fate == TE_FIELD_KEPT)
            hb_field(&hb, f->name, f->name_len, f->value, f->value_len);
        if (fate == TE_FIELD_UNDERSCORE && nunderscored++ == 0)
            underscored = f;
        has_host |= NAME_IS(f, "host");
    }

    /* One line per request, at debug: such fields are no error, and a
     * client sending them on every request must not flood the log. */
    if (underscored != NULL)
        te_request_log(r, TE_MLOG_DEBUG,
                       "dropped %u client field(s) with \"_\" in the name, "
                       "first \"%.*s\" (underscores_in_headers off)",
                       nunderscored, (int)TE_MIN(underscored->name_len, 64),
                       underscored->name);

    /* An HTTP/1.0 absolute-form request may name its host only there;
     * HTTP/1.1 toward the backend needs the field (RFC 9112 3.2). */
    if (!has_host && r->host != NULL)
        hb_field(&hb, "Host", 4, r->host, r->host_len);

    HB_LIT(&hb, "X-Forwarded-For: ");
    hb_add(&hb, r->client_addr, addr_len);
    if (r->https)
        HB_LIT(&hb, "\r\nX-Forwarded-Proto: https\r\n");
    else
        HB_LIT(&hb, "\r\nX-Forwarded-Proto: http\r\n");
    if (r->host != NULL)
        hb_field(&hb, "X-Forwarded-Host", 16, r->host, r->host_len);
    hb_field(&hb, "X-Request-Id", 12, r->id, r->id_len);
    hb_fields(&hb, r->up_add);

    if (r->chunked) {
        HB_LIT(&hb, "Transfer-Encoding: chunked\r\n");
    } else if (r->has_content_length) {
        HB_LIT(&hb, "Content-Length: ");
        hb_uint(&hb, r->content_length);
        HB_LIT(&hb, "\r\n");
    }
    HB_LIT(&hb, "\r\n");
    hb_commit(&hb);
}

size_t te_h1_head_response(struct evbuffer *out, const te_h1_response *res,
                           const te_request *r, unsigned flags)
{
    size_t before = evbuffer_get_length(out);
    char status[4];
    te_h1_hop hop;
    head_buf hb;

    /* the fixed fields below take less than 100 bytes besides these */
    hb_begin(&hb, out,
             128 + res->reason_len + r->id_len +
                 fields_size(res->fields, res->nfields, r->resp_add));

    /* the parser allows 100 to 599 only */
    status[0] = (char)('0' + res->status / 100 % 10);
    status[1] = (char)('0' + res->status / 10 % 10);
    status[2] = (char)('0' + res->status % 10);
    status[3] = ' ';
    HB_LIT(&hb, "HTTP/1.1 ");
    hb_add(&hb, status, sizeof(status));
    hb_add(&hb, res->reason, res->reason_len);
    HB_LIT(&hb, "\r\n");

    /* Content-Length passes as sent: the parser checked it, and on HEAD
     * and 304 it describes a body that is not there. */
    te_h1_hop_init(&hop, res->fields, res->nfields, 0);
    for (unsigned i = 0; i < res->nfields; i++) {
        const te_h1_field *f = &res->fields[i];

        if (NAME_IS(f, "x-request-id") ||
            te_h1_hop_match(&hop, f->name, f->name_len))
            continue;
        hb_field(&hb, f->name, f->name_len, f->value, f->value_len);
    }

    hb_field(&hb, "X-Request-Id", 12, r->id, r->id_len);
    hb_fields(&hb, r->resp_add);
    if (flags & TE_H1_HEAD_CHUNKED)
        HB_LIT(&hb, "Transfer-Encoding: chunked\r\n");
    if (flags & TE_H1_HEAD_CLOSE)
        HB_LIT(&hb, "Connection: close\r\n");
    else if (flags & TE_H1_HEAD_KEEP_ALIVE)
        HB_LIT(&hb, "Connection: keep-alive\r\n");
    HB_LIT(&hb, "\r\n");
    hb_commit(&hb);

    return evbuffer_get_length(out) - before;
}

struct status_text {
    int status;
    const char *reason;
    const char *error;
};

static const struct status_text statuses[] = {
    {400, "Bad Request", "bad request"},
    {401, "Unauthorized", "unauthorized"},
    {403, "Forbidden", "forbidden"},
    {404, "Not Found", "unknown site"},
    {408, "Request Timeout", "request timeout"},
    {413, "Content Too Large", "request body too large"},
    {414, "URI Too Long", "request line too long"},
    {417, "Expectation Failed", "unsupported expectation"},
    {429, "Too Many Requests", "too many requests"},
    {431, "Request Header Fields Too Large", "request header too large"},
    {500, "Internal Server Error", "internal error"},
    {501, "Not Implemented", "not implemented"},
    {502, "Bad Gateway", "bad gateway"},
    {503, "Service Unavailable", "service unavailable"},
    {504, "Gateway Timeout", "gateway timeout"},
    {505, "HTTP Version Not Supported", "http version not supported"},
};

static const struct status_text *status_find(int status)
{
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        if (statuses[i].status == status)
            return &statuses[i];
    return NULL;
}

const char *te_h1_reason(int status)
{
    const struct status_text *st = status_find(status);

    return st != NULL ? st->reason : "Error";
}

size_t te_error_json(int status, const char *id, char *out, size_t cap)
{
    const struct status_text *st = status_find(status);
    const char *error = st != NULL ? st->error : "error";
    int n;

    /* id is [A-Za-z0-9._:-] only (te_request_id_valid): no escaping. */
    n = snprintf(out, cap, "{\"error\":\"%s\",\"request_id\":\"%s\"}\n",
                 error, id);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

size_t te_h1_write_error(struct evbuffer *out, int status, const char *id,
                         const char *hsts)
{
    size_t before = evbuffer_get_length(out);
    char body[TE_ERROR_JSON_MAX];
    size_t n = te_error_json(status, id, body, sizeof(body));

    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: %zu\r\n"
                        "X-Request-Id: %s\r\n",
                        status, te_h1_reason(status), n, id);
    if (hsts != NULL)
        evbuffer_add_printf(out, "Strict-Transport-Security: %s\r\n", hsts);
    evbuffer_add(out, "Connection: close\r\n\r\n", 21);
    evbuffer_add(out, body, n);
    return evbuffer_get_length(out) - before;
}

/* RFC 9110 6.4.1: no content in 204 and 304 answers. The status comes
 * from te_respond, which keeps it to 100..599. */
size_t te_h1_write_answer(struct evbuffer *out, const te_request *r,
                          unsigned flags, int head_only)
{
    size_t before = evbuffer_get_length(out);
    int status = r->answer_status;
    int bodyless = status == 204 || status == 304;
    const char *reason = te_h1_reason(status);
    size_t type_len = r->answer_type != NULL ? strlen(r->answer_type) : 0;
    head_buf hb;

    hb_begin(&hb, out,
             192 + strlen(reason) + type_len + r->id_len +
                 fields_size(NULL, 0, r->resp_add));

    HB_LIT(&hb, "HTTP/1.1 ");
    hb_uint(&hb, (uint64_t)status);
    HB_LIT(&hb, " ");
    hb_add(&hb, reason, strlen(reason));
    HB_LIT(&hb, "\r\n");
    if (r->answer_type != NULL)
        hb_field(&hb, "Content-Type", 12, r->answer_type, type_len);
    if (!bodyless) {
        HB_LIT(&hb, "Content-Length: ");
        hb_uint(&hb, r->answer_len);
        HB_LIT(&hb, "\r\n");
    }
    hb_field(&hb, "X-Request-Id", 12, r->id, r->id_len);
    hb_fields(&hb, r->resp_add);
    if (flags & TE_H1_HEAD_CLOSE)
        HB_LIT(&hb, "Connection: close\r\n");
    else if (flags & TE_H1_HEAD_KEEP_ALIVE)
        HB_LIT(&hb, "Connection: keep-alive\r\n");
    HB_LIT(&hb, "\r\n");
    hb_commit(&hb);

    /* the body goes on its own: it may be large */
    if (!head_only && !bodyless)
        evbuffer_add(out, r->answer_body, r->answer_len);
    return evbuffer_get_length(out) - before;
}
