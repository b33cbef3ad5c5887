/*
 * tenantctl.h: what the parts of tenantctl share. Not installed; the
 * tool is one program in four files so that each holds one thing.
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

/* Finds the top-level `redis ADDRESS` directive of the edge config at
 * <path> and copies ADDRESS to <addr>. 0, or -1 after saying why. */
int te_ctl_conf_redis_addr(const char *path, char *addr, size_t addrlen);

/* What `tenantctl token` takes from the edge's `module jwt { }` block:
 * the first issuer, the audience, the tenant claim's name; a field the
 * block does not set is left as it was. */
struct te_ctl_jwt_conf {
    char issuer[512];
    char audience[256];
    char tenant_claim[128];
};

/* Reads the jwt block of the edge config at <path> into <out>. 0, or -1
 * after saying why. */
int te_ctl_conf_jwt(const char *path, struct te_ctl_jwt_conf *out);

/* Where Redis is, as the command line says (-r, else -c's `redis`, else
 * the default), for commands that need it only sometimes. */
struct te_ctl_redis {
    const char *addr;
    const char *conf;
    const char *password;
    const char *db;
};

struct redisContext;

/* Connects, authenticates and selects the database. NULL after saying
 * why. */
struct redisContext *te_ctl_connect(const struct te_ctl_redis *rd);

/* `tenantctl token ...` (tenantctl_token.c): argv holds the command's
 * own arguments. Returns the exit status. */
int te_ctl_token(int argc, char **argv, const char *conf,
                 const struct te_ctl_redis *rd);

#endif
