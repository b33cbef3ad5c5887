/*
 * jwt.c: the jwt module: bearer tokens at the edge.
 *
 * identify: a request with `Authorization: Bearer <token>` gets its
 * token verified (verify.c, claims.c, or the worker's cache of tokens
 * already verified) and, when good, a principal: a user or a service,
 * its subject, tenant and scopes. A request without one goes on with no
 * principal; the policy module decides where that is not enough.
 *
 * policy: a bad token is refused here with 401 and
 * `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 3.1), not
 * in identify, so that the refusal is logged with the tenant the Host
 * resolved to. A good token must then be for this tenant, hold the
 * scopes its product needs and, for a service, match an `allow service`
 * rule (deny by default); otherwise 403. The backend receives the
 * principal in the core's principal_headers fields; the client's of those
 * names never pass.
 *
 * The client only ever learns "invalid token": the real reason is
 * logged at info with req= and tenant=.
 */
#include "jwt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CHALLENGE_INVALID "Bearer error=\"invalid_token\""

/* Per worker: the verifier, the key set in use and its generation, the
 * cache of verified tokens (NULL when `cache 0`). */
typedef struct jwt_worker {
    te_jwt_verifier *v;
    te_jwt_keys *keys;
    unsigned long gen;
    te_jwt_cache *cache;
} jwt_worker;

enum jwt_state { TOKEN_NONE = 0, TOKEN_GOOD, TOKEN_BAD };

/* Per request: what identify found, for the policy phase. Strings are
 * copies in the request's memory. */
typedef struct jwt_req {
    enum jwt_state state;
    const char *why; /* TOKEN_BAD: static reason, for the log */
    te_principal_kind kind;
    const char *subject;
    const char *tenant; /* NULL: the token names none */
    const char *scopes;
} jwt_req;

/* ------------------------------------------------------------ workers */

static int jwt_init_worker(void *mconf, void **wstate)
{
    te_jwt_conf *c = mconf;
    jwt_worker *w = calloc(1, sizeof(*w));

    if (w == NULL)
        goto fail;
    w->v = te_jwt_verifier_new(c->limits.max_size);
    if (w->v == NULL)
        goto fail;
    if (c->cache > 0 && (w->cache = te_jwt_cache_new(c->cache)) == NULL)
        goto fail;
    w->keys = te_jwt_source_get(c->src, &w->gen);
    if (te_jwt_source_watch(c->src, &te_module_jwt) < 0) {
        te_module_log(&te_module_jwt, TE_MLOG_ERROR,
                      "cannot start the key file watcher");
        goto fail_logged;
    }
    *wstate = w;
    return 0;

fail:
    te_module_log(&te_module_jwt, TE_MLOG_ERROR,
                  "out of memory setting up a worker");
fail_logged:
    if (w != NULL) {
        te_jwt_verifier_free(w->v);
        te_jwt_cache_free(w->cache);
        te_jwt_keys_unref(w->keys);
        free(w);
    }
    return -1;
}

static void jwt_exit_worker(void *mconf, void *wstate)
{
    jwt_worker *w = wstate;

    if (w == NULL)
        return;
    te_jwt_verifier_free(w->v);
    te_jwt_cache_free(w->cache);
    te_jwt_keys_unref(w->keys);
    free(w);
}

/* Takes the newest key set when the watcher published one; tokens
 * cached under the old set go with it (a removed kid stops at once). */
static void refresh_keys(const te_jwt_conf *c, jwt_worker *w)
{
    unsigned long gen = te_jwt_source_gen(c->src);
    te_jwt_keys *ks;

    if (gen == w->gen)
        return;
    ks = te_jwt_source_get(c->src, &w->gen);
    te_jwt_keys_unref(w->keys);
    w->keys = ks;
    te_jwt_cache_clear(w->cache);
}

/* ----------------------------------------------------------- identify */

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A copy of s in the request's memory; NULL stays NULL. */
static const char *keep(te_request *r, const char *s, int *failed)
{
    size_t n;
    char *d;

    if (s == NULL)
        return NULL;
    n = strlen(s) + 1;
    d = te_request_alloc(r, n);
    if (d == NULL) {
        *failed = 1;
        return NULL;
    }
    memcpy(d, s, n);
    return d;
}

