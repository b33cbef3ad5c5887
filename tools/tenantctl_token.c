/*
 * tenantctl_token.c: `tenantctl token`, a signed JWT for one site.
 *
 *   tenantctl [-c EDGE.conf] [-r HOST:PORT] token --site S --key FILE
 *       [--kid K] [--ttl 15m] [--claim k=v | --claim k:=JSON ...]
 *       [--tenant T] [--iss I] [--aud A] [--sub SUBJECT]
 *       [--alg RS256|ES256|HS256|...]
 *
 * For the demo, the tests and operators checking a deployment: the
 * token carries what the edge's jwt module checks, taken from the same
 * places the edge takes them: the tenant id from Redis (the site's
 * <prefix>site:<site> key, where -c or -p says) unless --tenant, the
 * issuer, audience and tenant claim name from the edge's `module jwt { }`
 * block, as the edge's loader read it (-c), unless --iss, --aud.
 * --claim adds or replaces any claim, `k=v` as a string, `k:=v` as JSON
 * (`--claim exp:=0` mints an expired token).
 *
 * Signing is libjwt's, which does it correctly; verification never is
 * (LIBRARIES.md 1). libjwt with an empty key signs nothing and checks
 * nothing, so an empty or unreadable key file is refused here.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <jwt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "tcs_context.h"
#include "tenantctl.h"

#define MAX_KEY_FILE  (64 << 10)
#define MAX_TTL_S     (30L * 24 * 3600)
#define DEFAULT_TTL_S (15L * 60)
#define DEFAULT_SUB   "tenantctl"
#define MAX_CLAIMS    64

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2 };

struct token_args {
    const char *site, *key, *kid, *ttl, *tenant, *iss, *aud, *sub, *alg;
    const char *claims[MAX_CLAIMS];
    unsigned nclaims;
};

static int __attribute__((format(printf, 1, 2)))
usage_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("tenantctl: token: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nusage: tenantctl [-c EDGE.conf] [-r HOST:PORT] token --site S "
          "--key FILE [--kid K]\n"
          "         [--ttl 15m] [--claim k=v|k:=JSON ...] [--tenant T] "
          "[--iss I] [--aud A]\n"
          "         [--sub SUBJECT] [--alg RS256|ES256|HS256|...]\n",
          stderr);
    return EXIT_USAGE;
}

/* "--name value" or "--name=value" into *slot; 1 taken, 0 not this
 * option, -1 missing value. */
static int take(int argc, char **argv, int *i, const char *name,
                const char **slot)
{
    const char *arg = argv[*i] + 2;
    size_t n = strlen(name);

    if (strncmp(arg, name, n) != 0 || (arg[n] != '\0' && arg[n] != '='))
        return 0;
    if (arg[n] == '=') {
        *slot = arg + n + 1;
        return 1;
    }
    if (*i + 1 >= argc)
        return -1;
    *slot = argv[++*i];
    return 1;
}

static int parse(int argc, char **argv, struct token_args *a)
{
    static const char *const names[] = {"site", "key", "kid", "ttl", "tenant",
                                        "iss",  "aud", "sub", "alg"};
    const char **slots[] = {&a->site, &a->key, &a->kid, &a->ttl, &a->tenant,
                            &a->iss,  &a->aud, &a->sub, &a->alg};
    int rc;

    memset(a, 0, sizeof(*a));
    for (int i = 0; i < argc; i++) {
        const char *claim = NULL;
        size_t k;

        if (strncmp(argv[i], "--", 2) != 0)
            return usage_fail("unexpected argument %s", argv[i]);
        rc = take(argc, argv, &i, "claim", &claim);
        if (rc < 0)
            return usage_fail("%s needs a value", argv[i]);
        if (rc > 0) {
            const char *eq = strchr(claim, '=');

            if (eq == NULL || eq == claim || (eq == claim + 1 && *claim == ':'))
                return usage_fail("--claim %s: expected NAME=VALUE or "
                                  "NAME:=JSON",
                                  claim);
            if (a->nclaims == MAX_CLAIMS)
                return usage_fail("more than %d claims", MAX_CLAIMS);
            a->claims[a->nclaims++] = claim;
            continue;
        }
        for (k = 0, rc = 0; k < sizeof(names) / sizeof(names[0]); k++) {
            const char *v = NULL;

            rc = take(argc, argv, &i, names[k], &v);
            if (rc > 0 && *slots[k] != NULL)
                return usage_fail("--%s given twice", names[k]);
            if (rc > 0) {
                *slots[k] = v;
                break;
            }
            if (rc < 0)
                break;
        }
        if (rc < 0)
            return usage_fail("%s needs a value", argv[i]);
        if (rc == 0)
            return usage_fail("unknown option %s", argv[i]);
    }
    if (a->key == NULL)
        return usage_fail("--key is required");
    if (a->site == NULL && a->tenant == NULL)
        return usage_fail("--site is required (or --tenant)");
    if (a->site != NULL && !te_tcs_site_valid(a->site, strlen(a->site)))
        return usage_fail("%s: a site is one lowercase DNS label", a->site);
    return 0;
}

