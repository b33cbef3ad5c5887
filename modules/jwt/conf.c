/*
 * conf.c: the jwt module's directives (docs/configuration.md, "jwt").
 *
 * Everything is checked at load, so that `tenantedge -t` names a bad
 * key file, a missing issuer or an incomplete service rule with its
 * file:line:col, and a running edge never meets them: the key files are
 * read and every key built here once (the watcher rebuilds them on
 * change, see reload.c).
 */
#include "jwt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Defaults, in docs/configuration.md too. */
#define DEFAULT_TENANT_CLAIM "tenant"
#define DEFAULT_LEEWAY_MS    60000
#define DEFAULT_MAX_TOKEN    (8u << 10)
#define DEFAULT_MAX_DEPTH    8
#define DEFAULT_CACHE        10000

#define MAX_LEEWAY_MS  600000
#define MIN_TOKEN_SIZE 256
#define MAX_DEPTH      64
#define MAX_CACHE      1000000
#define MAX_LIST       256 /* issuers, rules, words of one list */

void *te_jwt_create_conf(void)
{
    te_jwt_conf *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->tenant_claim = DEFAULT_TENANT_CLAIM;
    c->leeway_ms = DEFAULT_LEEWAY_MS;
    c->max_token_size = DEFAULT_MAX_TOKEN;
    c->max_depth = DEFAULT_MAX_DEPTH;
    c->cache = DEFAULT_CACHE;
    return c;
}

void te_jwt_free_conf(void *mconf)
{
    te_jwt_conf *c = mconf;

    if (c == NULL)
        return;
    te_jwt_source_free(c->src);
    for (unsigned i = 0; i < c->nscopes; i++)
        free(c->scopes[i].scopes);
    for (unsigned i = 0; i < c->nallows; i++) {
        free(c->allows[i].methods);
        free(c->allows[i].paths);
    }
    free(c->scopes);
    free(c->allows);
    free(c->issuers);
    free(c->service_issuers);
    free(c);
}

/* ------------------------------------------------------------ helpers */

/* Appends the snapshot copies of words to *list (n entries). */
static int add_words(te_conf_ctx *cx, const char ***list, unsigned *n,
                     unsigned argc, const char *const *argv, unsigned from)
{
    const char **arr;

    if (*n + (argc - from) > MAX_LIST)
        return te_conf_error(cx, 0, "more than %d values", MAX_LIST);
    arr = realloc(*list, (*n + (argc - from)) * sizeof(*arr));
    if (arr == NULL)
        return te_conf_error(cx, 0, "out of memory");
    *list = arr;
    for (unsigned i = from; i < argc; i++) {
        arr[*n] = te_conf_strdup(cx, argv[i]);
        if (arr[*n] == NULL)
            return te_conf_error(cx, i, "out of memory");
        (*n)++;
    }
    return 0;
}

/* RFC 9110 5.1: a field name is a token. */
static int is_token(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s)))
            return 0;
    return 1;
}

/* A file path relative to the configuration file's folder. */
static const char *file_path(te_conf_ctx *cx, unsigned argi, const char *p)
{
    const char *dir;
    char *joined;
    const char *out;
    size_t n;

    if (p[0] == '/')
        return te_conf_strdup(cx, p);
    dir = te_conf_dir(cx);
    if (dir == NULL) {
        te_conf_error(cx, argi,
                      "a relative path needs a configuration "
                      "file");
        return NULL;
    }
    n = strlen(dir) + strlen(p) + 1;
    joined = malloc(n);
    if (joined == NULL)
        return NULL;
    snprintf(joined, n, "%s%s", dir, p);
    out = te_conf_strdup(cx, joined);
    free(joined);
    return out;
}

static int once(te_conf_ctx *cx, bool *set)
{
    if (*set)
        return te_conf_error(cx, 0, "duplicate directive");
    *set = true;
    return 0;
}

/* ---------------------------------------------------------- setters */

static int set_jwks(te_conf_ctx *cx, void *mconf, unsigned argc,
                    const char *const *argv)
{
    te_jwt_conf *c = mconf;

    if (c->jwks != NULL)
        return te_conf_error(cx, 0, "duplicate directive");
    c->jwks = file_path(cx, 1, argv[1]);
    return c->jwks != NULL ? 0 : -1;
}