/*
 * The bearer token of the request (RFC 6750 2.1), in *tok and *len:
 *  1 found; 0 no Authorization field, or one of another scheme (not
 *  ours to judge); -1 several Authorization fields with a Bearer one
 *  among them, or a Bearer field without a token: refused.
 * The scheme is case-insensitive (RFC 9110 11.1).
 */
static int bearer_token(const te_request *r, const char **tok, size_t *len)
{
    unsigned n = te_request_header_count(r), fields = 0, bearers = 0;
    const char *name, *value;
    size_t nlen, vlen;

    for (unsigned i = 0; i < n; i++) {
        if (te_request_header_at(r, i, &name, &nlen, &value, &vlen) < 0 ||
            nlen != 13 || strncasecmp(name, "authorization", 13) != 0)
            continue;
        fields++;
        if (vlen < 6 || strncasecmp(value, "bearer", 6) != 0 ||
            (vlen > 6 && value[6] != ' ' && value[6] != '\t'))
            continue;
        bearers++;
        value += 6;
        vlen -= 6;
        while (vlen > 0 && (*value == ' ' || *value == '\t')) {
            value++;
            vlen--;
        }
        while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
            vlen--;
        *tok = value;
        *len = vlen;
    }
    if (bearers == 0)
        return 0;
    if (fields > 1 || *len == 0)
        return -1;
    return 1;
}

/* Checks the token, from the cache when it was verified before. NULL
 * and *id (valid until the next call on this worker), or the reason. */
static const char *judge(const te_jwt_conf *c, jwt_worker *w, const char *tok,
                         size_t len, te_jwt_identity *id, json_t **payload)
{
    unsigned char digest[TE_JWT_DIGEST_LEN];
    const te_jwt_identity *hit;
    double now = now_seconds();
    const char *why;
    int have_digest = 0;

    if (w->cache != NULL && len <= c->limits.max_size &&
        te_jwt_digest(w->v, tok, len, digest) == 0) {
        have_digest = 1;
        hit = te_jwt_cache_get(w->cache, digest, now, c->rules.leeway);
        if (hit != NULL) {
            *id = *hit;
            return NULL;
        }
    }

    why = te_jwt_verify(w->v, w->keys, &c->limits, tok, len, payload);
    if (why != NULL)
        return why;
    why = te_jwt_claims_check(&c->rules, *payload, now, id);
    if (why != NULL)
        return why;
    if (have_digest)
        te_jwt_cache_put(w->cache, digest, id); /* best effort */
    return NULL;
}

/* Records the verified identity for the policy phase and as the
 * request's principal. A principal another module set already (a
 * session) must be the same caller, or the request is refused: two
 * credentials that disagree prove nothing. */
static te_status take_identity(te_request *r, jwt_req *rq,
                               const te_jwt_identity *id)
{
    const te_principal *other = te_request_principal(r);
    te_principal p;
    int failed = 0;

    rq->kind = id->kind;
    rq->subject = keep(r, id->subject, &failed);
    rq->tenant = keep(r, id->tenant, &failed);
    rq->scopes = keep(r, id->scopes, &failed);
    if (failed)
        goto oom;

    if (other != NULL) {
        if (other->subject == NULL || other->tenant == NULL ||
            id->tenant == NULL || strcmp(other->subject, id->subject) != 0 ||
            strcmp(other->tenant, id->tenant) != 0) {
            rq->state = TOKEN_BAD;
            rq->why = "token and another credential name different callers";
            return TE_OK;
        }
        rq->state = TOKEN_GOOD;
        return TE_OK;
    }

    p = (te_principal){.kind = id->kind,
                       .subject = id->subject,
                       .tenant = id->tenant,
                       .issuer = id->issuer,
                       .scopes = id->scopes,
                       .via = "jwt"};
    if (te_request_set_principal(r, &p) < 0)
        goto oom;
    rq->state = TOKEN_GOOD;
    return TE_OK;

oom:
    te_request_log(r, TE_MLOG_ERROR, "out of memory keeping the principal");
    return TE_ERROR;
}

