/*
 * tenantctl.h: what the parts of tenantctl share. Not installed; the
 * tool is one program in four files so that each holds one thing. It
 * links the daemon's core (libtecore) for the config loader and the
 * record rules, so that it reads both exactly as the edge does.
 */
#ifndef TE_TENANTCTL_H
#define TE_TENANTCTL_H

#include <stddef.h>

/* The Lua script behind every write and show (tenantctl_script.c). */
extern const char te_ctl_script[];

/* Prints "tenantctl: <message>" on stderr. */
void te_ctl_complain(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Splits "HOST:PORT" or "[V6]:PORT" into <host> and <port>. -1 if it is
 * neither. */
int te_ctl_parse_addr(const char *s, char *host, size_t hostlen, int *port);

struct te_config;

/* The global options as given on the command line; NULL when absent.
 * main checks their syntax before anything else runs. */
struct te_ctl_options {
    const char *conf;     /* -c EDGE.conf */
    const char *addr;     /* -r HOST:PORT */
    const char *password; /* -a PASSWORD */
    const char *db;       /* -n DB, digits */
    const char *prefix;   /* -p PREFIX */
};

/* Where the tenants are: the edge's config as its own loader read it,
 * then the options over it; 127.0.0.1:6379, database 0, prefix "tcs:"
 * where neither says. Strings are borrowed from argv or the config. */
struct te_ctl_target {
    const char *conf;  /* -c, for messages, or NULL */
    int have_addr;     /* 0: -c names a config without `redis` (no -r) */
    int store_redis;   /* the edge reads tenants from Redis (or no -c) */
    const char *store; /* its store's name otherwise, for messages */
    char host[256];
    int port;
    const char *password; /* NULL: no AUTH */
    unsigned db;          /* 0: no SELECT */
    const char *prefix;   /* of every key and of the events channel */
};

/* Loads the edge config at <path> with the daemon's loader (includes,
 * every check of `tenantedge -t`). The new snapshot, for
 * te_config_unref, or NULL after printing the loader's
 * "file:line:col: message". */
struct te_config *te_ctl_conf_load(const char *path);

/* Fills <tg> from <cf> (NULL without -c) and the options <o>. 0, or -1
 * after saying why (an -r that is no HOST:PORT). */
int te_ctl_target_init(struct te_ctl_target *tg, const struct te_config *cf,
                       const struct te_ctl_options *o);

/* What `tenantctl token` takes from the edge's `module jwt { }` block:
 * the first issuer, the audience, the tenant claim's name; a field the
 * block does not set is left as it was. */
struct te_ctl_jwt_conf {
    char issuer[512];
    char audience[256];
    char tenant_claim[128];
};

/* Reads the jwt module's configuration out of <cf> into <out>. 0, or
 * -1 after saying why (no `module jwt` block, a value too long). */
int te_ctl_conf_jwt(const struct te_config *cf, const char *path,
                    struct te_ctl_jwt_conf *out);

struct redisContext;

/* Connects to <tg>'s Redis, authenticates and selects the database.
 * NULL after saying why (also when -c names no Redis at all). */
struct redisContext *te_ctl_connect(const struct te_ctl_target *tg);

/* `tenantctl token ...` (tenantctl_token.c): argv holds the command's
 * own arguments, <cf> the edge config of -c or NULL. Returns the exit
 * status. */
int te_ctl_token(int argc, char **argv, const struct te_config *cf,
                 const struct te_ctl_target *tg);

#endif