/* hmac_secret PATH [kid K] */
static int set_hmac_secret(te_conf_ctx *cx, void *mconf, unsigned argc,
                           const char *const *argv)
{
    te_jwt_conf *c = mconf;

    if (c->hmac_secret != NULL)
        return te_conf_error(cx, 0, "duplicate directive");
    if (argc == 3 || (argc == 4 && strcmp(argv[2], "kid") != 0))
        return te_conf_error(cx, 2, "expected \"kid NAME\" after the path");
    if (argc == 4 && (argv[3][0] == '\0' || strlen(argv[3]) > TE_JWT_MAX_KID))
        return te_conf_error(cx, 3, "a kid is 1 to %d bytes", TE_JWT_MAX_KID);
    c->hmac_secret = file_path(cx, 1, argv[1]);
    if (c->hmac_secret == NULL)
        return -1;
    if (argc == 4 && (c->hmac_kid = te_conf_strdup(cx, argv[3])) == NULL)
        return te_conf_error(cx, 3, "out of memory");
    return 0;
}

static int set_issuer(te_conf_ctx *cx, void *mconf, unsigned argc,
                      const char *const *argv)
{
    te_jwt_conf *c = mconf;

    if (strcmp(argv[0], "service_issuer") == 0)
        return add_words(cx, &c->service_issuers, &c->nservice_issuers, argc,
                         argv, 1);
    return add_words(cx, &c->issuers, &c->nissuers, argc, argv, 1);
}

static int set_audience(te_conf_ctx *cx, void *mconf, unsigned argc,
                        const char *const *argv)
{
    te_jwt_conf *c = mconf;

    if (c->audience != NULL)
        return te_conf_error(cx, 0, "duplicate directive");
    c->audience = te_conf_strdup(cx, argv[1]);
    return c->audience != NULL ? 0 : te_conf_error(cx, 1, "out of memory");
}

static int set_tenant_claim(te_conf_ctx *cx, void *mconf, unsigned argc,
                            const char *const *argv)
{
    te_jwt_conf *c = mconf;

    if (once(cx, &c->tenant_claim_set) < 0)
        return -1;
    if (argv[1][0] == '\0')
        return te_conf_error(cx, 1, "an empty claim name");
    c->tenant_claim = te_conf_strdup(cx, argv[1]);
    return c->tenant_claim != NULL ? 0 : te_conf_error(cx, 1, "out of memory");
}

static int set_leeway(te_conf_ctx *cx, void *mconf, unsigned argc,
                      const char *const *argv)
{
    te_jwt_conf *c = mconf;

    if (once(cx, &c->leeway_set) < 0 ||
        te_conf_duration(cx, 1, argv[1], &c->leeway_ms) < 0)
        return -1;
    if (c->leeway_ms > MAX_LEEWAY_MS)
        return te_conf_error(cx, 1, "leeway above 10m");
    return 0;
}

static int set_max_token_size(te_conf_ctx *cx, void *mconf, unsigned argc,
                              const char *const *argv)
{
    te_jwt_conf *c = mconf;

    if (once(cx, &c->max_token_size_set) < 0 ||
        te_conf_size(cx, 1, argv[1], &c->max_token_size) < 0)
        return -1;
    if (c->max_token_size < MIN_TOKEN_SIZE ||
        c->max_token_size > TE_JWT_MAX_TOKEN)
        return te_conf_error(cx, 1,
                             "max_token_size must be between %d and "
                             "%uk",
                             MIN_TOKEN_SIZE, TE_JWT_MAX_TOKEN >> 10);
    return 0;
}

static int set_max_json_depth(te_conf_ctx *cx, void *mconf, unsigned argc,
                              const char *const *argv)
{
    te_jwt_conf *c = mconf;

    if (once(cx, &c->max_depth_set) < 0)
        return -1;
    return te_conf_uint(cx, 1, argv[1], 2, MAX_DEPTH, &c->max_depth);
}