static te_status jwt_identify(te_request *r, void *mconf)
{
    const te_jwt_conf *c = mconf;
    jwt_worker *w = te_request_worker_state(r, &te_module_jwt);
    jwt_req *rq = te_request_ctx(r, &te_module_jwt);
    te_jwt_identity id;
    json_t *payload = NULL;
    const char *tok = NULL;
    te_status rc;
    size_t len = 0;
    int found;

    if (w == NULL || rq == NULL) {
        te_request_log(r, TE_MLOG_ERROR,
                       "jwt: no worker state or request "
                       "storage");
        return TE_ERROR;
    }
    found = bearer_token(r, &tok, &len);
    if (found == 0)
        return TE_OK;
    if (found < 0) {
        rq->state = TOKEN_BAD;
        rq->why = "several Authorization fields, or an empty bearer token";
        return TE_OK;
    }

    refresh_keys(c, w);
    rq->why = judge(c, w, tok, len, &id, &payload);
    if (rq->why != NULL) {
        rq->state = TOKEN_BAD;
        json_decref(payload);
        return TE_OK;
    }
    rc = take_identity(r, rq, &id);
    json_decref(payload); /* id borrowed from it until now */
    return rc;
}

/* ------------------------------------------------------------- policy */

static te_status refuse(te_request *r, int status, const char *challenge,
                        const char *reason)
{
    if (challenge != NULL &&
        te_response_add_header(r, "WWW-Authenticate", challenge) < 0)
        return TE_ERROR;
    return te_respond_error(r, status, reason) == TE_OK ? TE_DONE : TE_ERROR;
}

/* The path without its query. */
static size_t path_only(const char *path, size_t len)
{
    const char *q = memchr(path, '?', len);

    return q != NULL ? (size_t)(q - path) : len;
}

/* A path that means what it says: no dot or empty segments, no
 * backslash and no encoded '.', '/', '\' or '%', which a backend might
 * resolve to somewhere the prefix does not cover (RFC 3986 5.2.4).
 * Service rules only ever match such paths. */
static int plain_path(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\\')
            return 0;
        if (p[i] == '%' && i + 2 < len &&
            (strncasecmp(p + i, "%2e", 3) == 0 ||
             strncasecmp(p + i, "%2f", 3) == 0 ||
             strncasecmp(p + i, "%5c", 3) == 0 ||
             strncasecmp(p + i, "%25", 3) == 0))
            return 0;
        if (p[i] == '/' && i + 1 < len && p[i + 1] == '/')
            return 0;
        if (p[i] == '/' && i + 1 < len && p[i + 1] == '.') {
            size_t dots = (i + 2 < len && p[i + 2] == '.') ? 2 : 1;

            if (i + 1 + dots == len || p[i + 1 + dots] == '/')
                return 0;
        }
    }
    return 1;
}

/* A prefix covers whole segments: "/api" covers "/api" and "/api/x",
 * not "/apis". */
static int covers(const char *prefix, const char *path, size_t len)
{
    size_t n = strlen(prefix);

    if (n > len || memcmp(prefix, path, n) != 0)
        return 0;
    return n == len || prefix[n - 1] == '/' || path[n] == '/';
}

/* Deny by default: a service may do what one of its rules allows. */
static int service_allowed(const te_jwt_conf *c, te_request *r,
                           const char *service)
{
    size_t mlen, plen;
    const char *method = te_request_method(r, &mlen);
    const char *path = te_request_path(r, &plen);

    plen = path_only(path, plen);
    if (!plain_path(path, plen))
        return 0;
    for (unsigned i = 0; i < c->nallows; i++) {
        const te_jwt_allow_rule *rule = &c->allows[i];
        int method_ok = 0;

        if (strcmp(rule->service, service) != 0)
            continue;
        for (unsigned j = 0; j < rule->nmethods && !method_ok; j++)
            method_ok = strlen(rule->methods[j]) == mlen &&
                        memcmp(rule->methods[j], method, mlen) == 0;
        if (!method_ok)
            continue;
        for (unsigned j = 0; j < rule->npaths; j++)
            if (covers(rule->paths[j], path, plen))
                return 1;
    }
    return 0;
}

/* The first scope the request's product needs that the token lacks,
 * or NULL. */
