/*
 * session.c: the session module: a login session cookie -> principal.
 *
 *     module session { cookie sid; login_url /login; }
 *
 * Identify phase: the cookie's value is a session id, looked up through
 * the core's session service (Redis behind a per-worker cache, the same
 * tiers as tenant contexts). A live session makes the caller a user:
 * principal kind user, subject the session's user, tenant the session's
 * tenant, via "session"; the core forwards it to the backend in the
 * principal_headers fields and strips any the client sent. A request
 * without the cookie is not this module's: another identity module, or
 * the policy's auth rules, decide. A cookie that names no live session
 * (unknown, expired, revoked, malformed) is refused here with 401, or,
 * for a browser navigation when login_url is set, a 302 to it; the
 * module refuses its own bad credential even when another module would
 * have accepted the request. A store that cannot answer is 503 with
 * Retry-After, never a guess.
 *
 * Policy phase: a session is only good for the tenant it was issued
 * for: its tenant must be the tenant the Host resolved to, else 403.
 *
 * The login page itself (login_url when it is a path on this host) is
 * never checked, so that a browser with a stale cookie can log in again
 * instead of being sent round in circles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <tenantedge/module.h>

/* Seconds a client is told to wait when the store cannot answer. */
#define RETRY_AFTER "5"

#define COOKIE_NAME_MAX 64
#define LOGIN_URL_MAX   2048

typedef struct session_conf {
    const char *cookie; /* the cookie's name; required */
    size_t cookie_len;
    const char *login_url;  /* NULL: refusals are 401 only */
    const char *login_path; /* login_url's path when it is one, or NULL */
    size_t login_path_len;
    const char *challenge; /* the WWW-Authenticate of a 401 */
} session_conf;

/* What the identify phase proved, for the policy phase. */
typedef struct session_req {
    const te_session *session;
} session_req;

enum cookie_found { COOKIE_NONE, COOKIE_ONE, COOKIE_BAD };

const te_module te_module_session;

/* ------------------------------------------------------------ config */

static void *session_create(void)
{
    return calloc(1, sizeof(session_conf));
}

static void session_free(void *mconf)
{
    free(mconf);
}

/* RFC 9110 5.6.2: tchar. */
static int is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 6265 4.1.1: a cookie-name is a token. */
static int set_cookie(te_conf_ctx *cx, void *mconf, unsigned argc,
                      const char *const *argv)
{
    session_conf *c = mconf;
    size_t n = strlen(argv[1]);
    int valid = n > 0 && n <= COOKIE_NAME_MAX;

    (void)argc;
    if (c->cookie != NULL)
        return te_conf_error(cx, 0, "duplicate directive \"cookie\"");
    for (size_t i = 0; i < n && valid; i++)
        valid = is_tchar(argv[1][i]);
    if (!valid)
        return te_conf_error(cx, 1,
                             "invalid cookie name \"%s\": expected a token "
                             "of 1 to %d characters",
                             argv[1], COOKIE_NAME_MAX);
    c->cookie = te_conf_strdup(cx, argv[1]);
    c->cookie_len = n;
    return c->cookie != NULL ? 0 : te_conf_error(cx, 0, "out of memory");
}

/* An absolute http(s) URL, or a path on this host (not "//", which a
 * browser would read as another host); visible ASCII only, since it
 * becomes a Location field. */
static int login_url_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > LOGIN_URL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    if (s[0] == '/')
        return s[1] != '/' && s[1] != '\\';
    return (strncmp(s, "https://", 8) == 0 && n > 8) ||
           (strncmp(s, "http://", 7) == 0 && n > 7);
}

static int set_login_url(te_conf_ctx *cx, void *mconf, unsigned argc,
                         const char *const *argv)
{
    session_conf *c = mconf;

    (void)argc;
    if (c->login_url != NULL)
        return te_conf_error(cx, 0, "duplicate directive \"login_url\"");
    if (!login_url_valid(argv[1]))
        return te_conf_error(cx, 1,
                             "invalid login_url \"%s\": expected an "
                             "http(s) URL or a path starting with \"/\"",
                             argv[1]);
    c->login_url = te_conf_strdup(cx, argv[1]);
    return c->login_url != NULL ? 0 : te_conf_error(cx, 0, "out of memory");
}

/* The login page's path (login_url up to any query or fragment) when
 * login_url is a path; the page is then never checked. */
static int keep_login_path(te_conf_ctx *cx, session_conf *c)
{
    char path[LOGIN_URL_MAX + 1];
    size_t n;

    if (c->login_url == NULL || c->login_url[0] != '/')
        return 0;
    n = strcspn(c->login_url, "?#");
    memcpy(path, c->login_url, n);
    path[n] = '\0';
    c->login_path = te_conf_strdup(cx, path);
    c->login_path_len = n;
    return c->login_path != NULL ? 0 : te_conf_error(cx, 0, "out of memory");
}