static int set_cache(te_conf_ctx *cx, void *mconf, unsigned argc,
                     const char *const *argv)
{
    te_jwt_conf *c = mconf;

    if (once(cx, &c->cache_set) < 0)
        return -1;
    return te_conf_uint(cx, 1, argv[1], 0, MAX_CACHE, &c->cache);
}

/* scope PRODUCT SCOPE... */
static int set_scope(te_conf_ctx *cx, void *mconf, unsigned argc,
                     const char *const *argv)
{
    te_jwt_conf *c = mconf;
    te_jwt_scope_rule *arr, *rule;

    for (unsigned i = 0; i < c->nscopes; i++)
        if (strcmp(c->scopes[i].product, argv[1]) == 0)
            return te_conf_error(cx, 1,
                                 "scopes for product \"%s\" already "
                                 "given",
                                 argv[1]);
    for (unsigned i = 2; i < argc; i++)
        if (argv[i][0] == '\0' || strpbrk(argv[i], " \"\\") != NULL)
            return te_conf_error(cx, i, "not a scope token");
    if (c->nscopes == MAX_LIST)
        return te_conf_error(cx, 0, "more than %d scope rules", MAX_LIST);
    arr = realloc(c->scopes, (c->nscopes + 1) * sizeof(*arr));
    if (arr == NULL)
        return te_conf_error(cx, 0, "out of memory");
    c->scopes = arr;
    rule = &arr[c->nscopes++];
    memset(rule, 0, sizeof(*rule));
    rule->product = te_conf_strdup(cx, argv[1]);
    if (rule->product == NULL)
        return te_conf_error(cx, 1, "out of memory");
    return add_words(cx, &rule->scopes, &rule->nscopes, argc, argv, 2);
}

/* allow service NAME { methods ...; paths ...; }: the setter opens the
 * rule, the block's directives fill the last one. */
static int set_allow(te_conf_ctx *cx, void *mconf, unsigned argc,
                     const char *const *argv)
{
    te_jwt_conf *c = mconf;
    te_jwt_allow_rule *arr, *rule;

    if (strcmp(argv[1], "service") != 0)
        return te_conf_error(cx, 1, "expected \"service NAME\"");
    if (c->nallows == MAX_LIST)
        return te_conf_error(cx, 0, "more than %d allow rules", MAX_LIST);
    arr = realloc(c->allows, (c->nallows + 1) * sizeof(*arr));
    if (arr == NULL)
        return te_conf_error(cx, 0, "out of memory");
    c->allows = arr;
    rule = &arr[c->nallows++];
    memset(rule, 0, sizeof(*rule));
    rule->service = te_conf_strdup(cx, argv[2]);
    return rule->service != NULL ? 0 : te_conf_error(cx, 2, "out of memory");
}

static int set_allow_methods(te_conf_ctx *cx, void *mconf, unsigned argc,
                             const char *const *argv)
{
    te_jwt_conf *c = mconf;
    te_jwt_allow_rule *rule = &c->allows[c->nallows - 1];

    for (unsigned i = 1; i < argc; i++)
        if (!is_token(argv[i]))
            return te_conf_error(cx, i, "not a method");
    return add_words(cx, &rule->methods, &rule->nmethods, argc, argv, 1);
}

static int set_allow_paths(te_conf_ctx *cx, void *mconf, unsigned argc,
                           const char *const *argv)
{
    te_jwt_conf *c = mconf;
    te_jwt_allow_rule *rule = &c->allows[c->nallows - 1];

    for (unsigned i = 1; i < argc; i++)
        if (argv[i][0] != '/')
            return te_conf_error(cx, i, "a path prefix starts with /");
    return add_words(cx, &rule->paths, &rule->npaths, argc, argv, 1);
}

static int set_principal_headers(te_conf_ctx *cx, void *mconf, unsigned argc,
                                 const char *const *argv)
{
    te_jwt_conf *c = mconf;

    return once(cx, &c->headers_set);
}

/* user H; kind H; scopes H; inside principal_headers: an alias of the
 * core's top-level principal_headers block, which every identity
 * module's principal reaches the backend in. */
static int set_principal_header(te_conf_ctx *cx, void *mconf, unsigned argc,
                                const char *const *argv)
{
    (void)mconf;
    (void)argc;
    return te_conf_principal_header(cx, 1, argv[0], argv[1]);
}

