/*
 * tcs_cache.h: the per-worker cache of tenant contexts, keyed by site.
 *
 * Every request asks it first; only a miss costs a Redis round trip, and
 * only one such trip is in flight per site: the first request for a site
 * fetches, the others wait on it. Fresh entries are served for `ttl`; past
 * that they are served for up to `stale` more while one refresh runs, so a
 * Redis outage shorter than the stale bound costs known tenants nothing.
 * Unknown sites are remembered for `negative_ttl`, so a flood of them costs
 * one fetch each per interval, and they are the first to go when the cache
 * is full, so that flood cannot push real tenants out.
 *
 * One cache per worker thread, used only from that thread: no locks. Time
 * is passed in (milliseconds on a monotonic clock) so tests control it.
 */
#ifndef TE_TCS_CACHE_H
#define TE_TCS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "tcs_context.h"
#include "tenantedge/status.h"

typedef struct te_tcs_cache te_tcs_cache;

typedef struct te_tcs_cache_conf {
    size_t max_entries;      /* every entry counts, >= 1 */
    size_t max_negative;     /* of which unknown sites; 0: max/8, >= 1 */
    int64_t ttl_ms;          /* fresh for this long, >= 0 */
    int64_t stale_ms;        /* then served while refreshing, >= 0 */
    int64_t negative_ttl_ms; /* unknown sites are remembered, >= 0 */
} te_tcs_cache_conf;

typedef enum te_tcs_cache_result {
    TE_TCS_HIT = 0,           /* fresh: use hit.ctx */
    TE_TCS_STALE_HIT,         /* stale, a refresh already runs: use it */
    TE_TCS_STALE_HIT_REFRESH, /* stale: use it, and start one refresh */
    TE_TCS_MISS_FETCH,        /* fetch it, then te_tcs_cache_complete */
    TE_TCS_MISS_WAIT,         /* a fetch runs; the waiter was queued */
    TE_TCS_NEGATIVE,          /* known to be no tenant's site */
    TE_TCS_INVALID,           /* not a valid site name: no tenant's */
    TE_TCS_BUSY               /* no room (every entry is being fetched,
                                 or out of memory): answer 503 */
} te_tcs_cache_result;

/* How a fetch ended, as told to its waiters. */
typedef enum te_tcs_outcome {
    TE_TCS_FOUND = 0, /* ctx is the tenant's context */
    TE_TCS_UNKNOWN,   /* no tenant has this site */
    TE_TCS_FAILED     /* the store did not answer: 503 */
} te_tcs_outcome;

typedef struct te_tcs_waiter te_tcs_waiter;
struct te_tcs_waitq;

/*
 * Called once when the fetch a waiter waits on ends. With TE_TCS_FOUND,
 * <ctx> is a new reference the callee owns (te_tcs_context_free it);
 * otherwise it is NULL. The waiter is no longer queued when this runs, so
 * the callee may reuse or free it, and may look up, complete or cancel
 * anything in the cache; it must not destroy the cache.
 */
typedef void (*te_tcs_waiter_cb)(te_tcs_waiter *w, te_tcs_outcome outcome,
                                 te_tcs_context *ctx, void *arg);

/*
 * A request's place in a queue, in the request's own memory: the cache
 * allocates nothing for it, so a cancelled waiter leaves nothing behind.
 * Set it up with te_tcs_waiter_init; the fields are the cache's.
 */
struct te_tcs_waiter {
    te_tcs_waiter *prev, *next;
    struct te_tcs_waitq *queue; /* NULL when not queued */
    te_tcs_waiter_cb cb;
    void *arg;
};

/* What a lookup hands back besides its result. */
typedef struct te_tcs_hit {
    te_tcs_context *ctx; /* HIT, STALE_*: a new reference to free */
    uint64_t fetch_id;   /* MISS_FETCH, STALE_HIT_REFRESH: give it to
                            te_tcs_cache_complete */
} te_tcs_hit;

typedef struct te_tcs_cache_stats {
    size_t entries;     /* all, including those being fetched */
    size_t negative;    /* unknown sites */
    size_t fetching;    /* entries with a fetch in flight */
    size_t detached;    /* evicted while fetching; see evict */
    uint64_t evictions; /* entries pushed out for room */
} te_tcs_cache_stats;

/* A new, empty cache; NULL when <conf> is out of range or memory is out.
 * The hash key is random per cache. */
te_tcs_cache *te_tcs_cache_create(const te_tcs_cache_conf *conf);

/* Frees every entry and drops every context reference the cache holds.
 * Waiters still queued are unqueued without being called: the worker
 * tears its requests down itself. NULL is a no-op. */
void te_tcs_cache_destroy(te_tcs_cache *c);

void te_tcs_waiter_init(te_tcs_waiter *w, te_tcs_waiter_cb cb, void *arg);

/* Takes <w> out of its queue (a client went away); its callback will not
 * run. A waiter that is not queued is left alone. */
void te_tcs_waiter_cancel(te_tcs_waiter *w);

static inline int te_tcs_waiter_queued(const te_tcs_waiter *w)
{
    return w->queue != NULL;
}

/*
 * Looks up <site> (<len> bytes, not necessarily terminated) at <now_ms>.
 * <w> (initialised, not queued) is queued only for TE_TCS_MISS_WAIT;
 * with <w> NULL, a lookup that would have to wait returns TE_TCS_BUSY.
 * See te_tcs_cache_result for what each result asks of the caller; after
 * MISS_FETCH or STALE_HIT_REFRESH the caller must end the fetch with
 * te_tcs_cache_complete, success or failure, or the site's waiters wait
 * for ever.
 */
te_tcs_cache_result te_tcs_cache_lookup(te_tcs_cache *c, const char *site,
                                        size_t len, int64_t now_ms,
                                        te_tcs_waiter *w, te_tcs_hit *hit);

/*
 * Ends fetch <fetch_id> for <site>: <ctx> is the tenant's context (this
 * call takes over the caller's reference, whatever it returns), or NULL
 * when the site is unknown (failed == 0) or the store did not answer
 * (failed != 0). Stores the result, except a failure, which keeps any
 * stale context and caches nothing new, and calls each waiter once.
 * Returns TE_OK, or TE_DECLINED when no such fetch is in flight (the
 * result is dropped).
 */
te_status te_tcs_cache_complete(te_tcs_cache *c, const char *site, size_t len,
                                uint64_t fetch_id, te_tcs_context *ctx,
                                int failed, int64_t now_ms);

/*
 * Lifecycle events. Evicting an entry whose fetch is in flight detaches
 * it: its waiters still get that fetch's result, but the result is not
 * cached, and the next lookup fetches again. Return how many entries
 * held that site or tenant id.
 *
 * By tenant id: also detaches every first fetch in flight (those have no
 * tenant id yet, so any of them may be this tenant's).
 */
size_t te_tcs_cache_evict_site(te_tcs_cache *c, const char *site, size_t len);
size_t te_tcs_cache_evict_tenant(te_tcs_cache *c, const char *id, size_t len);

/* After a resubscribe, when events may have been lost: every context
 * becomes stale (served while refreshed), every negative entry expires,
 * and fetches in flight store their result as stale. */
void te_tcs_cache_mark_all_stale(te_tcs_cache *c, int64_t now_ms);

void te_tcs_cache_stats_get(const te_tcs_cache *c, te_tcs_cache_stats *st);

#endif
