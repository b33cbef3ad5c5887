/*
 * tenantctl.h: what the parts of tenantctl share. Not installed; the
 * tool is one program in three files so that each holds one thing.
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

#endif
