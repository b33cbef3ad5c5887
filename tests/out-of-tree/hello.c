/*
 * hello.c: a module built out of tree, the way a third party builds one:
 *     cc -shared -fPIC $(pkg-config --cflags tenantedge) -o hello.so hello.c
 * against the installed tenantedge/module.h only, then `load_module
 * hello.so;`. The integration tests use it to prove that such a module
 * loads and runs (out_of_tree_module_loads.py), that a module built for
 * another ABI is refused (-DHELLO_ABI=999), and, built twice under other
 * names (-DHELLO_NAME='"a"'), that handlers of one phase run in chain
 * order (chain_order_within_a_phase.py).
 *
 * What it does: in the policy phase it refuses, with 403 and the reason
 * "<name> refuses <tenant id>", paths under its `<name>_refuse PREFIX;`
 * (a top-level directive); in the response phase it adds the field
 * X-<name>: "<greeting> <tenant id>", the greeting set in its block:
 * `module <name> { greeting hi; }`, and X-<name>-Count: how many
 * responses this worker has given so far (per-worker state, made by
 * init_worker and freed by exit_worker).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tenantedge/module.h>

#ifndef HELLO_ABI
#define HELLO_ABI TE_MODULE_ABI
#endif
#ifndef HELLO_NAME
#define HELLO_NAME "hello"
#endif

typedef struct hello_conf {
    const char *refuse;   /* path prefix, or NULL */
    const char *greeting; /* "hello" unless set */
} hello_conf;

static void *hello_create(void)
{
    return calloc(1, sizeof(hello_conf));
}

static int hello_finish(te_conf_ctx *cx, void *mconf)
{
    hello_conf *c = mconf;

    if (c->greeting == NULL)
        c->greeting = "hello";
    return 0;
}

static void hello_free(void *mconf)
{
    free(mconf);
}

/* Per worker: a counter in memory of its own, so that a worker state
 * not freed by exit_worker shows as a leak. */
static int hello_init_worker(void *mconf, void **wstate)
{
    *wstate = calloc(1, sizeof(unsigned long));
    return *wstate != NULL ? 0 : -1;
}

static void hello_exit_worker(void *mconf, void *wstate)
{
    free(wstate);
}

static int set_refuse(te_conf_ctx *cx, void *mconf, unsigned argc,
                      const char *const *argv)
{
    hello_conf *c = mconf;

    if (argv[1][0] != '/')
        return te_conf_error(cx, 1, "%s wants a path, not \"%s\"", argv[0],
                             argv[1]);
    c->refuse = te_conf_strdup(cx, argv[1]);
    return c->refuse != NULL ? 0 : -1;
}

static int set_greeting(te_conf_ctx *cx, void *mconf, unsigned argc,
                        const char *const *argv)
{
    hello_conf *c = mconf;

    c->greeting = te_conf_strdup(cx, argv[1]);
    return c->greeting != NULL ? 0 : -1;
}

static const te_directive hello_directives[] = {
    {HELLO_NAME "_refuse", 1, 1, TE_DIR_TOP, set_refuse, NULL},
    {"greeting", 1, 1, 0, set_greeting, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const char *tenant_of(const te_request *r)
{
    const te_tcs_context *t = te_request_tenant(r);

    return t != NULL ? t->id : "nobody";
}

static te_status hello_policy(te_request *r, void *mconf)
{
    hello_conf *c = mconf;
    char reason[128];
    const char *path;
    size_t len, n;

    if (c->refuse == NULL)
        return TE_OK;
    path = te_request_path(r, &len);
    n = strlen(c->refuse);
    if (len < n || memcmp(path, c->refuse, n) != 0)
        return TE_OK;

    snprintf(reason, sizeof(reason), "%s refuses %s", HELLO_NAME, tenant_of(r));
    te_request_log(r, TE_MLOG_INFO, "%s", reason);
    return te_respond_error(r, 403, reason) == TE_OK ? TE_DONE : TE_ERROR;
}

static const te_module hello;

static te_status hello_response(te_request *r, void *mconf)
{
    unsigned long *count = te_request_worker_state(r, &hello);
    hello_conf *c = mconf;
    char value[128];

    snprintf(value, sizeof(value), "%s %s", c->greeting, tenant_of(r));
    te_response_add_header(r, "X-" HELLO_NAME, value);
    snprintf(value, sizeof(value), "%lu", ++*count);
    te_response_add_header(r, "X-" HELLO_NAME "-Count", value);
    return TE_OK;
}

static const te_module hello = {
    .abi = HELLO_ABI,
    .name = HELLO_NAME,
    .directives = hello_directives,
    .create_conf = hello_create,
    .finish_conf = hello_finish,
    .free_conf = hello_free,
    .init_worker = hello_init_worker,
    .exit_worker = hello_exit_worker,
    .handlers = {[TE_PHASE_POLICY] = hello_policy,
                 [TE_PHASE_RESPONSE] = hello_response},
};

TE_MODULE_EXPORT(hello);
