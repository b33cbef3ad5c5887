/*
 * auth.c: the policy module's authentication rules (see auth.h).
 *
 * Paths reach the edge as the client wrote them: the edge does not
 * normalise them, the backend may. A rule matched on the raw path could
 * then be dodged by a path that a backend reads as another one
 * ("/docs/../admin", "/admin%2f..", "//admin"), so a path holding dot
 * segments, an empty segment, a backslash or an encoded dot, slash,
 * backslash or percent is judged by the strictest mode configured
 * anywhere, and is never public. Prefixes match whole segments:
 * "/health" covers "/health" and "/health/x", not "/healthz".
 */
#include "auth.h"

#include <string.h>

/* ------------------------------------------------------------- paths */

/* "2e", "2f", "5c" or "25" in either case: the escapes of ".", "/",
 * "\\" and "%" itself. */
static int escape_special(const char *h)
{
    char lo = (char)(h[1] | 0x20);

    return (h[0] == '2' && (lo == 'e' || lo == 'f' || h[1] == '5')) ||
           (h[0] == '5' && lo == 'c');
}

/* 1 when a backend might read <p> (<n> bytes, no query) as another
 * path than the one the rules see. */
static int path_ambiguous(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\')
            return 1;
        if (p[i] == '%' && i + 2 < n && escape_special(p + i + 1))
            return 1;
        if (p[i] != '/')
            continue;

        /* a segment starts here: "", "." or ".." */
        if (i + 1 < n && p[i + 1] == '/')
            return 1;
        if (i + 1 < n && p[i + 1] == '.' &&
            (i + 2 == n || p[i + 2] == '/' ||
             (p[i + 2] == '.' && (i + 3 == n || p[i + 3] == '/'))))
            return 1;
    }
    return 0;
}

/* A prefix as configured: "/" then visible ASCII, no query, fragment or
 * percent, nothing path_ambiguous would flag. */
static int path_valid(const char *p)
{
    size_t n = strlen(p);

    if (n == 0 || n > TE_AUTH_PATH_MAX || p[0] != '/')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c < 0x21 || c > 0x7e || c == '?' || c == '#' || c == '%')
            return 0;
    }
    return !path_ambiguous(p, n);
}

/* <prefix> (<plen> bytes) covers <path> (<n> bytes) segment-wise. */
static int covers(const char *prefix, size_t plen, const char *path, size_t n)
{
    if (n < plen || memcmp(path, prefix, plen) != 0)
        return 0;
    return n == plen || prefix[plen - 1] == '/' || path[plen] == '/';
}

/* ------------------------------------------------------------ config */

static int parse_mode(const char *s, te_auth_mode *mode)
{
    if (strcmp(s, "required") == 0)
        *mode = TE_AUTH_REQUIRED;
    else if (strcmp(s, "optional") == 0)
        *mode = TE_AUTH_OPTIONAL;
    else if (strcmp(s, "off") == 0)
        *mode = TE_AUTH_OFF;
    else
        return -1;
    return 0;
}

int te_auth_set_auth(te_conf_ctx *cx, void *mconf, unsigned argc,
                     const char *const *argv)
{
    te_auth_conf *c = mconf;
    const char *target = argc > 2 ? argv[2] : NULL;
    te_auth_rule *rule;
    te_auth_mode mode;

    if (parse_mode(argv[1], &mode) < 0)
        return te_conf_error(cx, 1,
                             "invalid auth mode \"%s\": expected required, "
                             "optional or off",
                             argv[1]);
    if (target == NULL) {
        if (c->fallback_set)
            return te_conf_error(cx, 0,
                                 "duplicate \"auth\" without a path or "
                                 "product");
        c->fallback = mode;
        c->fallback_set = 1;
        return 0;
    }

    if (target[0] == '/' ? !path_valid(target)
                         : !te_tcs_name_valid(target, strlen(target)))
        return te_conf_error(cx, 2,
                             "invalid auth target \"%s\": expected a path "
                             "starting with \"/\" or a product name",
                             target);
    for (unsigned i = 0; i < c->nrules; i++)
        if (strcmp(c->rules[i].target, target) == 0)
            return te_conf_error(cx, 2, "duplicate \"auth\" rule for \"%s\"",
                                 target);
    if (c->nrules == TE_AUTH_MAX_RULES)
        return te_conf_error(cx, 0, "too many \"auth\" rules (max %d)",
                             TE_AUTH_MAX_RULES);

    rule = &c->rules[c->nrules];
    rule->target = te_conf_strdup(cx, target);
    if (rule->target == NULL)
        return te_conf_error(cx, 0, "out of memory");
    rule->product = target[0] != '/';
    rule->len = strlen(target);
    rule->mode = mode;
    c->nrules++;
    return 0;
}

