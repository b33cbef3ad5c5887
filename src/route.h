/*
 * route.h: from a shard to the backend to try next. Which shard a
 * request goes to is the module chain's decision (modules/route); this
 * is the core's part. It knows nothing of connections or health: the
 * caller (the upstream leg) says which backends can serve.
 */
#ifndef TE_ROUTE_H
#define TE_ROUTE_H

#include "config.h"
#include "request.h"
#include "tenantedge/status.h"

/*
 * Says whether backend b may take the request being placed now; the
 * caller decides (its health, whether the request tried it already).
 * arg is the caller's, passed through. It must give the same answer for
 * a backend throughout one te_route_backend call.
 */
typedef int te_route_usable_fn(const te_backend *b, void *arg);

/*
 * The backend to try next for a request of shard sh: among the backends
 * that usable accepts, those in zone first, then those of other zones;
 * within the group, the rr-th one counting only the usable, so that
 * requests with successive rr (the caller's round-robin counter) take
 * turns among exactly the backends that can serve. NULL when usable
 * accepts none. usable is called at most twice per backend.
 */
const te_backend *te_route_backend(const te_shard *sh, const char *zone,
                                   unsigned rr, te_route_usable_fn *usable,
                                   void *arg);

#endif
