/*
 * request_api.c: the request side of the module API (tenantedge/module.h):
 * accessors, answers, per-request storage and cleanups, the tenant and
 * session lookups, and logging with the request's id and tenant.
 *
 * Everything a module gets or gives is copied into the request's arena
 * or borrowed from the head buffer, both alive until te_request_end, so
 * no accessor here allocates with malloc or frees.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "chain.h"
#include "log.h"
#include "module.h"
#include "request.h"
#include "session.h"
#include "tcs.h"
#include "worker.h"

/* --------------------------------------------------------- helpers */

static char *copy(te_request *r, const char *s)
{
    return s != NULL ? te_arena_strndup(r->arena, s, strlen(s)) : NULL;
}

/* RFC 9110 5.6.2: tchar beyond letters and digits. */
static const unsigned char tchar_special[128] = {
    ['!'] = 1,  ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1,
    ['\''] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1,
    ['^'] = 1,  ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
};

/* RFC 9110 5.1: a field name is a token. A table, not strchr: modules
 * add fields on every request. */
static int token_valid(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || (c < 128 && tchar_special[c])))
            return 0;
    }
    return 1;
}

/* RFC 9110 5.5: visible characters, spaces and tabs; never CR, LF or
 * NUL, so a module cannot split a head. */
static int value_valid(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

/* Fields that frame a message or that the core writes itself: a module
 * adding one could desynchronise a peer, so none may be added. */
static int field_reserved(const char *name, size_t len)
{
    static const struct {
        const char *name;
        size_t len;
    } reserved[] = {
        {"content-length", 14}, {"transfer-encoding", 17}, {"connection", 10},
        {"upgrade", 7},         {"keep-alive", 10},        {"te", 2},
        {"trailer", 7},         {"x-request-id", 12},
    };

    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (len == reserved[i].len && strcasecmp(name, reserved[i].name) == 0)
            return 1;
    return 0;
}

/* Appends a copy of name: value to the list whose tail is *tail. */
static int add_field(te_request *r, te_field_add ***tail, const char *name,
                     const char *value)
{
    te_field_add *f;
    size_t nlen, vlen;

    if (name == NULL || value == NULL || !token_valid(name) ||
        !value_valid(value))
        return -1;
    nlen = strlen(name);
    vlen = strlen(value);
    if (field_reserved(name, nlen))
        return -1;
    f = te_arena_alloc(r->arena, sizeof(*f));
    if (f == NULL)
        return -1;
    f->name = te_arena_strndup(r->arena, name, nlen);
    f->value = te_arena_strndup(r->arena, value, vlen);
    if (f->name == NULL || f->value == NULL)
        return -1;
    f->name_len = nlen;
    f->value_len = vlen;
    **tail = f;
    *tail = &f->next;
    return 0;
}

/* The host without its port: "[v6]:p" -> "[v6]", "name:p" -> "name". */
static size_t host_without_port(const char *h, size_t n)
{
    size_t i = n;

    while (i > 0 && h[i - 1] != ':' && h[i - 1] != ']')
        i--;
    if (i == 0 || h[i - 1] != ':')
        return n;
    if (h[0] == '[' && (i < 2 || h[i - 2] != ']'))
        return n;
    return i - 1;
}

/* Works out host_lc and site once: "<label>.<domain>" with one label. */
static void resolve_host(te_request *r)
{
    const char *domain = r->w->cf->domain;
    size_t n, dlen, label;
    char *lc;

    r->host_done = 1;
    if (r->host == NULL || r->host_len == 0)
        return;
    n = host_without_port(r->host, r->host_len);
    if (n > 0 && r->host[n - 1] == '.')
        n--;
    lc = te_arena_strndup(r->arena, r->host, n);
    if (lc == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        if (lc[i] >= 'A' && lc[i] <= 'Z')
            lc[i] = (char)(lc[i] - 'A' + 'a');
    r->host_lc = lc;
    r->host_lc_len = n;

    if (domain == NULL)
        return;
    dlen = strlen(domain);
    if (n < dlen + 2)
        return;
    label = n - dlen - 1;
    if (lc[label] != '.' || memcmp(lc + label + 1, domain, dlen) != 0 ||
        memchr(lc, '.', label) != NULL)
        return;
    r->site = te_arena_strndup(r->arena, lc, label);
    r->site_len = r->site != NULL ? label : 0;
}

/* ------------------------------------------------------- accessors */

void *te_request_worker_state(te_request *r, const te_module *m)
{
    int idx = te_chainconf_index(r->cc, m);

    return idx >= 0 ? r->w->mstate[idx] : NULL;
}

const char *te_request_method(const te_request *r, size_t *len)
{
    *len = r->method_len;
    return r->method;
}

const char *te_request_path(const te_request *r, size_t *len)
{
    *len = r->path_len;
    return r->path;
}

const char *te_request_host(te_request *r, size_t *len)
{
    if (!r->host_done)
        resolve_host(r);
    if (len != NULL)
        *len = r->host_lc_len;
    return r->host_lc;
}

const char *te_request_site(te_request *r, size_t *len)
{
    if (!r->host_done)
        resolve_host(r);
    if (len != NULL)
        *len = r->site_len;
    return r->site;
}

const char *te_request_id(const te_request *r)
{
    return r->id;
}

const char *te_request_client_addr(const te_request *r)
{
    return r->client_addr;
}

const char *te_request_header(const te_request *r, const char *name,
                              size_t *len)
{
    size_t n = strlen(name);

    for (unsigned i = 0; i < r->nfields; i++) {
        const te_h1_field *f = &r->fields[i];

        if (f->name_len == n && strncasecmp(f->name, name, n) == 0) {
            *len = f->value_len;
            return f->value;
        }
    }
    return NULL;
}

unsigned te_request_header_count(const te_request *r)
{
    return r->nfields;
}

int te_request_header_at(const te_request *r, unsigned i, const char **name,
                         size_t *name_len, const char **value,
                         size_t *value_len)
{
    if (i >= r->nfields)
        return -1;
    *name = r->fields[i].name;
    *name_len = r->fields[i].name_len;
    *value = r->fields[i].value;
    *value_len = r->fields[i].value_len;
    return 0;
}

/* Unlinks the fields named <name> that modules added for the backend,
 * so that the one added next stands alone: two identity modules in a
 * chain may both forward the same principal. */
static void drop_upstream_added(te_request *r, const char *name)
{
    te_field_add **p = &r->up_add;

    /* Bounded: each pass moves along or unlinks one field. */
    while (*p != NULL) {
        if (strcasecmp((*p)->name, name) == 0)
            *p = (*p)->next;
        else
            p = &(*p)->next;
    }
    r->up_add_tail = p;
}

int te_request_add_upstream_header(te_request *r, const char *name,
                                   const char *value)
{
    if (name == NULL || value == NULL || !token_valid(name) ||
        !value_valid(value) || field_reserved(name, strlen(name)))
        return -1;
    drop_upstream_added(r, name);
    return add_field(r, &r->up_add_tail, name, value);
}

void te_request_remove_upstream_header(te_request *r, const char *name)
{
    te_field_add *f;

    if (name == NULL || !token_valid(name))
        return;
    f = te_arena_alloc(r->arena, sizeof(*f));
    if (f == NULL || (f->name = copy(r, name)) == NULL) {
        r->broken = 1; /* the core will not forward it */
        return;
    }
    f->name_len = strlen(name);
    f->next = r->up_remove;
    r->up_remove = f;
}

const char *te_request_product(te_request *r)
{
    const te_product_conf *pc;

    if (!r->product_done) {
        r->product_done = 1;
        pc = te_chainconf_product(r->cc, r->path, r->path_len);
        r->product = pc != NULL ? pc->name : NULL;
    }
    return r->product;
}

unsigned te_request_products_configured(const te_request *r)
{
    return r->cc->nproducts;
}

/* ------------------------------------------------ principal, tenant */

/* The backend gets the principal, whichever module proved it, in the
 * fields principal_headers names (the client's are dropped, see
 * te_request_field_dropped). */
static int forward_principal(te_request *r, const te_principal *p)
{
    const char *const *h;

    if (r->cc == NULL)
        return 0;
    h = r->cc->principal_hdr;
    drop_upstream_added(r, h[0]);
    drop_upstream_added(r, h[1]);
    drop_upstream_added(r, h[2]);
    if (p->kind == TE_PRINCIPAL_NONE)
        return 0;
    if ((p->subject != NULL &&
         te_request_add_upstream_header(r, h[0], p->subject) < 0) ||
        te_request_add_upstream_header(
            r, h[1], p->kind == TE_PRINCIPAL_SERVICE ? "service" : "user") <
            0 ||
        (p->scopes != NULL && p->scopes[0] != '\0' &&
         te_request_add_upstream_header(r, h[2], p->scopes) < 0))
        return -1;
    return 0;
}

int te_request_set_principal(te_request *r, const te_principal *p)
{
    te_principal *c = te_arena_alloc(r->arena, sizeof(*c));

    if (c == NULL)
        return -1;
    c->kind = p->kind;
    c->subject = copy(r, p->subject);
    c->tenant = copy(r, p->tenant);
    c->issuer = copy(r, p->issuer);
    c->scopes = copy(r, p->scopes);
    c->via = copy(r, p->via);
    if ((p->subject && !c->subject) || (p->tenant && !c->tenant) ||
        (p->issuer && !c->issuer) || (p->scopes && !c->scopes) ||
        (p->via && !c->via))
        return -1;
    r->principal = c;
    return forward_principal(r, c);
}

const te_principal *te_request_principal(const te_request *r)
{
    return r->principal;
}

void te_request_set_tenant(te_request *r, te_tcs_context *ctx)
{
    if (ctx != NULL)
        te_tcs_context_ref(ctx);
    te_tcs_context_free(r->tenant);
    r->tenant = ctx;
    r->tenant_id = ctx != NULL ? ctx->id : NULL;
}

const te_tcs_context *te_request_tenant(const te_request *r)
{
    return r->tenant;
}

te_status te_request_set_shard(te_request *r, const char *shard)
{
    const te_shard *sh = te_chainconf_shard(r->cc, shard);

    if (sh == NULL)
        return TE_ERROR;
    if (r->tenant != NULL && strcmp(sh->region->name, r->tenant->region) != 0)
        return TE_DECLINED;
    r->shard = sh;
    return TE_OK;
}

const char *te_request_shard(const te_request *r)
{
    return r->shard != NULL ? r->shard->name : NULL;
}

const char *te_shard_region(const te_request *r, const char *shard)
{
    const te_shard *sh = te_chainconf_shard(r->cc, shard);

    return sh != NULL ? sh->region->name : NULL;
}

/* --------------------------------------------------------- answers */

te_status te_respond(te_request *r, int status, const char *content_type,
                     const char *body, size_t len)
{
    char *b;

    if (r->answered || status < 200 || status > 599 ||
        (content_type != NULL && !value_valid(content_type)))
        return TE_ERROR;
    r->answer_type = copy(r, content_type);
    b = te_arena_alloc(r->arena, len);
    if ((content_type != NULL && r->answer_type == NULL) || b == NULL)
        return TE_ERROR;
    if (len > 0)
        memcpy(b, body, len);
    r->answer_body = b;
    r->answer_len = len;
    r->answer_status = status;
    r->answered = 1;
    return TE_OK;
}

/* JSON string content for s: quotes, backslashes and controls escaped;
 * at most max bytes of s are taken, so out needs 6 * max + 1. */
static void json_escape(char *out, const char *s, size_t max)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; s[i] != '\0' && i < max; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\') {
            *out++ = '\\';
            *out++ = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(out, "\\u00", 4);
            out[4] = hex[c >> 4];
            out[5] = hex[c & 0xf];
            out += 6;
        } else {
            *out++ = (char)c;
        }
    }
    *out = '\0';
}

