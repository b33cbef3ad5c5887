/*
 * tenantctl_conf.c: where tenantctl finds Redis. `-c EDGE.conf` reads the
 * address from the edge's own config, so that the operator's tool and the
 * edge cannot disagree about which Redis holds the tenants. Only the
 * top-level `redis HOST:PORT` directive matters here, and for `token`
 * the issuer, audience and tenant claim of `module jwt { }`; the edge's
 * full parser, with include files and blocks, is not needed for that.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tenantctl.h"

#define MAX_CONF_SIZE (1 << 20)

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

/* Reads a whole file of at most MAX_CONF_SIZE bytes, terminated. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t n;

    if (f == NULL) {
        te_ctl_complain("cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(MAX_CONF_SIZE + 1);
    if (buf == NULL) {
        te_ctl_complain("out of memory reading %s", path);
        goto fail;
    }
    n = fread(buf, 1, MAX_CONF_SIZE + 1, f);
    if (ferror(f) || n > MAX_CONF_SIZE) {
        te_ctl_complain("cannot read %s: %s", path,
                        ferror(f) ? "read error" : "larger than 1 MiB");
        goto fail;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;

fail:
    free(buf);
    fclose(f);
    return NULL;
}

/* The next token of a config text from <*pos>: a word, a quoted string
 * (quotes dropped), or one of ";{}" alone. Skips blanks and # comments.
 * Returns its length (0 at the end) and its start in <*tok>. */
static size_t conf_token(const char *buf, size_t len, size_t *pos,
                         const char **tok)
{
    size_t i = *pos, start;

    while (i < len) {
        if (buf[i] == '#') {
            while (i < len && buf[i] != '\n')
                i++;
        } else if (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
                   buf[i] == '\n') {
            i++;
        } else {
            break;
        }
    }
    if (i >= len) {
        *pos = len;
        return 0;
    }

    if (strchr(";{}", buf[i]) != NULL) {
        *tok = buf + i;
        *pos = i + 1;
        return 1;
    }
    if (buf[i] == '"' || buf[i] == '\'') {
        char quote = buf[i++];

        start = i;
        while (i < len && buf[i] != quote)
            i++;
        *tok = buf + start;
        *pos = i < len ? i + 1 : len;
        return i - start;
    }

    start = i;
    while (i < len && strchr(" \t\r\n;{}#", buf[i]) == NULL)
        i++;
    *tok = buf + start;
    *pos = i;
    return i - start;
}

/* Finds the top-level `redis ADDRESS` directive of the edge config at
 * <path>; any block after the address, and directives inside other
 * blocks, are not its business. 0 and the address in <addr>, or -1. */
int te_ctl_conf_redis_addr(const char *path, char *addr, size_t addrlen)
{
    size_t len, pos = 0, n;
    int depth = 0, stmt_start = 1, rc = -1;
    const char *tok;
    char *buf = read_file(path, &len);

    if (buf == NULL)
        return -1;

    while ((n = conf_token(buf, len, &pos, &tok)) > 0) {
        if (n == 1 && (*tok == ';' || *tok == '{' || *tok == '}')) {
            depth += *tok == '{' ? 1 : *tok == '}' ? -1 : 0;
            stmt_start = 1;
            continue;
        }
        if (stmt_start && depth == 0 && n == 5 &&
            memcmp(tok, "redis", 5) == 0) {
            n = conf_token(buf, len, &pos, &tok);
            if (n == 0 || n >= addrlen || strchr(";{}", *tok) != NULL) {
                te_ctl_complain("%s: redis directive without an address", path);
                goto done;
            }
            memcpy(addr, tok, n);
            addr[n] = '\0';
            rc = 0;
            goto done;
        }
        stmt_start = 0;
    }
    te_ctl_complain("%s: no redis directive", path);

done:
    free(buf);
    return rc;
}

/* Copies the token of <n> bytes into <out> (NUL-terminated). -1 when it
 * does not fit. */
static int copy_token(const char *tok, size_t n, char *out, size_t outlen)
{
    if (n >= outlen)
        return -1;
    memcpy(out, tok, n);
    out[n] = '\0';
    return 0;
}

/* The value of one directive of the jwt block into <jc>: the first
 * argument of issuer, audience, tenant_claim. */
static int jwt_value(const char *path, const char *name, size_t nlen,
                     const char *tok, size_t n, struct te_ctl_jwt_conf *jc)
{
    static const struct {
        const char *name;
        size_t off, size;
    } fields[] = {
        {"issuer", offsetof(struct te_ctl_jwt_conf, issuer),
         sizeof(jc->issuer)},
        {"audience", offsetof(struct te_ctl_jwt_conf, audience),
         sizeof(jc->audience)},
        {"tenant_claim", offsetof(struct te_ctl_jwt_conf, tenant_claim),
         sizeof(jc->tenant_claim)},
    };

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        char *dst = (char *)jc + fields[i].off;

        if (strlen(fields[i].name) != nlen ||
            memcmp(fields[i].name, name, nlen) != 0)
            continue;
        if (strcmp(fields[i].name, "issuer") == 0 && dst[0] != '\0')
            return 0; /* the first issuer is the one tokens carry */
        if (copy_token(tok, n, dst, fields[i].size) < 0) {
            te_ctl_complain("%s: %s value too long", path, fields[i].name);
            return -1;
        }
    }
    return 0;
}

/* Finds `module jwt { ... }` at top level in the edge config at <path>
 * and reads its issuer, audience and tenant_claim (nested blocks such
 * as `allow service` are skipped). 0, or -1 after saying why. */
int te_ctl_conf_jwt(const char *path, struct te_ctl_jwt_conf *jc)
{
    size_t len, pos = 0, n, nlen = 0;
    int depth = 0, stmt_start = 1, in_jwt = 0, rc = -1, found = 0;
    const char *tok, *name = NULL, *prev = NULL;
    size_t prevlen = 0;
    char *buf = read_file(path, &len);

    if (buf == NULL)
        return -1;

    while ((n = conf_token(buf, len, &pos, &tok)) > 0) {
        if (n == 1 && (*tok == ';' || *tok == '{' || *tok == '}')) {
            if (*tok == '{' && depth == 0 && prev != NULL && prevlen == 3 &&
                memcmp(prev, "jwt", 3) == 0 && name != NULL && nlen == 6 &&
                memcmp(name, "module", 6) == 0)
                in_jwt = found = 1;
            depth += *tok == '{' ? 1 : *tok == '}' ? -1 : 0;
            if (depth == 0)
                in_jwt = 0;
            stmt_start = 1;
            name = prev = NULL;
            continue;
        }
        if (stmt_start) {
            name = tok;
            nlen = n;
        } else if (in_jwt && depth == 1 && prev == name &&
                   jwt_value(path, name, nlen, tok, n, jc) < 0) {
            goto done;
        }
        prev = tok;
        prevlen = n;
        stmt_start = 0;
    }
    if (!found)
        te_ctl_complain("%s: no module jwt block", path);
    else
        rc = 0;

done:
    free(buf);
    return rc;
}
