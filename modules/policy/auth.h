/*
 * auth.h: the policy module's authentication rules: which paths need a
 * caller proven by an identity module (session, jwt).
 *
 *     module policy {
 *         auth required;              # the default for every path
 *         auth optional /docs/;       # a path prefix
 *         auth off wiki;              # a product (`product wiki /wiki/;`)
 *         public_paths /health /login;
 *     }
 *
 * The rule of a request is the one with the longest prefix that matches
 * its path, a product rule counting with its product's prefix; without
 * any `auth` directive every path is off, as before these rules existed.
 * Public paths never need a caller. Kept apart from policy.c, which says
 * what tenants may do, so that each reads on its own.
 */
#ifndef TE_POLICY_AUTH_H
#define TE_POLICY_AUTH_H

#include <stddef.h>

#include <tenantedge/module.h>

#define TE_AUTH_MAX_RULES  64
#define TE_AUTH_MAX_PUBLIC 64
#define TE_AUTH_PATH_MAX   1024

typedef enum te_auth_mode {
    TE_AUTH_OFF = 0,  /* no identity checks by the policy */
    TE_AUTH_OPTIONAL, /* a caller is not needed; one that is proven must
                         be the site's tenant's */
    TE_AUTH_REQUIRED  /* no caller: 401 */
} te_auth_mode;

typedef struct te_auth_rule {
    const char *target; /* a path prefix, or a product name */
    size_t len;         /* the prefix's length (a product's, once known) */
    int product;        /* target names a product */
    te_auth_mode mode;
} te_auth_rule;

typedef struct te_auth_conf {
    te_auth_mode fallback; /* `auth MODE;`, off unless given */
    int fallback_set;
    te_auth_mode strictest; /* for paths that rules cannot judge */
    te_auth_rule rules[TE_AUTH_MAX_RULES];
    unsigned nrules;
    const char *public_paths[TE_AUTH_MAX_PUBLIC];
    size_t public_lens[TE_AUTH_MAX_PUBLIC];
    unsigned npublic;
} te_auth_conf;

/* The setters of `auth MODE [TARGET];` and `public_paths PATH...;`,
 * for the module's directive table; mconf is the te_auth_conf. */
int te_auth_set_auth(te_conf_ctx *cx, void *mconf, unsigned argc,
                     const char *const *argv);
int te_auth_set_public(te_conf_ctx *cx, void *mconf, unsigned argc,
                       const char *const *argv);

/* Once the file is read: product rules resolved to their prefixes (an
 * unknown product is an error), the strictest mode worked out. 0 or -1
 * after te_conf_error. */
int te_auth_finish(te_conf_ctx *cx, te_auth_conf *c);

/* The mode for r's path. */
te_auth_mode te_auth_mode_of(te_request *r, const te_auth_conf *c);

#endif