static int session_finish(te_conf_ctx *cx, void *mconf)
{
    session_conf *c = mconf;
    char challenge[COOKIE_NAME_MAX + 32];

    if (c->cookie == NULL)
        return te_conf_error(cx, 0,
                             "module \"session\" needs a \"cookie\" "
                             "directive");
    if (!te_conf_sessions_available(cx))
        return te_conf_error(cx, 0,
                             "module \"session\" needs sessions in Redis: "
                             "\"tcs { store redis; }\"");

    /* RFC 9110 11.6.1: a 401 carries a challenge; a session cookie has
     * no registered scheme, so this one names the cookie. */
    snprintf(challenge, sizeof(challenge), "Cookie name=\"%s\"", c->cookie);
    c->challenge = te_conf_strdup(cx, challenge);
    if (c->challenge == NULL)
        return te_conf_error(cx, 0, "out of memory");
    return keep_login_path(cx, c);
}

/* ----------------------------------------------------------- cookies */

/* RFC 6265 4.1.1: cookie-octet. */
static int is_cookie_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
           (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/* The cookie-value <v> of <n> bytes without its optional quotes, checked
 * octet by octet; 0 or -1. */
static int cookie_value(const char **v, size_t *n)
{
    if (*n >= 2 && (*v)[0] == '"' && (*v)[*n - 1] == '"') {
        (*v)++;
        *n -= 2;
    }
    for (size_t i = 0; i < *n; i++)
        if (!is_cookie_octet((unsigned char)(*v)[i]))
            return -1;
    return 0;
}

/*
 * Looks for the cookie <c->cookie> in one Cookie field value <s> of <n>
 * bytes (RFC 6265 4.2.1: pairs name=value separated by ";" and spaces).
 * Pairs that are not ours are skipped whatever they hold; ours must be
 * well formed. The first value found is kept in *val; a second, other
 * value is ambiguous (a cookie planted by a sibling host, say) and is
 * refused. Returns COOKIE_BAD, or what was found so far.
 */
static enum cookie_found scan_field(const session_conf *c, const char *s,
                                    size_t n, enum cookie_found found,
                                    const char **val, size_t *vlen)
{
    size_t i = 0;

    /* Bounded: every pass moves i past one pair and its ";". */
    while (i < n) {
        size_t start, end, eq;
        const char *v;
        size_t vn;

        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        start = i;
        while (i < n && s[i] != ';')
            i++;
        end = i++;
        while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
            end--;

        for (eq = start; eq < end && s[eq] != '='; eq++)
            ;
        if (eq == end || eq - start != c->cookie_len ||
            memcmp(s + start, c->cookie, c->cookie_len) != 0)
            continue;

        v = s + eq + 1;
        vn = end - eq - 1;
        if (cookie_value(&v, &vn) < 0 || !te_session_id_valid(v, vn))
            return COOKIE_BAD;
        if (found == COOKIE_ONE && (vn != *vlen || memcmp(v, *val, vn) != 0))
            return COOKIE_BAD;
        found = COOKIE_ONE;
        *val = v;
        *vlen = vn;
    }
    return found;
}

/* The session cookie across every Cookie field of the request (HTTP/2
 * clients send one field per cookie). */
static enum cookie_found find_cookie(te_request *r, const session_conf *c,
                                     const char **val, size_t *vlen)
{
    enum cookie_found found = COOKIE_NONE;
    unsigned count = te_request_header_count(r);

    for (unsigned i = 0; i < count && found != COOKIE_BAD; i++) {
        const char *name, *value;
        size_t name_len, value_len;

        if (te_request_header_at(r, i, &name, &name_len, &value, &value_len) <
            0)
            break;
        if (name_len == 6 && strncasecmp(name, "cookie", 6) == 0)
            found = scan_field(c, value, value_len, found, val, vlen);
    }
    return found;
}

/* ---------------------------------------------------------- answers */

static te_status done(te_status rc)
{
    return rc == TE_OK ? TE_DONE : TE_ERROR;
}

/* A browser asking for a page: GET, and Accept names text/html. */
static int browser_navigation(te_request *r)
{
    const char *method, *accept;
    size_t mlen, alen;

    method = te_request_method(r, &mlen);
    if (mlen != 3 || memcmp(method, "GET", 3) != 0)
        return 0;
    accept = te_request_header(r, "Accept", &alen);
    if (accept == NULL)
        return 0;
    for (size_t i = 0; i + 9 <= alen; i++)
        if (strncasecmp(accept + i, "text/html", 9) == 0)
            return 1;
    return 0;
}

/* No live session behind the cookie: 302 to the login page for a
 * browser navigation when one is configured, else 401. */
static te_status unauthenticated(te_request *r, const session_conf *c,
                                 const char *why)
{
    te_request_log(r, TE_MLOG_INFO, "session refused: %s", why);
    if (c->login_url != NULL && browser_navigation(r)) {
        if (te_response_add_header(r, "Location", c->login_url) < 0)
            return TE_ERROR;
        return done(te_respond_error(r, 302, "login required"));
    }
    if (te_response_add_header(r, "WWW-Authenticate", c->challenge) < 0)
        return TE_ERROR;
    return done(te_respond_error(r, 401, "invalid session"));
}

/* ---------------------------------------------------------- identify */

/* 1 when a principal another module proved (a bearer token earlier in
 * the chain) names another caller than session <s>. */
static int other_caller(te_request *r, const te_session *s)
{
    const te_principal *o = te_request_principal(r);

    if (o == NULL || o->kind == TE_PRINCIPAL_NONE)
        return 0;
    return o->kind != TE_PRINCIPAL_USER || o->subject == NULL ||
           o->tenant == NULL || strcmp(o->subject, s->user) != 0 ||
           strcmp(o->tenant, s->tenant) != 0;
}

/* A live session (copied into the request) becomes the principal, or
 * confirms the one another module proved. */
static te_status accept_session(te_request *r, const session_conf *c,
                                const te_session *s)
{
    session_req *rq = te_request_ctx(r, &te_module_session);
    const te_principal *o = te_request_principal(r);
    int first = o == NULL || o->kind == TE_PRINCIPAL_NONE;
    te_principal p = {
        .kind = TE_PRINCIPAL_USER,
        .subject = s->user,
        .tenant = s->tenant,
        .via = "session",
    };

    /* Two credentials that disagree prove nothing. */
    if (other_caller(r, s))
        return unauthenticated(r, c,
                               "session and another credential name "
                               "different callers");

    /* the core forwards it in the principal_headers fields */
    if (rq == NULL || (first && te_request_set_principal(r, &p) < 0)) {
        te_request_log(r, TE_MLOG_ERROR,
                       "cannot record the session's principal");
        return TE_ERROR;
    }
    rq->session = s;
    return TE_OK;
}

/* What the lookup said becomes the identify phase's answer. */
static te_status session_apply(te_request *r, const session_conf *c,
                               te_status rc, const te_session *s)
{
    if (rc == TE_DECLINED)
        return unauthenticated(r, c, "unknown, expired or revoked session");
    if (rc != TE_OK) {
        /* the core logged the outage or the bad record, once */
        if (te_response_add_header(r, "Retry-After", RETRY_AFTER) < 0)
            return TE_ERROR;
        return done(te_respond_error(r, 503, "session store unavailable"));
    }

    /* The service hands out live sessions only; the clock may have
     * moved on since. */
    if (s->expires <= (int64_t)time(NULL))
        return unauthenticated(r, c, "session expired");
    return accept_session(r, c, s);
}

static void session_looked_up(te_request *r, te_status rc, const te_session *s,
                              void *arg)
{
    te_request_resume(r, session_apply(r, arg, rc, s));
}

/* The login page, exactly or below it: never checked. */
static int on_login_page(te_request *r, const session_conf *c)
{
    const char *path;
    size_t len, n = c->login_path_len;

    if (c->login_path == NULL)
        return 0;
    path = te_request_path(r, &len);
    if (len < n || memcmp(path, c->login_path, n) != 0)
        return 0;
    return len == n || path[n] == '?' || path[n] == '/' ||
           c->login_path[n - 1] == '/';
}

static te_status session_identify(te_request *r, void *mconf)
{
    const te_session *s = NULL;
    session_conf *c = mconf;
    const char *val = NULL;
    size_t vlen = 0;
    te_status rc;

    if (on_login_page(r, c))
        return TE_DECLINED;
    switch (find_cookie(r, c, &val, &vlen)) {
    case COOKIE_NONE:
        return TE_DECLINED;
    case COOKIE_BAD:
        return unauthenticated(r, c, "malformed or ambiguous session cookie");
    default:
        break;
    }

    rc = te_session_lookup(r, val, vlen, &s, session_looked_up, c);
    if (rc == TE_AGAIN)
        return TE_AGAIN;
    return session_apply(r, c, rc, s);
}

/* ------------------------------------------------------------ policy */

/* A session opens its own tenant's site only. */
static te_status session_policy(te_request *r, void *mconf)
{
    session_req *rq = te_request_ctx(r, &te_module_session);
    const te_tcs_context *ctx = te_request_tenant(r);

    (void)mconf;
    if (rq == NULL || rq->session == NULL || ctx == NULL)
        return TE_DECLINED;
    if (strcmp(rq->session->tenant, ctx->id) == 0)
        return TE_OK;
    te_request_log(r, TE_MLOG_INFO,
                   "session refused: issued for tenant %s, user=%s",
                   rq->session->tenant, rq->session->user);
    return done(te_respond_error(r, 403, "session for another tenant"));
}

/* clang-format off */
static const te_directive session_directives[] = {
    {"cookie", 1, 1, 0, set_cookie, NULL},
    {"login_url", 1, 1, 0, set_login_url, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* clang-format on */

const te_module te_module_session = {
    .abi = TE_MODULE_ABI,
    .name = "session",
    .directives = session_directives,
    .create_conf = session_create,
    .finish_conf = session_finish,
    .free_conf = session_free,
    .handlers =
        {
            [TE_PHASE_IDENTIFY] = session_identify,
            [TE_PHASE_POLICY] = session_policy,
        },
    .request_ctx_size = sizeof(session_req),
};

#ifdef TE_DYNAMIC_MODULE
TE_MODULE_EXPORT(te_module_session);
#endif
