/*
 * tenantctl_conf.c: what tenantctl takes from the edge's configuration.
 *
 * `-c EDGE.conf` is read by the edge's own loader (te_config_load), with
 * its include files, blocks and every check `tenantedge -t` makes, so
 * that the operator's tool and the edge cannot disagree about which
 * Redis, which database, which password and which key prefix hold the
 * tenants, nor about what a token must carry (the jwt module's issuer,
 * audience and tenant claim). A config the edge would refuse is refused
 * here with the same file:line:col message; nothing is guessed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "module.h"
#include "tcs_context.h"
#include "tenantctl.h"

#include "../modules/jwt/jwt.h"

#define DEFAULT_HOST   "127.0.0.1"
#define DEFAULT_PORT   6379
#define DEFAULT_PREFIX "tcs:"

/* Splits "HOST:PORT" or "[V6]:PORT" into <host> and <port>. -1 if it is
 * neither. */
int te_ctl_parse_addr(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(s, ':');
    const char *h = s, *hend = colon;
    char *end;
    long p;

    if (colon == NULL)
        return -1;
    if (s[0] == '[') {
        h = s + 1;
        hend = strchr(s, ']');
        if (hend == NULL || hend + 1 != colon)
            return -1;
    }
    if (hend <= h || (size_t)(hend - h) >= hostlen)
        return -1;

    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || p < 1 || p > 65535)
        return -1;

    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    *port = (int)p;
    return 0;
}

te_config *te_ctl_conf_load(const char *path)
{
    char err[1024];
    te_config *cf;

    err[0] = '\0';
    cf = te_config_load(path, err, sizeof(err));
    if (cf == NULL)
        te_ctl_complain("%s", err[0] ? err : "cannot load the config");
    return cf;
}

static const char *store_name(int store)
{
    switch (store) {
    case TE_TCS_STORE_STATIC:
        return "static";
    case TE_TCS_STORE_FILE:
        return "file";
    default:
        return "redis";
    }
}

int te_ctl_target_init(struct te_ctl_target *tg, const te_config *cf,
                       const struct te_ctl_options *o)
{
    memset(tg, 0, sizeof(*tg));
    tg->conf = o->conf;
    tg->have_addr = 1;
    tg->store_redis = 1;
    snprintf(tg->host, sizeof(tg->host), "%s", DEFAULT_HOST);
    tg->port = DEFAULT_PORT;
    tg->prefix = DEFAULT_PREFIX;

    if (cf != NULL) {
        tg->store_redis = cf->tcs_store == TE_TCS_STORE_REDIS;
        tg->store = store_name(cf->tcs_store);
        tg->have_addr = cf->redis_host != NULL;
        if (cf->redis_host != NULL) {
            /* numeric, checked by the loader; brackets dropped */
            snprintf(tg->host, sizeof(tg->host), "%s", cf->redis_host);
            tg->port = (int)cf->redis_port;
        }
        tg->password = cf->redis_password;
        tg->db = cf->redis_database;
        tg->prefix = cf->tcs_prefix;
    }

    if (o->addr != NULL) {
        int rc =
            te_ctl_parse_addr(o->addr, tg->host, sizeof(tg->host), &tg->port);

        if (rc < 0) {
            te_ctl_complain("-r %s: expected HOST:PORT", o->addr);
            return -1;
        }
        tg->have_addr = 1;
    }
    if (o->password != NULL)
        tg->password = o->password;
    if (o->db != NULL)
        tg->db = (unsigned)strtoul(o->db, NULL, 10); /* checked digits */
    if (o->prefix != NULL)
        tg->prefix = o->prefix;
    return 0;
}

/* Copies <s> into <out> of <outlen> bytes; -1 when it does not fit. */
static int copy_value(const char *path, const char *what, const char *s,
                      char *out, size_t outlen)
{
    if (strlen(s) >= outlen) {
        te_ctl_complain("%s: jwt %s value too long", path, what);
        return -1;
    }
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

/* 1 when <m> is the jwt module of this tree: the built-in one, or the
 * same source loaded with load_module (jwt.so, whose conf has the same
 * layout), recognised by its directive table. Any other module that
 * took the name is not read as one. */
static int is_our_jwt(const te_module *m)
{
    const te_directive *a = m->directives, *b = te_module_jwt.directives;

    if (m == &te_module_jwt)
        return 1;
    if (strcmp(m->name, "jwt") != 0 || m->abi != TE_MODULE_ABI || a == NULL)
        return 0;
    for (; a->name != NULL && b->name != NULL; a++, b++) {
        if (strcmp(a->name, b->name) != 0)
            return 0;
    }
    return a->name == NULL && b->name == NULL;
}

/*
 * The jwt module's conf is reached through the snapshot's module registry
 * (te_chainconf): the entry named jwt that a `module jwt { }` block
 * configured. Its conf was finished by the loader, so it holds exactly
 * what the edge verifies against.
 */
int te_ctl_conf_jwt(const te_config *cf, const char *path,
                    struct te_ctl_jwt_conf *jc)
{
    const te_chainconf *cc = cf->chain;
    const te_jwt_conf *c = NULL;

    for (unsigned i = 0; cc != NULL && i < cc->nmods; i++) {
        const te_mod_entry *me = cc->mods[i];

        if (me->block && me->conf != NULL && is_our_jwt(me->m)) {
            c = me->conf;
            break;
        }
    }
    if (c == NULL) {
        te_ctl_complain("%s: no module jwt block", path);
        return -1;
    }

    if (c->nissuers > 0 && copy_value(path, "issuer", c->issuers[0], jc->issuer,
                                      sizeof(jc->issuer)) < 0)
        return -1;
    if (c->audience != NULL &&
        copy_value(path, "audience", c->audience, jc->audience,
                   sizeof(jc->audience)) < 0)
        return -1;
    if (c->tenant_claim != NULL &&
        copy_value(path, "tenant_claim", c->tenant_claim, jc->tenant_claim,
                   sizeof(jc->tenant_claim)) < 0)
        return -1;
    return 0;
}
