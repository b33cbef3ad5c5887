/*
 * session_cache.h: the per-worker cache of login sessions, keyed by
 * session id.
 *
 * It sits where the tenant cache sits (tcs_cache.h) and works the same
 * way: a miss costs one Redis round trip, one per id however many
 * requests want it at once (the first fetches, the others wait), and
 * unknown ids are remembered for a while in their own bounded share, so
 * a flood of made-up cookies cannot push real sessions out.
 *
 * It differs where a session is not a tenant record: an entry is served
 * until the cache ttl or the session's own expiry, whichever comes
 * first, and never stale, since a session that may have been revoked
 * must not outlive the means to hear of it; a revocation turns an answer
 * still in flight into "unknown" for its waiters.
 *
 * One cache per worker thread, used only from that thread: no locks.
 * Both clocks are passed in (monotonic milliseconds for the cache's own
 * times, unix seconds for the sessions' expiry) so tests control them.
 */
#ifndef TE_SESSION_CACHE_H
#define TE_SESSION_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "tenantedge/module.h"
#include "tenantedge/status.h"

typedef struct te_session_cache te_session_cache;

typedef struct te_session_cache_conf {
    size_t max_entries;      /* every entry counts, >= 1 */
    size_t max_negative;     /* of which unknown ids; 0: max/8, >= 1 */
    int64_t ttl_ms;          /* served for at most this long, >= 0 */
    int64_t negative_ttl_ms; /* unknown ids are remembered, >= 0 */
} te_session_cache_conf;

typedef enum te_session_cache_result {
    TE_SESSION_HIT = 0,    /* hit.session is the session, live */
    TE_SESSION_MISS_FETCH, /* fetch it, then te_session_cache_complete */
    TE_SESSION_MISS_WAIT,  /* a fetch runs; the waiter was queued */
    TE_SESSION_NEGATIVE,   /* known to be no live session */
    TE_SESSION_INVALID,    /* not a valid session id */
    TE_SESSION_BUSY        /* no room (every entry is being fetched,
                              or out of memory): answer 503 */
} te_session_cache_result;

/* How a fetch ended, as told to its waiters. */
typedef enum te_session_outcome {
    TE_SESSION_FOUND = 0, /* a live session */
    TE_SESSION_UNKNOWN,   /* none, expired, or revoked meanwhile */
    TE_SESSION_FAILED     /* the store did not answer: 503 */
} te_session_outcome;

typedef struct te_session_waiter te_session_waiter;
struct te_session_waitq;

/*
 * Called once when the fetch a waiter waits on ends. With
 * TE_SESSION_FOUND, <s> is borrowed for the call only (copy what is
 * kept); otherwise it is NULL. The waiter is no longer queued when this
 * runs, so the callee may reuse or free it, and may look up or cancel
 * anything in the cache; it must not complete a fetch or destroy the
 * cache.
 */
typedef void (*te_session_waiter_cb)(te_session_waiter *w,
                                     te_session_outcome outcome,
                                     const te_session *s, void *arg);

/* A request's place in a queue, in the request's own memory. Set it up
 * with te_session_waiter_init; the fields are the cache's. */
struct te_session_waiter {
    te_session_waiter *prev, *next;
    struct te_session_waitq *queue; /* NULL when not queued */
    te_session_waiter_cb cb;
    void *arg;
};

/* What a lookup hands back besides its result. */
typedef struct te_session_hit {
    const te_session *session; /* HIT: borrowed until the next call */
    uint64_t fetch_id; /* MISS_FETCH: give it to te_session_cache_complete */
} te_session_hit;

typedef struct te_session_cache_stats {
    size_t entries;     /* all, including those being fetched */
    size_t negative;    /* unknown ids */
    size_t fetching;    /* entries with a fetch in flight */
    size_t detached;    /* revoked or flushed while fetching */
    uint64_t evictions; /* entries pushed out for room */
} te_session_cache_stats;

/* A new, empty cache; NULL when <conf> is out of range or memory is out.
 * The hash key is random per cache. */
te_session_cache *te_session_cache_create(const te_session_cache_conf *conf);

/* Frees every entry. Waiters still queued are unqueued without being
 * called. NULL is a no-op. */
void te_session_cache_destroy(te_session_cache *c);

void te_session_waiter_init(te_session_waiter *w, te_session_waiter_cb cb,
                            void *arg);

/* Takes <w> out of its queue; its callback will not run. A waiter that
 * is not queued is left alone. */
void te_session_waiter_cancel(te_session_waiter *w);

/*
 * Looks up session <id> (<len> bytes) at <now_ms> (monotonic) and
 * <now_s> (unix seconds). A cached session at or past its expiry, or
 * past its cache time, is fetched again. <w> (initialised, not queued)
 * is queued only for TE_SESSION_MISS_WAIT; with <w> NULL, a lookup that
 * would have to wait returns TE_SESSION_BUSY. After MISS_FETCH the
 * caller must end the fetch with te_session_cache_complete, or the id's
 * waiters wait for ever.
 */
te_session_cache_result te_session_cache_lookup(te_session_cache *c,
                                                const char *id, size_t len,
                                                int64_t now_ms, int64_t now_s,
                                                te_session_waiter *w,
                                                te_session_hit *hit);

/*
 * Ends fetch <fetch_id> for <id>: <s> is the session read from the store
 * (a te_session_parse block this call takes over, whatever it returns),
 * or NULL when there is none (failed == 0) or the store did not answer
 * (failed != 0). A session already expired at <now_s> counts as none.
 * Stores the result (a failure stores nothing) unless the entry was
 * revoked or flushed meanwhile, and calls each waiter once. TE_OK, or
 * TE_DECLINED when no such fetch is in flight (the result is dropped).
 */
te_status te_session_cache_complete(te_session_cache *c, const char *id,
                                    size_t len, uint64_t fetch_id,
                                    te_session *s, int failed, int64_t now_ms,
                                    int64_t now_s);

/*
 * A session-revoke event: the id's entry goes. If its fetch is in
 * flight, the waiters are told "unknown" whatever the fetch brings (it
 * may have read the record before it was deleted), and nothing is
 * cached. Returns 1 when the id had an entry, else 0.
 */
size_t te_session_cache_revoke(te_session_cache *c, const char *id, size_t len);

/* After a resubscribe, when revocations may have been lost: every entry
 * goes; fetches in flight still answer their waiters, but their result
 * is not cached. */
void te_session_cache_flush(te_session_cache *c);

void te_session_cache_stats_get(const te_session_cache *c,
                                te_session_cache_stats *st);

#endif
