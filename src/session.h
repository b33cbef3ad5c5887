/*
 * session.h: a worker's session service: session id -> login session.
 *
 * It lives beside the tenant context service and goes through the same
 * tiers: the per-worker cache (session_cache.c), then GET
 * <prefix>session:<id> on the worker's Redis client (redis.c), one fetch
 * per id in flight. The tenant context service owns the client and the
 * events channel: it creates this service with store redis only, and
 * hands it the session-revoke events and the resubscribes (tcs.c).
 *
 * One service per worker, used only from that worker's thread.
 */
#ifndef TE_SESSION_H
#define TE_SESSION_H

#include <stddef.h>

#include "redis.h"
#include "session_cache.h"
#include "tenantedge/module.h"
#include "tenantedge/status.h"

typedef struct te_sessions te_sessions;
typedef struct te_sessions_wait te_sessions_wait;

typedef struct te_sessions_conf {
    te_redis *redis;        /* borrowed; outlives the service's use */
    const char *prefix;     /* key prefix, "tcs:"; borrowed */
    const char *redis_name; /* for log lines; borrowed */
    unsigned worker_id;
    te_session_cache_conf cache;
} te_sessions_conf;

/* The end of a wait: <rc> is TE_OK (<s> borrowed for the call: copy it),
 * TE_DECLINED (no live session) or TE_ERROR (the store could not answer,
 * or its record is malformed: answer 503). */
typedef void (*te_sessions_done)(void *arg, te_status rc, const te_session *s);

/* A service over <conf->redis>. NULL when out of memory or the cache
 * bounds are out of range, logged. */
te_sessions *te_sessions_create(const te_sessions_conf *conf);

/*
 * The worker is stopping: fetches still in flight are dropped silently
 * when the Redis client is destroyed. Call it before te_redis_destroy,
 * then te_sessions_destroy after. NULL is a no-op.
 */
void te_sessions_closing(te_sessions *s);

/* Frees the service. A wait still pending is freed without its
 * callback, and must not be cancelled afterwards. NULL is a no-op. */
void te_sessions_destroy(te_sessions *s);

/*
 * Looks up session <id> (<len> bytes); the id is checked before any key
 * is built:
 *   TE_OK       *session is a live session, borrowed until the next call
 *               into this service (copy it at once);
 *   TE_DECLINED no live session has that id (or it is not a valid id);
 *   TE_ERROR    Redis cannot answer now, or the cache has no room: 503;
 *   TE_AGAIN    *wait is set; cb(arg, rc, s) runs later, from the event
 *               loop, exactly once, unless te_sessions_cancel(*wait)
 *               runs first.
 * <now_s> is the unix time the expiry is judged against. Nothing here
 * logs per request; a malformed record is logged once a minute.
 */
te_status te_sessions_get(te_sessions *s, const char *id, size_t len,
                          int64_t now_s, const te_session **session,
                          te_sessions_done cb, void *arg,
                          te_sessions_wait **wait);

/* Withdraws a wait whose callback has not run; the wait is freed. */
void te_sessions_cancel(te_sessions_wait *w);

/* {"event":"session-revoke","session":"<id>"} was heard: the session
 * goes from this worker's cache at once. */
void te_sessions_revoke(te_sessions *s, const char *id, size_t len);

/* The events channel was (re)subscribed: revocations may have been
 * lost, so every cached session goes. */
void te_sessions_flush(te_sessions *s);

#endif
