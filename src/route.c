/*
 * route.c: zone-aware round-robin among the backends of a shard that can
 * serve. (Host -> site -> shard is the tenant and route modules' now.)
 */
#include "route.h"

#include <string.h>

static int in_zone(const te_backend *b, const char *zone)
{
    return zone != NULL && b->zone != NULL && strcmp(b->zone, zone) == 0;
}

/* How many backends of sh in the group (in zone or not) usable accepts. */
static unsigned count_usable(const te_shard *sh, const char *zone, int local,
                             te_route_usable_fn *usable, void *arg)
{
    unsigned n = 0;

    for (unsigned i = 0; i < sh->nbackends; i++) {
        const te_backend *b = sh->backends[i];

        if (in_zone(b, zone) == local && usable(b, arg))
            n++;
    }
    return n;
}

/* The k-th (0-based) usable backend of sh in the group. */
static const te_backend *nth_usable(const te_shard *sh, const char *zone,
                                    int local, unsigned k,
                                    te_route_usable_fn *usable, void *arg)
{
    for (unsigned i = 0; i < sh->nbackends; i++) {
        const te_backend *b = sh->backends[i];

        if (in_zone(b, zone) != local || !usable(b, arg))
            continue;
        if (k-- == 0)
            return b;
    }
    return NULL;
}

const te_backend *te_route_backend(const te_shard *sh, const char *zone,
                                   unsigned rr, te_route_usable_fn *usable,
                                   void *arg)
{
    if (sh == NULL)
        return NULL;

    /* This zone's group first; another zone only when it has none. */
    for (int local = 1; local >= 0; local--) {
        unsigned n = count_usable(sh, zone, local, usable, arg);

        if (n > 0)
            return nth_usable(sh, zone, local, rr % n, usable, arg);
    }
    return NULL;
}
