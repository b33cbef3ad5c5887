/*
 * policy.c: the policy module: may this tenant use this product now?
 *
 * Runs after the tenant phase and refuses, with 403, a tenant that is
 * suspended or deactivated, and when products are configured, a product
 * the tenant does not hold or holds suspended or deactivated. A request
 * with no tenant (the tenant module is not in the chain) or under no
 * product is left to the route module, which refuses what it cannot
 * route.
 */
#include <tenantedge/module.h>

static te_status refuse(te_request *r, const char *reason)
{
    return te_respond_error(r, 403, reason) == TE_OK ? TE_DONE : TE_ERROR;
}

static te_status policy_handler(te_request *r, void *mconf)
{
    const te_tcs_context *ctx = te_request_tenant(r);
    const te_tcs_product *p;
    const char *product;

    (void)mconf;
    if (ctx == NULL)
        return TE_DECLINED;
    if (ctx->status == TE_TCS_SUSPENDED)
        return refuse(r, "tenant suspended");
    if (ctx->status == TE_TCS_DEACTIVATED)
        return refuse(r, "tenant deactivated");

    if (te_request_products_configured(r) == 0)
        return TE_OK;
    product = te_request_product(r);
    if (product == NULL)
        return TE_DECLINED;
    p = te_tcs_context_product(ctx, product);
    if (p == NULL)
        return refuse(r, "product not licensed");
    if (p->status == TE_TCS_SUSPENDED)
        return refuse(r, "product suspended");
    if (p->status == TE_TCS_DEACTIVATED)
        return refuse(r, "product deactivated");
    return TE_OK;
}

const te_module te_module_policy = {
    .abi = TE_MODULE_ABI,
    .name = "policy",
    .handlers = {[TE_PHASE_POLICY] = policy_handler},
};

#ifdef TE_DYNAMIC_MODULE
TE_MODULE_EXPORT(te_module_policy);
#endif
