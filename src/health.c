/*
 * health.c: the passive health state machine of one backend in one
 * worker (see health.h): up, down for a backoff period, probed.
 */
#include "health.h"

#include <time.h>

#include "core.h"

uint64_t te_health_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int te_health_usable(const te_health *h, uint64_t now)
{
    if (!h->down)
        return 1;
    return !h->probing && now >= h->down_until;
}

int te_health_begin(te_health *h)
{
    if (!h->down)
        return 0;
    h->probing = 1;
    return 1;
}

void te_health_abandon(te_health *h)
{
    h->probing = 0;
}

static void down_for(te_health *h, uint64_t backoff, uint64_t now)
{
    h->down = 1;
    h->probing = 0;
    h->backoff = backoff;
    h->down_until = now + backoff;
}

int te_health_failed(te_health *h, const te_config *cf, int probe, int connect,
                     uint64_t now)
{
    uint64_t cap;

    /* Down already: only a probe's failure says something new. */
    if (h->down) {
        if (!probe)
            return TE_HEALTH_SAME;
        cap = (uint64_t)cf->upstream_fail_timeout * TE_HEALTH_MAX_BACKOFF;
        down_for(h, TE_MIN(h->backoff * 2, cap), now);
        return TE_HEALTH_STILL_DOWN;
    }

    h->fails++;
    if (!connect && h->fails < cf->upstream_max_fails)
        return TE_HEALTH_SAME;
    h->down_since = now;
    down_for(h, cf->upstream_fail_timeout, now);
    return TE_HEALTH_DOWN;
}

int te_health_ok(te_health *h, int probe)
{
    if (h->down && !probe)
        return TE_HEALTH_SAME;
    h->fails = 0;
    if (!h->down)
        return TE_HEALTH_SAME;

    h->down = 0;
    h->probing = 0;
    h->backoff = 0;
    return TE_HEALTH_UP;
}