#define REASON_MAX 128

te_status te_respond_error(te_request *r, int status, const char *reason)
{
    char esc[6 * REASON_MAX + 1];
    char body[sizeof(esc) + TE_REQUEST_ID_MAX + 48];
    int n;

    json_escape(esc, reason != NULL ? reason : "error", REASON_MAX);
    /* the id is [A-Za-z0-9._:-] only (te_request_id_valid) */
    n = snprintf(body, sizeof(body),
                 "{\"error\":\"%s\",\"request_id\":\"%s\"}\n", esc, r->id);
    if (n < 0 || (size_t)n >= sizeof(body))
        return TE_ERROR;
    return te_respond(r, status, "application/json", body, (size_t)n);
}

int te_response_add_header(te_request *r, const char *name, const char *value)
{
    return add_field(r, &r->resp_add_tail, name, value);
}

int te_response_status(const te_request *r)
{
    return r->status;
}

/* ----------------------------------------- storage, cleanups, async */

int te_request_add_cleanup(te_request *r, void (*fn)(void *arg), void *arg)
{
    te_cleanup *c = te_arena_alloc(r->arena, sizeof(*c));

    if (c == NULL)
        return -1;
    c->fn = fn;
    c->arg = arg;
    c->next = r->cleanups;
    r->cleanups = c;
    return 0;
}

