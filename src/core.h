/*
 * core.h: small helpers shared by the core files (worker, connections,
 * upstream), kept here so each of them does not grow its own copy.
 */
#ifndef TE_CORE_H
#define TE_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "tenantedge/status.h"

#define TE_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TE_MAX(a, b) ((a) > (b) ? (a) : (b))

typedef struct te_worker te_worker;
typedef struct te_h1_conn te_h1_conn;
typedef struct te_pool te_pool;

/* Sizes that come from the wire or the config: 0 on overflow. */
static inline int te_size_add(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

static inline int te_size_mul(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

static inline struct timeval te_ms_to_tv(unsigned ms)
{
    struct timeval tv;

    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

/*
 * Field names a[0..alen) and b[0..blen) compared ASCII case-insensitively
 * (RFC 9110 5.1); with fold, '_' also equals '-'. Folding is how the
 * edge sees a client's name the way a CGI, WSGI, PHP or Rack backend
 * will: those map both bytes to the same variable (HTTP_X_TENANT_ID), so
 * X_Tenant_Id must be stripped wherever X-Tenant-Id is.
 */
static inline int te_field_name_eq(const char *a, size_t alen, const char *b,
                                   size_t blen, int fold)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i];
        unsigned char y = (unsigned char)b[i];

        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (fold && x == '_')
            x = '-';
        if (fold && y == '_')
            y = '-';
        if (x != y)
            return 0;
    }
    return 1;
}

/* Milliseconds between two times; 0 when b is before a. */
static inline uint64_t te_tv_ms_since(const struct timeval *a,
                                      const struct timeval *b)
{
    int64_t us =
        (int64_t)(b->tv_sec - a->tv_sec) * 1000000 + (b->tv_usec - a->tv_usec);

    return us < 0 ? 0 : (uint64_t)us / 1000;
}

#endif
