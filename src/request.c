/*
 * request.c: request ids, the life of a request (begin, end, cleanups)
 * and the access log line: the parts of a request that do not depend on
 * the protocol it arrived on. The module API's accessors are in
 * request_api.c.
 */
#include "request.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "log.h"
#include "module.h"
#include "worker.h"

/* splitmix64: a bijection, so distinct counters give distinct ids, and
 * consecutive ones do not look consecutive. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* The seed comes from getrandom once per worker; if that fails the time
 * and the thread's address still make workers differ. */
void te_reqid_init(te_reqid_gen *g)
{
    struct timespec ts;

    memset(g, 0, sizeof(*g));
    if (getrandom(g->seed, sizeof(g->seed), 0) == (ssize_t)sizeof(g->seed))
        return;

    clock_gettime(CLOCK_REALTIME, &ts);
    g->seed[0] = mix64((uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)g);
    g->seed[1] = mix64((uint64_t)ts.tv_sec ^ (uint64_t)getpid());
}

static void hex64(char *out, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";

    for (int i = 15; i >= 0; i--) {
        out[i] = digits[v & 0xf];
        v >>= 4;
    }
}

void te_reqid_next(te_reqid_gen *g, char *out, size_t *len)
{
    uint64_t n = g->counter++;

    hex64(out, mix64(g->seed[0] + n));
    hex64(out + 16, mix64(g->seed[1] ^ n));
    out[32] = '\0';
    *len = 32;
}

int te_request_id_valid(const char *s, size_t n)
{
    if (n == 0 || n > TE_REQUEST_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
            c == '-')
            continue;
        return 0;
    }
    return 1;
}

void te_request_reset(te_request *r)
{
    te_request keep = *r;

    memset(r, 0, sizeof(*r));
    r->client_addr = keep.client_addr;
    r->https = keep.https;
    r->http2 = keep.http2;
    r->arena = keep.arena;
    r->w = keep.w;
    r->ops = keep.ops;
    r->ops_ctx = keep.ops_ctx;
}

int te_request_begin(te_request *r)
{
    r->cc = r->w->cf->chain;
    r->up_add_tail = &r->up_add;
    r->resp_add_tail = &r->resp_add;
    r->begun = 1;
    r->mctx = te_arena_alloc(r->arena, te_chainconf_count(r->cc) *
                                           sizeof(*r->mctx));
    return r->mctx != NULL ? 0 : -1;
}

void te_request_end(te_request *r)
{
    te_cleanup *c;

    if (r->ended)
        return;
    r->ended = 1;

    /* Bounded: each pass runs and unlinks one cleanup. Registration
     * pushes on the front, so this is the reverse order. */
    while ((c = r->cleanups) != NULL) {
        r->cleanups = c->next;
        c->fn(c->arg);
    }
    te_tcs_context_free(r->tenant);
    r->tenant = NULL;
    r->tenant_id = NULL;
    if (r->arena != NULL)
        te_arena_reset(r->arena);
}

/*
 * What the edge, as the first hop, asserts and a client may not: the
 * client address and scheme (it sets X-Forwarded-For, -Proto, -Host
 * itself) and the request id. Any other X-Forwarded-* (Port, Prefix,
 * Ssl, ...), Forwarded (RFC 7239) and the client-address fields that
 * frameworks trust (X-Real-IP and the like) would otherwise arrive
 * looking as if a proxy had set them.
 */
static const te_header_pattern edge_own[] = {
    {"x-forwarded-", 12, true},  {"forwarded", 9, false},
    {"x-real-ip", 9, false},     {"x-client-ip", 11, false},
    {"client-ip", 9, false},     {"true-client-ip", 14, false},
    {"x-request-id", 12, false},
};

static int edge_owned(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(edge_own) / sizeof(edge_own[0]); i++) {
        const te_header_pattern *pt = &edge_own[i];

        if (pt->prefix ? len >= pt->len : len == pt->len)
            if (te_field_name_eq(name, pt->len, pt->name, pt->len, 1))
                return 1;
    }
    return 0;
}

/* Every match folds '_' into '-': with underscores_in_headers on, a
 * client's X_Tenant_Id reaches a CGI-style backend as HTTP_X_TENANT_ID,
 * so it goes wherever X-Tenant-Id goes. */
int te_request_field_dropped(const te_request *r, const char *name,
                             size_t len)
{
    const te_field_add *f;

    if (memchr(name, '_', len) != NULL &&
        (r->cc == NULL || !r->cc->underscores))
        return TE_FIELD_UNDERSCORE;
    if (edge_owned(name, len))
        return TE_FIELD_DROPPED;
    if (r->cc != NULL && te_chainconf_internal(r->cc, name, len))
        return TE_FIELD_DROPPED;
    /* the principal fields are the core's once a module identifies */
    for (unsigned i = 0;
         r->cc != NULL && r->cc->nslots[TE_PHASE_IDENTIFY] > 0 && i < 3; i++)
        if (te_field_name_eq(r->cc->principal_hdr[i],
                             strlen(r->cc->principal_hdr[i]), name, len, 1))
            return TE_FIELD_DROPPED;
    for (f = r->up_remove; f != NULL; f = f->next)
        if (te_field_name_eq(f->name, f->name_len, name, len, 1))
            return TE_FIELD_DROPPED;
    /* a field a module sets replaces the client's of that name */
    for (f = r->up_add; f != NULL; f = f->next)
        if (te_field_name_eq(f->name, f->name_len, name, len, 1))
            return TE_FIELD_DROPPED;
    return TE_FIELD_KEPT;
}

int te_request_has_body(const te_request *r)
{
    return r->chunked || (r->has_content_length && r->content_length > 0);
}

void te_request_set_id(te_request *r, te_reqid_gen *g)
{
    const te_h1_field *f;

    f = te_h1_find(r->fields, r->nfields, "x-request-id");
    if (f != NULL && te_request_id_valid(f->value, f->value_len)) {
        memcpy(r->id, f->value, f->value_len);
        r->id[f->value_len] = '\0';
        r->id_len = f->value_len;
        return;
    }
    te_reqid_next(g, r->id, &r->id_len);
}

int te_request_idempotent(const te_request *r)
{
    switch (r->method_id) {
    case TE_H1_GET:
    case TE_H1_HEAD:
    case TE_H1_PUT:
    case TE_H1_DELETE:
    case TE_H1_OPTIONS:
    case TE_H1_TRACE:
        return 1;
    default:
        return 0;
    }
}

void te_request_access_log(const te_request *r, const struct timeval *now)
{
    int mlen = (int)TE_MIN(r->method_len, 32);
    int plen = (int)TE_MIN(r->path_len, 1024);

    if (!te_log_enabled(TE_LOG_INFO))
        return;

    te_log(TE_LOG_INFO,
           "%.*s %.*s %d %llu %llums req=%s site=%s tenant=%s backend=%s",
           mlen ? mlen : 1, mlen ? r->method : "-", plen ? plen : 1,
           plen ? r->path : "-", r->status, (unsigned long long)r->bytes_out,
           (unsigned long long)te_tv_ms_since(&r->start, now),
           r->id_len ? r->id : "-", r->tenant ? r->tenant->site : "-",
           r->tenant_id ? r->tenant_id : "-",
           r->backend ? r->backend->name : "-");
}