static const char *missing_scope(const te_jwt_conf *c, te_request *r,
                                 const char *scopes,
                                 const te_jwt_scope_rule **rule)
{
    const char *product = te_request_product(r);

    if (product == NULL)
        return NULL;
    for (unsigned i = 0; i < c->nscopes; i++) {
        if (strcmp(c->scopes[i].product, product) != 0)
            continue;
        *rule = &c->scopes[i];
        for (unsigned j = 0; j < c->scopes[i].nscopes; j++)
            if (!te_jwt_scope_has(scopes, c->scopes[i].scopes[j]))
                return c->scopes[i].scopes[j];
    }
    return NULL;
}

/* RFC 6750 3.1: insufficient_scope, naming the scopes needed. */
static te_status refuse_scope(te_request *r, const te_jwt_scope_rule *rule)
{
    char challenge[1024];
    size_t n;

    n = (size_t)snprintf(challenge, sizeof(challenge),
                         "Bearer error=\"insufficient_scope\", scope=\"");
    for (unsigned i = 0; i < rule->nscopes && n < sizeof(challenge); i++)
        n += (size_t)snprintf(challenge + n, sizeof(challenge) - n, "%s%s",
                              i ? " " : "", rule->scopes[i]);
    if (n + 2 > sizeof(challenge))
        return refuse(r, 403, "Bearer error=\"insufficient_scope\"",
                      "insufficient scope");
    memcpy(challenge + n, "\"", 2);
    return refuse(r, 403, challenge, "insufficient scope");
}

static te_status jwt_policy(te_request *r, void *mconf)
{
    const te_jwt_conf *c = mconf;
    const jwt_req *rq = te_request_ctx(r, &te_module_jwt);
    const te_tcs_context *tenant = te_request_tenant(r);
    const te_jwt_scope_rule *rule = NULL;
    const char *scope;

    if (rq == NULL) {
        te_request_log(r, TE_MLOG_ERROR, "jwt: no request storage");
        return TE_ERROR;
    }

    if (rq->state == TOKEN_BAD) {
        te_request_log(r, TE_MLOG_INFO, "bearer token refused: %s", rq->why);
        return refuse(r, 401, CHALLENGE_INVALID, "invalid token");
    }
    if (rq->state == TOKEN_NONE) /* the policy module's `auth` decides */
        return TE_OK;

    /* A token opens only its own tenant's data. */
    if (tenant == NULL || rq->tenant == NULL ||
        strcmp(tenant->id, rq->tenant) != 0) {
        te_request_log(r, TE_MLOG_INFO,
                       "token of %s for tenant %s refused on another "
                       "tenant's site",
                       rq->subject, rq->tenant ? rq->tenant : "(none)");
        return refuse(r, 403, NULL, "token not valid for this tenant");
    }
    if (rq->kind == TE_PRINCIPAL_SERVICE &&
        !service_allowed(c, r, rq->subject)) {
        te_request_log(r, TE_MLOG_INFO,
                       "service %s not allowed this method and path",
                       rq->subject);
        return refuse(r, 403, NULL, "service not allowed");
    }
    scope = missing_scope(c, r, rq->scopes, &rule);
    if (scope != NULL) {
        te_request_log(r, TE_MLOG_INFO,
                       "token of %s lacks scope %s for product %s", rq->subject,
                       scope, rule->product);
        return refuse_scope(r, rule);
    }
    return TE_OK; /* the core forwards the principal */
}

const te_module te_module_jwt = {
    .abi = TE_MODULE_ABI,
    .name = "jwt",
    .directives = te_jwt_directives,
    .create_conf = te_jwt_create_conf,
    .finish_conf = te_jwt_finish_conf,
    .free_conf = te_jwt_free_conf,
    .init_worker = jwt_init_worker,
    .exit_worker = jwt_exit_worker,
    .handlers =
        {[TE_PHASE_IDENTIFY] = jwt_identify, [TE_PHASE_POLICY] = jwt_policy},
    .request_ctx_size = sizeof(jwt_req),
};

#ifdef TE_DYNAMIC_MODULE
TE_MODULE_EXPORT(te_module_jwt);
#endif