void *te_request_ctx(te_request *r, const te_module *m)
{
    int idx = te_chainconf_index(r->cc, m);

    if (idx < 0 || m->request_ctx_size == 0 || r->mctx == NULL)
        return NULL;
    if (r->mctx[idx] == NULL)
        r->mctx[idx] = te_arena_alloc(r->arena, m->request_ctx_size);
    return r->mctx[idx];
}

void *te_request_alloc(te_request *r, size_t size)
{
    return te_arena_alloc(r->arena, size);
}

/* A lookup that waits: the request's cleanup withdraws it if the request
 * ends first, so cb never runs on a request that is gone. */
typedef struct tcs_lookup {
    te_request *r;
    te_tcs_cb cb;
    void *arg;
    te_tcs_wait *wait; /* pending, else NULL */
} tcs_lookup;

static void lookup_done(void *arg, te_status rc, te_tcs_context *ctx)
{
    tcs_lookup *lk = arg;

    lk->wait = NULL;
    lk->cb(lk->r, rc, ctx, lk->arg);
}

static void lookup_cancel(void *arg)
{
    tcs_lookup *lk = arg;

    if (lk->wait != NULL)
        te_tcs_cancel(lk->wait);
    lk->wait = NULL;
}

te_status te_tcs_lookup(te_request *r, const char *site, size_t len,
                        te_tcs_context **ctx, te_tcs_cb cb, void *arg)
{
    tcs_lookup *lk;
    te_status rc;

    *ctx = NULL;
    if (r->w->tcs == NULL)
        return TE_ERROR;
    lk = te_arena_alloc(r->arena, sizeof(*lk));
    if (lk == NULL || te_request_add_cleanup(r, lookup_cancel, lk) < 0)
        return TE_ERROR;
    lk->r = r;
    lk->cb = cb;
    lk->arg = arg;

    rc = te_tcs_get(r->w->tcs, site, len, ctx, lookup_done, lk, &lk->wait);
    if (rc != TE_AGAIN)
        lk->wait = NULL;
    return rc;
}

