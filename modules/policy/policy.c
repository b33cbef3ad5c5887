/*
 * policy.c: the policy module: may this tenant use this product now?
 *
 * Runs after the tenant phase and refuses, with 403, a tenant that is
 * suspended or deactivated, and when products are configured, a product
 * the tenant does not hold or holds suspended or deactivated. A request
 * with no tenant (the tenant module is not in the chain) or under no
 * product is left to the route module, which refuses what it cannot
 * route.
 *
 * Before any of that, the authentication rules (auth.c): where a path
 * needs a caller and no identity module proved one, 401 with the RFC
 * 6750 challenge; a caller proven for another tenant than the site's is
 * refused (403) wherever the rules are not off. Without `auth`
 * directives nothing is checked, as before the rules existed.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"

static te_status refuse(te_request *r, const char *reason)
{
    return te_respond_error(r, 403, reason) == TE_OK ? TE_DONE : TE_ERROR;
}

/* ------------------------------------------------------------ config */

static void *policy_create(void)
{
    return calloc(1, sizeof(te_auth_conf));
}

static int policy_finish(te_conf_ctx *cx, void *mconf)
{
    return te_auth_finish(cx, mconf);
}

static void policy_free(void *mconf)
{
    free(mconf);
}

/* ------------------------------------------------------------ checks */

/* Who may call here: 401 without a caller where one is required, 403
 * for a caller of another tenant where the rules are not off. TE_OK
 * when the request may go on. */
static te_status check_caller(te_request *r, const te_auth_conf *c,
                              const te_tcs_context *ctx)
{
    const te_principal *p = te_request_principal(r);
    te_auth_mode mode = te_auth_mode_of(r, c);

    if (mode == TE_AUTH_OFF)
        return TE_OK;
    if (p == NULL || p->kind == TE_PRINCIPAL_NONE) {
        if (mode == TE_AUTH_OPTIONAL)
            return TE_OK;
        te_request_log(r, TE_MLOG_INFO,
                       "refused: authentication required, no credential");
        /* RFC 6750 3: a request without credentials gets the bare
         * challenge, no error code. */
        if (te_response_add_header(r, "WWW-Authenticate", "Bearer") < 0)
            return TE_ERROR;
        return te_respond_error(r, 401, "authentication required") == TE_OK
                   ? TE_DONE
                   : TE_ERROR;
    }
    if (ctx != NULL && p->tenant != NULL && strcmp(p->tenant, ctx->id) != 0) {
        te_request_log(r, TE_MLOG_INFO, "refused: caller of tenant %s via %s",
                       p->tenant, p->via != NULL ? p->via : "-");
        return refuse(r, "caller of another tenant");
    }
    return TE_OK;
}

static te_status policy_handler(te_request *r, void *mconf)
{
    const te_tcs_context *ctx = te_request_tenant(r);
    const te_tcs_product *p;
    const char *product;
    te_status rc;

    rc = check_caller(r, mconf, ctx);
    if (rc != TE_OK)
        return rc;
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

/* Inside `module policy { }` only: the rules are the policy module's,
 * and an operator reads them where the module is configured. */
/* clang-format off */
static const te_directive policy_directives[] = {
    {"auth", 1, 2, 0, te_auth_set_auth, NULL},
    {"public_paths", 1, TE_DIR_ARGS_ANY, 0, te_auth_set_public, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* clang-format on */

const te_module te_module_policy = {
    .abi = TE_MODULE_ABI,
    .name = "policy",
    .directives = policy_directives,
    .create_conf = policy_create,
    .finish_conf = policy_finish,
    .free_conf = policy_free,
    .handlers = {[TE_PHASE_POLICY] = policy_handler},
};

#ifdef TE_DYNAMIC_MODULE
TE_MODULE_EXPORT(te_module_policy);
#endif
