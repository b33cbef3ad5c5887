/*
 * route.c: the route module: product -> shard, inside the tenant's
 * region.
 *
 * With products configured, the request's product (longest path prefix)
 * names the tenant's shard for it; a path under no product is 404. With
 * none (the simple mode of static sites), the tenant's default shard is
 * used. Either way the shard must be declared in the region block named
 * like the tenant's region: anything else is refused with 503 and an
 * error line, and the core, which picks the backend, would refuse it
 * too. Residency is never traded for availability.
 */
#include <tenantedge/module.h>

static te_status answer(te_request *r, int status, const char *reason)
{
    return te_respond_error(r, status, reason) == TE_OK ? TE_DONE : TE_ERROR;
}

/* The shard this request should go to, or NULL after answering. */
static const char *pick_shard(te_request *r, const te_tcs_context *ctx,
                              te_status *rc)
{
    const te_tcs_product *p;
    const char *product;

    if (te_request_products_configured(r) == 0) {
        if (ctx->shard == NULL)
            *rc = answer(r, 404, "no route");
        return ctx->shard;
    }
    product = te_request_product(r);
    if (product == NULL) {
        *rc = answer(r, 404, "no product");
        return NULL;
    }
    p = te_tcs_context_product(ctx, product);
    if (p == NULL) {
        /* policy refuses this first when it is in the chain */
        *rc = answer(r, 403, "product not licensed");
        return NULL;
    }
    return p->shard;
}

static te_status route_handler(te_request *r, void *mconf)
{
    const te_tcs_context *ctx = te_request_tenant(r);
    const char *shard, *region;
    te_status rc = TE_DONE;

    (void)mconf;
    if (ctx == NULL) /* no tenant module in the chain: nothing to route */
        return answer(r, 404, "unknown site");
    shard = pick_shard(r, ctx, &rc);
    if (shard == NULL)
        return rc;

    switch (te_request_set_shard(r, shard)) {
    case TE_OK:
        return TE_OK;
    case TE_DECLINED:
        region = te_shard_region(r, shard);
        te_request_log(r, TE_MLOG_ERROR,
                       "residency violation: shard %s is in region %s, "
                       "tenant region %s, refused",
                       shard, region != NULL ? region : "-", ctx->region);
        break;
    default:
        te_request_log(r, TE_MLOG_ERROR,
                       "residency violation: shard %s is in no region of "
                       "this edge, tenant region %s, refused",
                       shard, ctx->region);
        break;
    }
    return answer(r, 503, "residency violation");
}

const te_module te_module_route = {
    .abi = TE_MODULE_ABI,
    .name = "route",
    .handlers = {[TE_PHASE_ROUTE] = route_handler},
};

#ifdef TE_DYNAMIC_MODULE
TE_MODULE_EXPORT(te_module_route);
#endif
