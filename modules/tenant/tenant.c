/*
 * tenant.c: the tenant module: Host -> site -> tenant context.
 *
 * The site is the one label of the Host under `domain`; the context
 * comes from the core's tenant context service (static site lines, the
 * tenants file or Redis behind a per-worker cache). Whatever cannot be
 * resolved is refused here, before any policy or routing looks at it:
 * an unknown site or a destroyed tenant is 404, a store that cannot
 * answer is 503 with Retry-After (never a guess). A resolved tenant's
 * id, site and region go to the backend as X-Tenant-* fields, which the
 * core strips from what clients send.
 */
#include <tenantedge/module.h>

/* Seconds a client is told to wait when the store cannot answer. */
#define RETRY_AFTER "5"

static te_status refuse(te_request *r, int status, const char *reason)
{
    return te_respond_error(r, status, reason) == TE_OK ? TE_DONE : TE_ERROR;
}

/* The X-Tenant-* fields the backend trusts (the core strips the client's
 * own). */
static int add_fields(te_request *r, const te_tcs_context *ctx)
{
    if (te_request_add_upstream_header(r, "X-Tenant-Id", ctx->id) < 0 ||
        te_request_add_upstream_header(r, "X-Tenant-Site", ctx->site) < 0 ||
        te_request_add_upstream_header(r, "X-Tenant-Region", ctx->region) < 0)
        return -1;
    return 0;
}

/* What the lookup said (rc, and ctx, a reference this takes over, when
 * TE_OK) becomes the tenant phase's answer. */
static te_status tenant_apply(te_request *r, te_status rc, te_tcs_context *ctx)
{
    te_status out = TE_OK;

    if (rc == TE_DECLINED)
        return refuse(r, 404, "unknown site");
    if (rc != TE_OK) {
        /* the service logged the outage or the bad record, once */
        if (te_response_add_header(r, "Retry-After", RETRY_AFTER) < 0)
            return TE_ERROR;
        return refuse(r, 503, "tenant context unavailable");
    }

    te_request_set_tenant(r, ctx);
    if (ctx->status == TE_TCS_DESTROYED) {
        out = refuse(r, 404, "tenant destroyed");
    } else if (add_fields(r, ctx) < 0) {
        te_request_log(r, TE_MLOG_ERROR, "cannot add the tenant fields");
        out = TE_ERROR;
    }
    te_tcs_context_free(ctx);
    return out;
}

static void tenant_looked_up(te_request *r, te_status rc, te_tcs_context *ctx,
                             void *arg)
{
    (void)arg;
    te_request_resume(r, tenant_apply(r, rc, ctx));
}

static te_status tenant_handler(te_request *r, void *mconf)
{
    te_tcs_context *ctx = NULL;
    const char *site;
    te_status rc;
    size_t len;

    (void)mconf;
    site = te_request_site(r, &len);
    if (site == NULL)
        return tenant_apply(r, TE_DECLINED, NULL);

    rc = te_tcs_lookup(r, site, len, &ctx, tenant_looked_up, NULL);
    if (rc == TE_AGAIN)
        return TE_AGAIN;
    return tenant_apply(r, rc, ctx);
}

const te_module te_module_tenant = {
    .abi = TE_MODULE_ABI,
    .name = "tenant",
    .handlers = {[TE_PHASE_TENANT] = tenant_handler},
};

#ifdef TE_DYNAMIC_MODULE
TE_MODULE_EXPORT(te_module_tenant);
#endif
