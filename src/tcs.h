/*
 * tcs.h: a worker's tenant context service: site -> tenant context.
 *
 * The tenant module asks it for the context of a request's site; the
 * module API's te_tcs_lookup is a thin wrapper over te_tcs_get. Which
 * store answers is the config's `tcs { store ...; }`:
 *   static  the `site` lines, built into a table when the worker starts;
 *   file    the tenants file checked at load, likewise;
 *   redis   a per-worker cache in front of Redis (GET <prefix>site:<site>
 *           then GET <prefix>tenant:<id>), with one lookup in flight per
 *           site, lifecycle events on <prefix>events evicting entries,
 *           and cached contexts served up to the stale bound while Redis
 *           is unreachable.
 * The static and file stores answer at once; only redis ever waits.
 *
 * One service per worker, used only from that worker's thread.
 */
#ifndef TE_TCS_H
#define TE_TCS_H

#include <stddef.h>

#include "config.h"
#include "tenantedge/status.h"
#include "tenantedge/tcs.h"

struct event_base;

typedef struct te_tcs te_tcs;
typedef struct te_tcs_wait te_tcs_wait;

/* The end of a wait: <rc> is TE_OK (<ctx> a new reference the callee
 * owns), TE_DECLINED (no tenant has that site) or TE_ERROR (the store
 * could not answer, or its record is malformed: answer 503). */
typedef void (*te_tcs_done)(void *arg, te_status rc, te_tcs_context *ctx);

/*
 * The service for worker <worker_id>, on <base>. With store redis it
 * starts connecting at once and answers TE_ERROR for uncached sites until
 * Redis is up. <cf> must outlive the service. NULL on error, logged.
 */
te_tcs *te_tcs_create(struct event_base *base, const te_config *cf,
                      unsigned worker_id);

/*
 * Frees the service. End the worker's requests first: a wait still
 * pending is freed without its callback, and must not be cancelled
 * afterwards. Not from inside a te_tcs_done callback. NULL is a no-op.
 */
void te_tcs_destroy(te_tcs *t);

/*
 * Looks up the context of <site> (<len> bytes, a lowercase DNS label):
 *   TE_OK       *ctx is a new reference (fresh, or stale within the stale
 *               bound while one refresh runs in the background);
 *   TE_DECLINED no tenant has that site (or it is not a valid site name);
 *   TE_ERROR    the store cannot answer and nothing usable is cached, or
 *               the record is malformed (logged once here): answer 503;
 *   TE_AGAIN    *wait is set; cb(arg, rc, ctx) runs later, from the event
 *               loop, exactly once, unless te_tcs_cancel(*wait) runs
 *               first. Never called before te_tcs_get returns.
 * Nothing here logs per request.
 */
te_status te_tcs_get(te_tcs *t, const char *site, size_t len,
                     te_tcs_context **ctx, te_tcs_done cb, void *arg,
                     te_tcs_wait **wait);

/* Withdraws a wait whose callback has not run (the request went away);
 * the wait is freed. */
void te_tcs_cancel(te_tcs_wait *w);

/* The session service on this worker's Redis client (session.h); NULL
 * unless the store is redis. */
struct te_sessions *te_tcs_sessions(te_tcs *t);

/* 1 when the store can answer now: always for static and file; for
 * redis, when commands are accepted and lifecycle events are heard. */
int te_tcs_ready(const te_tcs *t);

#endif
