/*
 * chain.h: running a request through the module chain, phase by phase.
 *
 * The protocol side calls te_chain_run once the request has begun, and
 * again from the event loop each time ops->wake says a suspended request
 * was resumed. It never sees a module: only what the run came to.
 */
#ifndef TE_CHAIN_H
#define TE_CHAIN_H

#include "request.h"

/*
 * Runs the identify, tenant, policy and route handlers from where the
 * request stands. Returns:
 *   TE_OK    every handler let it through: forward it (r->shard says
 *            where, NULL when no module routed it);
 *   TE_DONE  it is answered (r->answered; a handler's TE_ERROR became a
 *            500 here);
 *   TE_AGAIN a handler suspended it: ops->wake comes later, or the
 *            request ends first (its cleanups cancel the work).
 */
te_status te_chain_run(te_request *r);

/* The response head is about to go out (proxied or answered): the
 * response handlers may add fields. Only for requests that entered the
 * chain. */
void te_chain_response(te_request *r);

/* The request is over: the log handlers, before the access line. */
void te_chain_log(te_request *r);

#endif
