/*
 * http1_head.c: serializing HTTP/1.1 heads for both legs; see http1_head.h.
 */
#include "http1_head.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core.h"

/* Fields this hop's framing decides, written anew: never copied. */
static const char *const request_own[] = {
    "content-length",
    "expect",
};

static int name_is(const te_h1_field *f, const char *name)
{
    return strlen(name) == f->name_len &&
           strncasecmp(f->name, name, f->name_len) == 0;
}

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
        if (te_field_name_eq(f->name, f->name_len, request_own[i],
                             strlen(request_own[i]), 1))
            return TE_FIELD_DROPPED;
    if (te_h1_hop_match(hop, f->name, f->name_len))
        return TE_FIELD_DROPPED;
    return TE_FIELD_KEPT;
}

static void add_field(struct evbuffer *out, const char *name, size_t nlen,
                      const char *value, size_t vlen)
{
    evbuffer_add(out, name, nlen);
    evbuffer_add(out, ": ", 2);
    evbuffer_add(out, value, vlen);
    evbuffer_add(out, "\r\n", 2);
}

/* Fields modules added (checked by the module API: tokens, no CR/LF). */
static void add_fields(struct evbuffer *out, const te_field_add *f)
{
    for (; f != NULL; f = f->next)
        add_field(out, f->name, f->name_len, f->value, f->value_len);
}

#define ADD_LIT(out, s) evbuffer_add((out), (s), sizeof(s) - 1)

void te_h1_head_request(struct evbuffer *out, const te_request *r)
{
    size_t estimate = 256 + r->method_len + r->path_len + 3 * r->host_len;
    const te_h1_field *underscored = NULL;
    unsigned nunderscored = 0;
    int has_host = 0;
    te_h1_hop hop;

    for (unsigned i = 0; i < r->nfields; i++)
        estimate += r->fields[i].name_len + r->fields[i].value_len + 4;
    evbuffer_expand(out, estimate);
    te_h1_hop_init(&hop, r->fields, r->nfields, 1);

    evbuffer_add(out, r->method, r->method_len);
    evbuffer_add(out, " ", 1);
    evbuffer_add(out, r->path, r->path_len);
    ADD_LIT(out, " HTTP/1.1\r\n");

    for (unsigned i = 0; i < r->nfields; i++) {
        const te_h1_field *f = &r->fields[i];
        int fate = request_field_fate(r, &hop, f);

        if (fate == TE_FIELD_KEPT)
            add_field(out, f->name, f->name_len, f->value, f->value_len);
        if (fate == TE_FIELD_UNDERSCORE && nunderscored++ == 0)
            underscored = f;
        has_host |= name_is(f, "host");
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
        add_field(out, "Host", 4, r->host, r->host_len);

    ADD_LIT(out, "X-Forwarded-For: ");
    evbuffer_add(out, r->client_addr, strlen(r->client_addr));
    ADD_LIT(out, "\r\nX-Forwarded-Proto: http\r\n");
    if (r->host != NULL)
        add_field(out, "X-Forwarded-Host", 16, r->host, r->host_len);
    add_field(out, "X-Request-Id", 12, r->id, r->id_len);
    add_fields(out, r->up_add);

    if (r->chunked)
        ADD_LIT(out, "Transfer-Encoding: chunked\r\n");
    else if (r->has_content_length)
        evbuffer_add_printf(out, "Content-Length: %llu\r\n",
                            (unsigned long long)r->content_length);
    ADD_LIT(out, "\r\n");
}

size_t te_h1_head_response(struct evbuffer *out, const te_h1_response *res,
                           const te_request *r, unsigned flags)
{
    size_t before = evbuffer_get_length(out);
    te_h1_hop hop;

    evbuffer_add_printf(out, "HTTP/1.1 %03d ", res->status);
    evbuffer_add(out, res->reason, res->reason_len);
    ADD_LIT(out, "\r\n");

    /* Content-Length passes as sent: the parser checked it, and on HEAD
     * and 304 it describes a body that is not there. */
    te_h1_hop_init(&hop, res->fields, res->nfields, 0);
    for (unsigned i = 0; i < res->nfields; i++) {
        const te_h1_field *f = &res->fields[i];

        if (name_is(f, "x-request-id") ||
            te_h1_hop_match(&hop, f->name, f->name_len))
            continue;
        add_field(out, f->name, f->name_len, f->value, f->value_len);
    }

    add_field(out, "X-Request-Id", 12, r->id, r->id_len);
    add_fields(out, r->resp_add);
    if (flags & TE_H1_HEAD_CHUNKED)
        ADD_LIT(out, "Transfer-Encoding: chunked\r\n");
    if (flags & TE_H1_HEAD_CLOSE)
        ADD_LIT(out, "Connection: close\r\n");
    else if (flags & TE_H1_HEAD_KEEP_ALIVE)
        ADD_LIT(out, "Connection: keep-alive\r\n");
    ADD_LIT(out, "\r\n");

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

size_t te_h1_write_error(struct evbuffer *out, int status, const char *id)
{
    const struct status_text *st = status_find(status);
    const char *error = st != NULL ? st->error : "error";
    size_t before = evbuffer_get_length(out);
    char body[192];
    int n;

    /* id is [A-Za-z0-9._:-] only (te_request_id_valid): no escaping;
     * 64 characters at most, so the body always fits. */
    n = snprintf(body, sizeof(body),
                 "{\"error\":\"%s\",\"request_id\":\"%s\"}\n", error, id);
    if (n < 0 || (size_t)n >= sizeof(body))
        n = 0;

    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: %d\r\n"
                        "X-Request-Id: %s\r\n"
                        "Connection: close\r\n\r\n",
                        status, te_h1_reason(status), n, id);
    evbuffer_add(out, body, (size_t)n);
    return evbuffer_get_length(out) - before;
}

/* RFC 9110 6.4.1: no content in 204 and 304 answers. */
size_t te_h1_write_answer(struct evbuffer *out, const te_request *r,
                          unsigned flags, int head_only)
{
    size_t before = evbuffer_get_length(out);
    int status = r->answer_status;
    int bodyless = status == 204 || status == 304;

    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status,
                        te_h1_reason(status));
    if (r->answer_type != NULL)
        add_field(out, "Content-Type", 12, r->answer_type,
                  strlen(r->answer_type));
    if (!bodyless)
        evbuffer_add_printf(out, "Content-Length: %zu\r\n", r->answer_len);
    add_field(out, "X-Request-Id", 12, r->id, r->id_len);
    add_fields(out, r->resp_add);
    if (flags & TE_H1_HEAD_CLOSE)
        ADD_LIT(out, "Connection: close\r\n");
    else if (flags & TE_H1_HEAD_KEEP_ALIVE)
        ADD_LIT(out, "Connection: keep-alive\r\n");
    ADD_LIT(out, "\r\n");
    if (!head_only && !bodyless)
        evbuffer_add(out, r->answer_body, r->answer_len);
    return evbuffer_get_length(out) - before;
}