static const te_directive allow_block[] = {
    {"methods", 1, TE_DIR_ARGS_ANY, 0, set_allow_methods, NULL},
    {"paths", 1, TE_DIR_ARGS_ANY, 0, set_allow_paths, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const te_directive headers_block[] = {
    {"user", 1, 1, 0, set_principal_header, NULL},
    {"kind", 1, 1, 0, set_principal_header, NULL},
    {"scopes", 1, 1, 0, set_principal_header, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

const te_directive te_jwt_directives[] = {
    {"jwks", 1, 1, 0, set_jwks, NULL},
    {"hmac_secret", 1, 3, 0, set_hmac_secret, NULL},
    {"issuer", 1, TE_DIR_ARGS_ANY, 0, set_issuer, NULL},
    {"service_issuer", 1, TE_DIR_ARGS_ANY, 0, set_issuer, NULL},
    {"audience", 1, 1, 0, set_audience, NULL},
    {"tenant_claim", 1, 1, 0, set_tenant_claim, NULL},
    {"leeway", 1, 1, 0, set_leeway, NULL},
    {"max_token_size", 1, 1, 0, set_max_token_size, NULL},
    {"max_json_depth", 1, 1, 0, set_max_json_depth, NULL},
    {"cache", 1, 1, 0, set_cache, NULL},
    {"scope", 2, TE_DIR_ARGS_ANY, 0, set_scope, NULL},
    {"allow", 2, 2, TE_DIR_BLOCK, set_allow, allow_block},
    {"principal_headers", 0, 0, TE_DIR_BLOCK, set_principal_headers,
     headers_block},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* ------------------------------------------------------------- finish */

/* Issuers are trusted for users or for services, never both: the list
 * an issuer is on decides the kind of caller. */
static int check_issuers(te_conf_ctx *cx, const te_jwt_conf *c)
{
    if (c->nissuers == 0 && c->nservice_issuers == 0)
        return te_conf_error(cx, 0, "module jwt needs \"issuer\"");
    for (unsigned i = 0; i < c->nissuers; i++)
        for (unsigned j = 0; j < c->nservice_issuers; j++)
            if (strcmp(c->issuers[i], c->service_issuers[j]) == 0)
                return te_conf_error(cx, 0,
                                     "\"%s\" is both an issuer and "
                                     "a service_issuer",
                                     c->issuers[i]);
    return 0;
}

/* Every service rule says what it allows. */
static int check_rules(te_conf_ctx *cx, const te_jwt_conf *c)
{
    for (unsigned i = 0; i < c->nallows; i++)
        if (c->allows[i].nmethods == 0 || c->allows[i].npaths == 0)
            return te_conf_error(cx, 0,
                                 "allow service %s needs \"methods\" "
                                 "and \"paths\"",
                                 c->allows[i].service);
    return 0;
}

int te_jwt_finish_conf(te_conf_ctx *cx, void *mconf)
{
    te_jwt_conf *c = mconf;
    char err[512];

    if (c->jwks == NULL && c->hmac_secret == NULL)
        return te_conf_error(cx, 0,
                             "module jwt needs \"jwks\" or "
                             "\"hmac_secret\"");
    if (c->audience == NULL)
        return te_conf_error(cx, 0, "module jwt needs \"audience\"");
    if (check_issuers(cx, c) < 0 || check_rules(cx, c) < 0)
        return -1;

    c->rules = (te_jwt_claim_rules){
        .issuers = c->issuers,
        .nissuers = c->nissuers,
        .service_issuers = c->service_issuers,
        .nservice_issuers = c->nservice_issuers,
        .audience = c->audience,
        .tenant_claim = c->tenant_claim,
        .leeway = c->leeway_ms / 1000,
    };
    c->limits = (te_jwt_limits){(size_t)c->max_token_size, c->max_depth};

    /* Keys are read and built now: a bad file fails the load. */
    c->src = te_jwt_source_new(c->jwks, c->hmac_secret, c->hmac_kid, err,
                               sizeof(err));
    if (c->src == NULL)
        return te_conf_error(cx, 0, "%s", err);
    return 0;
}