/* A session lookup that waits: as for the tenant lookup, a cleanup
 * withdraws it if the request ends first. */
typedef struct session_lookup {
    te_request *r;
    te_session_cb cb;
    void *arg;
    te_sessions_wait *wait; /* pending, else NULL */
} session_lookup;

/* The service's session is borrowed: the request keeps a copy in its
 * arena. NULL when out of memory. */
static const te_session *session_copy(te_request *r, const te_session *s)
{
    te_session *c = te_arena_alloc(r->arena, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->id = copy(r, s->id);
    c->user = copy(r, s->user);
    c->tenant = copy(r, s->tenant);
    c->expires = s->expires;
    if (c->id == NULL || c->user == NULL || c->tenant == NULL)
        return NULL;
    return c;
}

static void session_done(void *arg, te_status rc, const te_session *s)
{
    session_lookup *lk = arg;
    const te_session *mine = NULL;

    lk->wait = NULL;
    if (rc == TE_OK && (mine = session_copy(lk->r, s)) == NULL)
        rc = TE_ERROR;
    lk->cb(lk->r, rc, mine, lk->arg);
}

static void session_cancel(void *arg)
{
    session_lookup *lk = arg;

    if (lk->wait != NULL)
        te_sessions_cancel(lk->wait);
    lk->wait = NULL;
}

te_status te_session_lookup(te_request *r, const char *id, size_t len,
                            const te_session **session, te_session_cb cb,
                            void *arg)
{
    te_sessions *ss = r->w->tcs != NULL ? te_tcs_sessions(r->w->tcs) : NULL;
    const te_session *found = NULL;
    session_lookup *lk;
    struct timespec ts;
    te_status rc;

    *session = NULL;
    if (id == NULL || !te_session_id_valid(id, len))
        return TE_DECLINED;
    if (ss == NULL)
        return TE_ERROR;
    lk = te_arena_alloc(r->arena, sizeof(*lk));
    if (lk == NULL || te_request_add_cleanup(r, session_cancel, lk) < 0)
        return TE_ERROR;
    lk->r = r;
    lk->cb = cb;
    lk->arg = arg;

    clock_gettime(CLOCK_REALTIME, &ts);
    rc = te_sessions_get(ss, id, len, (int64_t)ts.tv_sec, &found, session_done,
                         lk, &lk->wait);
    if (rc != TE_AGAIN)
        lk->wait = NULL;
    if (rc == TE_OK && (*session = session_copy(r, found)) == NULL)
        rc = TE_ERROR;
    return rc;
}

/* --------------------------------------------------------- logging */

void te_request_log(const te_request *r, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (!te_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    te_log(level, "%s req=%s tenant=%s", msg, r->id[0] ? r->id : "-",
           r->tenant_id != NULL ? r->tenant_id : "-");
}

void te_module_log(const te_module *m, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (!te_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    te_log(level, "%s module=%s", msg, m->name);
}