/* "15m", "1h", "90s", "90": seconds, 1..MAX_TTL_S; -1 when invalid. */
static long parse_ttl(const char *s)
{
    char *end;
    long n, unit = 1;

    errno = 0;
    n = strtol(s, &end, 10);
    if (errno != 0 || end == s || n <= 0)
        return -1;
    if (strcmp(end, "m") == 0)
        unit = 60;
    else if (strcmp(end, "h") == 0)
        unit = 3600;
    else if (strcmp(end, "d") == 0)
        unit = 86400;
    else if (*end != '\0' && strcmp(end, "s") != 0)
        return -1;
    if (n > MAX_TTL_S / unit)
        return -1;
    return n * unit;
}

/* The whole key file; never empty (libjwt would then verify and sign
 * nothing). */
static unsigned char *read_key(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t n;

    if (f == NULL) {
        te_ctl_complain("cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(MAX_KEY_FILE + 1);
    if (buf == NULL) {
        te_ctl_complain("out of memory");
        goto done;
    }
    n = fread(buf, 1, MAX_KEY_FILE + 1, f);
    if (ferror(f) || n == 0 || n > MAX_KEY_FILE) {
        te_ctl_complain("%s: %s", path,
                        ferror(f) ? "read error"
                        : n == 0  ? "empty key file, refused"
                                  : "larger than 64 KiB");
        free(buf);
        buf = NULL;
        goto done;
    }
    buf[n] = '\0';
    *len = n;

done:
    fclose(f);
    return buf;
}

/* The tenant id of site from Redis (<prefix>site:<site>). 0 or -1. */
static int lookup_tenant(const struct te_ctl_target *tg, const char *site,
                         char *out, size_t outlen)
{
    redisContext *c = te_ctl_connect(tg);
    redisReply *r;
    int rc = -1;

    if (c == NULL)
        return -1;
    r = redisCommand(c, "GET %ssite:%s", tg->prefix, site);
    if (r == NULL) {
        te_ctl_complain("redis: %s", c->errstr[0] ? c->errstr : "no reply");
    } else if (r->type == REDIS_REPLY_NIL) {
        te_ctl_complain("no such site: %s", site);
    } else if (r->type != REDIS_REPLY_STRING ||
               !te_tcs_id_valid(r->str, r->len) || r->len >= outlen) {
        te_ctl_complain("site %s: malformed tenant id in redis", site);
    } else {
        memcpy(out, r->str, r->len + 1);
        rc = 0;
    }
    if (r != NULL)
        freeReplyObject(r);
    redisFree(c);
    return rc;
}

/* 16 random bytes as hex: the token's jti. */
static int new_jti(char *out)
{
    unsigned char b[16];

    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        te_ctl_complain("cannot make a jti: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    return 0;
}

/* The claims: the standard set, then each --claim over it. */
static json_t *build_claims(const struct token_args *a, const char *iss,
                            const char *aud, const char *tenant_claim,
                            const char *tenant, long ttl)
{
    json_t *c = json_object();
    char jti[33];
    long now = (long)time(NULL);

    if (c == NULL || new_jti(jti) < 0)
        goto fail;
    if (json_object_set_new(c, "iss", json_string(iss)) < 0 ||
        json_object_set_new(c, "aud", json_string(aud)) < 0 ||
        json_object_set_new(c, "sub",
                            json_string(a->sub ? a->sub : DEFAULT_SUB)) < 0 ||
        json_object_set_new(c, tenant_claim, json_string(tenant)) < 0 ||
        json_object_set_new(c, "iat", json_integer(now)) < 0 ||
        json_object_set_new(c, "nbf", json_integer(now)) < 0 ||
        json_object_set_new(c, "exp", json_integer(now + ttl)) < 0 ||
        json_object_set_new(c, "jti", json_string(jti)) < 0)
        goto fail;

    for (unsigned i = 0; i < a->nclaims; i++) {
        const char *eq = strchr(a->claims[i], '='); /* checked by parse */
        json_t *v;
        char *name;

        if (eq[-1] == ':' && eq - 1 > a->claims[i])
            v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
        else
            v = json_string(eq + 1);
        if (v == NULL) {
            te_ctl_complain("--claim %s: not JSON (or not UTF-8)",
                            a->claims[i]);
            goto fail;
        }
        name = strndup(a->claims[i],
                       (size_t)(eq - a->claims[i]) - (eq[-1] == ':' ? 1 : 0));
        if (name == NULL || json_object_set_new(c, name, v) < 0) {
            free(name);
            goto fail;
        }
        free(name);
    }
    return c;

fail:
    json_decref(c);
    return NULL;
}

/* Signs claims with key under alg (kid in the header if given). A new
 * string, or NULL. */
static char *sign(json_t *claims, jwt_alg_t alg, const unsigned char *key,
                  size_t keylen, const char *kid)
{
    char *text = json_dumps(claims, JSON_COMPACT);
    jwt_t *jwt = NULL;
    char *out = NULL;

    if (text == NULL || keylen == 0 || jwt_new(&jwt) != 0)
        goto done;
    if (jwt_add_grants_json(jwt, text) != 0 ||
        (kid != NULL && jwt_add_header(jwt, "kid", kid) != 0) ||
        jwt_set_alg(jwt, alg, key, (int)keylen) != 0)
        goto done;
    out = jwt_encode_str(jwt);

done:
    jwt_free(jwt);
    free(text);
    return out;
}

int te_ctl_token(int argc, char **argv, const struct te_config *cf,
                 const struct te_ctl_target *tg)
{
    struct te_ctl_jwt_conf jc;
    struct token_args a;
    char tenant[TE_TCS_ID_MAX + 1];
    const char *iss, *aud;
    unsigned char *key = NULL;
    json_t *claims = NULL;
    jwt_alg_t alg;
    size_t keylen = 0;
    char *tok = NULL;
    long ttl;
    int rc;

    rc = parse(argc, argv, &a);
    if (rc != 0)
        return rc;
    ttl = parse_ttl(a.ttl != NULL ? a.ttl : "15m");
    if (ttl < 0)
        return usage_fail("--ttl %s: a duration of 1s to 30d", a.ttl);
    alg = a.alg != NULL ? jwt_str_alg(a.alg) : JWT_ALG_NONE;
    if (a.alg != NULL && (alg == JWT_ALG_NONE || alg == JWT_ALG_INVAL))
        return usage_fail("--alg %s: RS256/384/512, ES256/384/512 or "
                          "HS256/384/512",
                          a.alg);

    /* What the edge checks, from its own config. */
    memset(&jc, 0, sizeof(jc));
    strcpy(jc.tenant_claim, "tenant");
    if (cf != NULL && te_ctl_conf_jwt(cf, tg->conf, &jc) < 0)
        return EXIT_REFUSED;
    iss = a.iss != NULL ? a.iss : jc.issuer[0] ? jc.issuer : NULL;
    aud = a.aud != NULL ? a.aud : jc.audience[0] ? jc.audience : NULL;
    if (iss == NULL || aud == NULL)
        return usage_fail("no issuer or audience: give -c EDGE.conf (module "
                          "jwt) or --iss and --aud");

    if (a.tenant != NULL) {
        if (!te_tcs_id_valid(a.tenant, strlen(a.tenant)))
            return usage_fail("--tenant %s: ids are [A-Za-z0-9._-]", a.tenant);
        snprintf(tenant, sizeof(tenant), "%s", a.tenant);
    } else if (lookup_tenant(tg, a.site, tenant, sizeof(tenant)) < 0) {
        return EXIT_REFUSED;
    }

    rc = EXIT_REFUSED;
    key = read_key(a.key, &keylen);
    if (key == NULL)
        goto done;
    claims = build_claims(&a, iss, aud, jc.tenant_claim, tenant, ttl);
    if (claims == NULL)
        goto done;

    /* A PEM key is RSA unless it signs only as EC; anything else is an
     * HMAC secret. */
    if (a.alg == NULL && strstr((char *)key, "-----BEGIN") != NULL) {
        tok = sign(claims, JWT_ALG_RS256, key, keylen, a.kid);
        if (tok == NULL)
            tok = sign(claims, JWT_ALG_ES256, key, keylen, a.kid);
    } else {
        tok = sign(claims, a.alg != NULL ? alg : JWT_ALG_HS256, key, keylen,
                   a.kid);
    }
    if (tok == NULL) {
        te_ctl_complain("libjwt could not sign with %s (wrong --alg for "
                        "this key?)",
                        a.key);
        goto done;
    }
    puts(tok);
    rc = EXIT_SUCCESS;

done:
    free(tok);
    json_decref(claims);
    if (key != NULL) {
        memset(key, 0, keylen);
        free(key);
    }
    return rc;
}