int te_auth_set_public(te_conf_ctx *cx, void *mconf, unsigned argc,
                       const char *const *argv)
{
    te_auth_conf *c = mconf;

    for (unsigned i = 1; i < argc; i++) {
        const char *p = argv[i];

        if (!path_valid(p))
            return te_conf_error(cx, i,
                                 "invalid public path \"%s\": expected a "
                                 "path starting with \"/\", without query, "
                                 "\"%%\", \"//\" or dot segments",
                                 p);
        for (unsigned j = 0; j < c->npublic; j++)
            if (strcmp(c->public_paths[j], p) == 0)
                return te_conf_error(cx, i, "duplicate public path \"%s\"", p);
        if (c->npublic == TE_AUTH_MAX_PUBLIC)
            return te_conf_error(cx, i, "too many public paths (max %d)",
                                 TE_AUTH_MAX_PUBLIC);
        c->public_paths[c->npublic] = te_conf_strdup(cx, p);
        if (c->public_paths[c->npublic] == NULL)
            return te_conf_error(cx, i, "out of memory");
        c->public_lens[c->npublic++] = strlen(p);
    }
    return 0;
}

int te_auth_finish(te_conf_ctx *cx, te_auth_conf *c)
{
    const char *prefix;

    c->strictest = c->fallback;
    for (unsigned i = 0; i < c->nrules; i++) {
        te_auth_rule *rule = &c->rules[i];

        if (rule->product) {
            if (!te_conf_product_prefix(cx, rule->target, &prefix))
                return te_conf_error(cx, 0,
                                     "unknown product \"%s\" in \"auth\": "
                                     "declare it with \"product\"",
                                     rule->target);
            rule->len = strlen(prefix);
        }
        if (rule->mode > c->strictest)
            c->strictest = rule->mode;
    }
    return 0;
}

/* ---------------------------------------------------------- requests */

te_auth_mode te_auth_mode_of(te_request *r, const te_auth_conf *c)
{
    const char *path, *product = NULL, *q;
    te_auth_mode mode = c->fallback;
    size_t n, best = 0;
    int found = 0;

    if (c->nrules == 0 && c->strictest == TE_AUTH_OFF)
        return TE_AUTH_OFF;
    path = te_request_path(r, &n);
    q = memchr(path, '?', n);
    if (q != NULL)
        n = (size_t)(q - path);
    if (path_ambiguous(path, n))
        return c->strictest;

    for (unsigned i = 0; i < c->npublic; i++)
        if (covers(c->public_paths[i], c->public_lens[i], path, n))
            return TE_AUTH_OFF;

    for (unsigned i = 0; i < c->nrules; i++) {
        const te_auth_rule *rule = &c->rules[i];

        if (rule->product) {
            if (product == NULL)
                product = te_request_product(r);
            if (product == NULL || strcmp(product, rule->target) != 0)
                continue;
        } else if (!covers(rule->target, rule->len, path, n)) {
            continue;
        }
        /* the longest prefix wins; at equal length, the stricter */
        if (!found || rule->len > best ||
            (rule->len == best && rule->mode > mode)) {
            mode = rule->mode;
            best = rule->len;
            found = 1;
        }
    }
    return mode;
}
