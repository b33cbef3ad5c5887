/*
 * route.h: from the Host of a request to its site and shard, and from a
 * shard to the backend to try next.
 *
 * This is the static map of the first issue; a later one turns it into
 * the tenant and route phases of the module chain, so it works on the
 * protocol-independent te_request and knows nothing of connections.
 */
#ifndef TE_ROUTE_H
#define TE_ROUTE_H

#include "config.h"
#include "request.h"
#include "tenantedge/status.h"

/*
 * Sets r->site, r->tenant_id and r->shard from r->host, which must be
 * "<site>.<domain>" (port and one trailing dot ignored, any case) with a
 * single-label site known to cf. TE_OK, or TE_DECLINED for an unknown
 * site or a host outside the domain (the caller answers 404).
 */
te_status te_route_site(const te_config *cf, te_request *r);

/*
 * The attempt-th backend to try in shard sh: the backends in zone first,
 * starting at rr (the caller's round-robin counter) and taking turns,
 * then the others in the same way. NULL once every backend was offered.
 */
const te_backend *te_route_backend(const te_shard *sh, const char *zone,
                                   unsigned rr, unsigned attempt);

#endif
