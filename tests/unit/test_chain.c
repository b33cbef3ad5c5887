/*
 * test_chain.c: the phase runner (src/chain.c) and the request side of
 * the module API (src/request_api.c, src/request.c), without sockets: a
 * request is filled by hand, run through a chain of test modules, and
 * what they saw and answered is checked.
 */
#define _GNU_SOURCE
#include "chain.h"
#include "config.h"
#include "module.h"
#include "request.h"
#include "tcs_context.h"
#include "worker.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char errbuf[1024];
static char trace[512];

static void note(const char *s)
{
    strcat(trace, trace[0] ? " " : "");
    strcat(trace, s);
}

/* What a handler does, per module, set by each test. */
static te_status act_a = TE_OK, act_b = TE_OK;
static te_request *pending; /* the request b suspended */

static te_status a_identify(te_request *r, void *mconf)
{
    note("a.identify");
    return TE_OK;
}

static te_status a_policy(te_request *r, void *mconf)
{
    note("a.policy");
    if (act_a == TE_DONE)
        te_respond_error(r, 403, "a says \"no\"");
    return act_a;
}

static te_status b_policy(te_request *r, void *mconf)
{
    note("b.policy");
    if (act_b == TE_AGAIN)
        pending = r;
    return act_b;
}

static te_status c_policy(te_request *r, void *mconf)
{
    note("c.policy");
    return TE_OK;
}

static te_status c_route(te_request *r, void *mconf)
{
    note("c.route");
    return TE_DECLINED;
}

static te_status b_response(te_request *r, void *mconf)
{
    note("b.response");
    te_response_add_header(r, "X-B", "1");
    return TE_OK;
}

static te_status b_log(te_request *r, void *mconf)
{
    note("b.log");
    return TE_OK;
}

static const te_module mod_a = {
    .abi = TE_MODULE_ABI,
    .name = "a",
    .handlers =
        {[TE_PHASE_IDENTIFY] = a_identify, [TE_PHASE_POLICY] = a_policy},
    .request_ctx_size = 24,
};

static const te_module mod_b = {
    .abi = TE_MODULE_ABI,
    .name = "b",
    .handlers = {[TE_PHASE_POLICY] = b_policy,
                 [TE_PHASE_RESPONSE] = b_response,
                 [TE_PHASE_LOG] = b_log},
};

static const te_module mod_c = {
    .abi = TE_MODULE_ABI,
    .name = "c",
    .handlers = {[TE_PHASE_POLICY] = c_policy, [TE_PHASE_ROUTE] = c_route},
};

static const te_module *const extra[] = {&mod_a, &mod_b, &mod_c, NULL};

/* ---- a request without a connection ---- */

static te_config *cf;
static te_worker *w;
static te_arena arena;
static te_request req;
static int woken;

static void wake(void *ctx)
{
    woken++;
}

static const te_request_ops ops = {.wake = wake};

static void load(const char *chain)
{
    char text[1024];

    snprintf(text, sizeof(text),
             "listen 127.0.0.1:8080;\n"
             "domain edge.test;\n"
             "product jira /jira/;\n"
             "product jira-admin /jira/admin/;\n"
             "region eu { shard eu-1 { backend 127.0.0.1:9101; } }\n"
             "region us { shard us-1 { backend 127.0.0.1:9201; } }\n"
             "%s\n",
             chain);
    cf = te_config_parse("t.conf", text, strlen(text), errbuf, sizeof(errbuf));
    ck_assert_msg(cf != NULL, "%s", errbuf);
    w = calloc(1, sizeof(*w));
    ck_assert_ptr_nonnull(w);
    w->cf = cf;
    w->mstate = calloc(cf->chain->nmods, sizeof(void *));
    ck_assert_ptr_nonnull(w->mstate);
}

/* A GET of path with Host host, begun. */
static te_request *begin(const char *path, const char *host)
{
    te_request *r = &req;

    te_request_reset(r);
    r->arena = &arena;
    r->w = w;
    r->ops = &ops;
    r->method = "GET";
    r->method_len = 3;
    r->path = path;
    r->path_len = strlen(path);
    r->host = host;
    r->host_len = host != NULL ? strlen(host) : 0;
    strcpy(r->id, "req-1");
    r->id_len = 5;
    ck_assert_int_eq(te_request_begin(r), 0);
    return r;
}

static void setup(void)
{
    te_module_extra = extra;
    trace[0] = '\0';
    act_a = act_b = TE_OK;
    pending = NULL;
    woken = 0;
    te_arena_init(&arena);
    memset(&req, 0, sizeof(req));
}

static void teardown(void)
{
    if (req.begun && !req.ended)
        te_request_end(&req);
    te_arena_free(&arena);
    if (w != NULL)
        free(w->mstate);
    free(w);
    w = NULL;
    te_config_unref(cf);
    cf = NULL;
    te_module_extra = NULL;
}

/* ---- the runner ---- */

START_TEST(phases_in_order_handlers_in_chain_order)
{
    te_request *r;

    load("chain c b a;");
    r = begin("/", "acme.edge.test");
    ck_assert_int_eq(te_chain_run(r), TE_OK);
    ck_assert_str_eq(trace, "a.identify c.policy b.policy a.policy c.route");
    te_chain_response(r);
    te_chain_log(r);
    ck_assert_str_eq(trace, "a.identify c.policy b.policy a.policy c.route "
                            "b.response b.log");
}
END_TEST

START_TEST(module_missing_from_chain_never_runs)
{
    te_request *r;

    load("chain a c;");
    r = begin("/", "acme.edge.test");
    ck_assert_int_eq(te_chain_run(r), TE_OK);
    te_chain_response(r);
    te_chain_log(r);
    ck_assert_str_eq(trace, "a.identify a.policy c.policy c.route");
}
END_TEST

START_TEST(done_stops_the_chain_with_the_answer)
{
    te_request *r;

    load("chain a b c;");
    act_a = TE_DONE;
    r = begin("/", "acme.edge.test");
    ck_assert_int_eq(te_chain_run(r), TE_DONE);
    ck_assert_str_eq(trace, "a.identify a.policy");
    ck_assert_int_eq(r->answer_status, 403);
    ck_assert_str_eq(r->answer_type, "application/json");
    ck_assert_uint_eq(r->answer_len, strlen("{\"error\":\"a says \\\"no\\\"\","
                                            "\"request_id\":\"req-1\"}\n"));
    ck_assert(memcmp(r->answer_body,
                     "{\"error\":\"a says \\\"no\\\"\","
                     "\"request_id\":\"req-1\"}\n",
                     r->answer_len) == 0);
}
END_TEST

START_TEST(error_becomes_500)
{
    te_request *r;

    load("chain a b c;");
    act_b = TE_ERROR;
    r = begin("/", "acme.edge.test");
    ck_assert_int_eq(te_chain_run(r), TE_DONE);
    ck_assert_str_eq(trace, "a.identify a.policy b.policy");
    ck_assert_int_eq(r->answer_status, 500);
    ck_assert(strstr(r->answer_body, "\"error\":\"internal error\"") != NULL);

    /* done without an answer is a module bug: 500 too */
    act_b = TE_DONE;
    trace[0] = '\0';
    r = begin("/", "acme.edge.test");
    ck_assert_int_eq(te_chain_run(r), TE_DONE);
    ck_assert_int_eq(r->answer_status, 500);
}
END_TEST

START_TEST(suspend_then_resume_goes_on_after_the_handler)
{
    te_request *r;

    load("chain a b c;");
    act_b = TE_AGAIN;
    r = begin("/", "acme.edge.test");
    ck_assert_int_eq(te_chain_run(r), TE_AGAIN);
    ck_assert_str_eq(trace, "a.identify a.policy b.policy");
    ck_assert_ptr_eq(pending, r);

    /* woken too early: still waiting, nothing runs */
    ck_assert_int_eq(te_chain_run(r), TE_AGAIN);
    ck_assert_int_eq(woken, 0);

    te_request_resume(r, TE_OK);
    ck_assert_int_eq(woken, 1);
    ck_assert_str_eq(trace, "a.identify a.policy b.policy"); /* not yet */
    ck_assert_int_eq(te_chain_run(r), TE_OK);
    ck_assert_str_eq(trace, "a.identify a.policy b.policy c.policy c.route");

    /* a second resume is ignored */
    te_request_resume(r, TE_OK);
    ck_assert_int_eq(woken, 1);
}
END_TEST

START_TEST(resume_with_an_answer_or_error)
{
    te_request *r;

    load("chain a b c;");
    act_b = TE_AGAIN;
    r = begin("/", "acme.edge.test");
    ck_assert_int_eq(te_chain_run(r), TE_AGAIN);
    te_respond_error(r, 404, "unknown site");
    te_request_resume(r, TE_DONE);
    ck_assert_int_eq(te_chain_run(r), TE_DONE);
    ck_assert_int_eq(r->answer_status, 404);
    ck_assert_str_eq(trace, "a.identify a.policy b.policy");

    trace[0] = '\0';
    r = begin("/", "acme.edge.test");
    ck_assert_int_eq(te_chain_run(r), TE_AGAIN);
    te_request_resume(r, TE_ERROR);
    ck_assert_int_eq(te_chain_run(r), TE_DONE);
    ck_assert_int_eq(r->answer_status, 500);
}
END_TEST

/* A handler whose work finished at once resumes before returning. */
static te_status sync_policy(te_request *r, void *mconf)
{
    note("sync.policy");
    te_request_resume(r, TE_OK);
    return TE_AGAIN;
}

static const te_module mod_sync = {
    .abi = TE_MODULE_ABI,
    .name = "sync",
    .handlers = {[TE_PHASE_POLICY] = sync_policy},
};

START_TEST(resume_inside_the_handler)
{
    static const te_module *const more[] = {&mod_a, &mod_sync, &mod_c, NULL};
    te_request *r;

    te_module_extra = more;
    load("chain sync c;");
    r = begin("/", "acme.edge.test");
    ck_assert_int_eq(te_chain_run(r), TE_OK);
    ck_assert_int_eq(woken, 0);
    ck_assert_str_eq(trace, "sync.policy c.policy c.route");
}
END_TEST

/* ---- cleanups, storage ---- */

static void clean(void *arg)
{
    note(arg);
}

START_TEST(cleanups_run_once_in_reverse_order)
{
    te_request *r;

    load("chain a b c;");
    act_b = TE_AGAIN;
    r = begin("/", "acme.edge.test");
    ck_assert_int_eq(te_request_add_cleanup(r, clean, "one"), 0);
    ck_assert_int_eq(te_request_add_cleanup(r, clean, "two"), 0);
    ck_assert_int_eq(te_chain_run(r), TE_AGAIN);

    /* the client went away while suspended */
    trace[0] = '\0';
    te_request_end(r);
    ck_assert_str_eq(trace, "two one");
    te_request_end(r);
    ck_assert_str_eq(trace, "two one");

    /* and a resume after that is ignored, never run */
    te_request_resume(r, TE_OK);
    ck_assert_int_eq(woken, 0);
}
END_TEST

START_TEST(request_storage_is_zeroed_and_per_module)
{
    te_request *r;
    char *a, *big;

    load("chain a b c;");
    r = begin("/", "acme.edge.test");
    a = te_request_ctx(r, &mod_a);
    ck_assert_ptr_nonnull(a);
    for (int i = 0; i < 24; i++)
        ck_assert_int_eq(a[i], 0);
    ck_assert_ptr_eq(te_request_ctx(r, &mod_a), a);
    ck_assert_ptr_null(te_request_ctx(r, &mod_b));    /* no size */
    ck_assert_ptr_null(te_request_ctx(r, &mod_sync)); /* not configured */
    memset(a, 0x5a, 24);

    big = te_request_alloc(r, 100000);
    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(big[99999], 0);
    ck_assert_uint_eq((uintptr_t)big % 16, 0);
    te_request_end(r);

    /* the next request on the connection starts clean */
    r = begin("/", "acme.edge.test");
    a = te_request_ctx(r, &mod_a);
    for (int i = 0; i < 24; i++)
        ck_assert_int_eq(a[i], 0);
}
END_TEST

/* ---- accessors ---- */

START_TEST(host_site_and_product)
{
    te_request *r;
    size_t len;

    load("chain a;");
    r = begin("/jira/admin/x?y=1", "ACME.Edge.Test:8443");
    ck_assert_str_eq(te_request_host(r, &len), "acme.edge.test");
    ck_assert_uint_eq(len, 14);
    ck_assert_str_eq(te_request_site(r, &len), "acme");
    ck_assert_uint_eq(len, 4);
    ck_assert_str_eq(te_request_product(r), "jira-admin");
    ck_assert_uint_eq(te_request_products_configured(r), 2);

    r = begin("/wiki/", "acme.edge.test.");
    ck_assert_str_eq(te_request_site(r, NULL), "acme");
    ck_assert_ptr_null(te_request_product(r));

    r = begin("/", "a.acme.edge.test");
    ck_assert_ptr_null(te_request_site(r, NULL));
    r = begin("/", "edge.test");
    ck_assert_ptr_null(te_request_site(r, NULL));
    r = begin("/", "acme.other.test");
    ck_assert_ptr_null(te_request_site(r, NULL));
    r = begin("/", "[::1]:80");
    ck_assert_str_eq(te_request_host(r, NULL), "[::1]");
    ck_assert_ptr_null(te_request_site(r, NULL));
    r = begin("/", NULL);
    ck_assert_ptr_null(te_request_host(r, NULL));
    ck_assert_ptr_null(te_request_site(r, NULL));
}
END_TEST

START_TEST(fields_added_are_checked)
{
    te_request *r;

    load("chain a;");
    r = begin("/", "acme.edge.test");
    ck_assert_int_eq(te_request_add_upstream_header(r, "X-Tenant-Id", "t-1"),
                     0);
    ck_assert_int_eq(te_request_add_upstream_header(r, "X-A", "a\r\nX: y"), -1);
    ck_assert_int_eq(te_request_add_upstream_header(r, "X A", "1"), -1);
    ck_assert_int_eq(te_request_add_upstream_header(r, "", "1"), -1);
    ck_assert_int_eq(te_request_add_upstream_header(r, "Content-Length", "0"),
                     -1);
    ck_assert_int_eq(
        te_request_add_upstream_header(r, "transfer-encoding", "chunked"), -1);
    ck_assert_int_eq(te_response_add_header(r, "Retry-After", "5"), 0);
    ck_assert_str_eq(r->up_add->name, "X-Tenant-Id");
    ck_assert_ptr_null(r->up_add->next);
    ck_assert_str_eq(r->resp_add->value, "5");

    /* internal headers and removed ones never reach the backend */
    te_request_remove_upstream_header(r, "Cookie");
    ck_assert(te_request_field_dropped(r, "cookie", 6));
    ck_assert(te_request_field_dropped(r, "X-TENANT-ID", 11));
    ck_assert(te_request_field_dropped(r, "X-Principal-Sub", 15));
    ck_assert(!te_request_field_dropped(r, "Accept", 6));
    ck_assert_int_eq(te_request_add_upstream_header(r, "Accept", "*/*"), 0);
    ck_assert(te_request_field_dropped(r, "accept", 6));
}
END_TEST

static int fate(te_request *r, const char *name)
{
    return te_request_field_dropped(r, name, strlen(name));
}

/* The edge is the first hop: a client's claims about the client never
 * pass; X-Original-URL and X-Rewrite-URL are default internal headers. */
START_TEST(first_hop_fields_are_dropped)
{
    static const char *const names[] = {
        "X-Forwarded-For",  "x-forwarded-proto",  "X-Forwarded-Host",
        "X-Forwarded-Port", "X-Forwarded-Prefix", "Forwarded",
        "X-Real-IP",        "X-Client-IP",        "Client-IP",
        "True-Client-IP",   "X-Request-Id",       "X-Original-URL",
        "X-Rewrite-URL",
    };
    te_request *r;

    load("chain a;");
    r = begin("/", "acme.edge.test");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        ck_assert_msg(fate(r, names[i]) == TE_FIELD_DROPPED, "%s passed",
                      names[i]);
    ck_assert_int_eq(fate(r, "X-Forwarded"), TE_FIELD_KEPT);
    ck_assert_int_eq(fate(r, "Forwarded-X"), TE_FIELD_KEPT);
    ck_assert_int_eq(fate(r, "X-Real-IPs"), TE_FIELD_KEPT);
}
END_TEST

/* underscores_in_headers off (the default): any name with '_' is kept
 * back; on: it passes unless, read with '-' for '_', it is a field the
 * edge or a module owns. */
START_TEST(names_with_underscores_follow_the_directive)
{
    te_request *r;

    load("chain a;");
    r = begin("/", "acme.edge.test");
    ck_assert_int_eq(fate(r, "X_Tenant_Id"), TE_FIELD_UNDERSCORE);
    ck_assert_int_eq(fate(r, "X_Custom"), TE_FIELD_UNDERSCORE);
    ck_assert_int_eq(fate(r, "_"), TE_FIELD_UNDERSCORE);
    ck_assert_int_eq(fate(r, "X-Custom"), TE_FIELD_KEPT);
    te_request_end(r);
    free(w->mstate);
    free(w);
    te_config_unref(cf);

    load("chain a;\nunderscores_in_headers on;");
    r = begin("/", "acme.edge.test");
    ck_assert_int_eq(fate(r, "X_Custom"), TE_FIELD_KEPT);
    ck_assert_int_eq(fate(r, "X_Tenant_Id"), TE_FIELD_DROPPED);
    ck_assert_int_eq(fate(r, "x_principal_user"), TE_FIELD_DROPPED);
    ck_assert_int_eq(fate(r, "X_Forwarded_For"), TE_FIELD_DROPPED);
    ck_assert_int_eq(fate(r, "X_Real_IP"), TE_FIELD_DROPPED);
    ck_assert_int_eq(fate(r, "X_Request_Id"), TE_FIELD_DROPPED);
    ck_assert_int_eq(fate(r, "X_Rewrite_URL"), TE_FIELD_DROPPED);

    /* what a module removes or sets, in either spelling */
    te_request_remove_upstream_header(r, "X-Drop-Me");
    ck_assert_int_eq(te_request_add_upstream_header(r, "X-Set_By-Me", "1"), 0);
    ck_assert_int_eq(fate(r, "x_drop_me"), TE_FIELD_DROPPED);
    ck_assert_int_eq(fate(r, "X-Set-By-Me"), TE_FIELD_DROPPED);
    ck_assert_int_eq(fate(r, "X_Set_By_Me"), TE_FIELD_DROPPED);
}
END_TEST

START_TEST(shard_must_be_in_the_tenant_region)
{
    te_tcs_context *eu;
    te_request *r;

    load("chain a;");
    r = begin("/", "acme.edge.test");
    ck_assert_int_eq(te_request_set_shard(r, "nowhere"), TE_ERROR);
    ck_assert_int_eq(te_request_set_shard(r, "us-1"), TE_OK); /* no tenant */
    ck_assert_str_eq(te_request_shard(r), "us-1");
    ck_assert_str_eq(te_shard_region(r, "eu-1"), "eu");
    ck_assert_ptr_null(te_shard_region(r, "nowhere"));

    eu = te_tcs_context_make("t-1", "acme", "eu", "eu-1");
    ck_assert_ptr_nonnull(eu);
    r = begin("/", "acme.edge.test");
    te_request_set_tenant(r, eu);
    te_tcs_context_free(eu); /* the request holds its own reference */
    ck_assert_str_eq(te_request_tenant(r)->id, "t-1");
    ck_assert_int_eq(te_request_set_shard(r, "us-1"), TE_DECLINED);
    ck_assert_ptr_null(te_request_shard(r));
    ck_assert_int_eq(te_request_set_shard(r, "eu-1"), TE_OK);
    te_request_end(r); /* drops the last reference: LSan checks */
}
END_TEST

START_TEST(respond_rules)
{
    te_request *r;
    te_principal p = {TE_PRINCIPAL_USER, "u1", "t-1", "iss", NULL, "jwt"};

    load("chain a;");
    r = begin("/", "acme.edge.test");
    ck_assert_int_eq(te_respond(r, 99, NULL, "", 0), TE_ERROR);
    ck_assert_int_eq(te_respond(r, 204, NULL, NULL, 0), TE_OK);
    ck_assert_int_eq(te_respond(r, 200, "text/plain", "x", 1), TE_ERROR);
    ck_assert_int_eq(r->answer_status, 204);

    ck_assert_int_eq(te_request_set_principal(r, &p), 0);
    ck_assert_str_eq(te_request_principal(r)->subject, "u1");
    ck_assert_ptr_null(te_request_principal(r)->scopes);
}
END_TEST

/* ---- workers ---- */

static int w_init(void *mconf, void **wstate)
{
    note("w.init");
    *wstate = malloc(8);
    return *wstate != NULL ? 0 : -1;
}

static void w_exit(void *mconf, void *wstate)
{
    note("w.exit");
    free(wstate);
}

static int nope_init(void *mconf, void **wstate)
{
    note("nope.init");
    return -1;
}

static const te_module mod_w = {
    .abi = TE_MODULE_ABI,
    .name = "w",
    .init_worker = w_init,
    .exit_worker = w_exit,
};

static const te_module mod_nope = {
    .abi = TE_MODULE_ABI,
    .name = "nope",
    .init_worker = nope_init,
    .exit_worker = w_exit,
};

START_TEST(worker_state_per_module)
{
    static const te_module *const more[] = {&mod_a, &mod_w, &mod_nope, NULL};
    const te_module *failed = NULL;
    te_request *r;

    te_module_extra = more;
    load("chain a w;");
    ck_assert_int_eq(te_chainconf_init_worker(cf->chain, w->mstate, &failed),
                     0);
    r = begin("/", "acme.edge.test");
    ck_assert_ptr_nonnull(te_request_worker_state(r, &mod_w));
    ck_assert_ptr_null(te_request_worker_state(r, &mod_a));
    te_chainconf_exit_worker(cf->chain, w->mstate);
    ck_assert_str_eq(trace, "w.init w.exit");
}
END_TEST

START_TEST(init_worker_failure_undoes_the_others)
{
    static const te_module *const more[] = {&mod_a, &mod_w, &mod_nope, NULL};
    const te_module *failed = NULL;

    te_module_extra = more;
    load("chain w nope;");
    ck_assert_int_eq(te_chainconf_init_worker(cf->chain, w->mstate, &failed),
                     -1);
    ck_assert_ptr_eq(failed, &mod_nope);
    ck_assert_str_eq(trace, "w.init nope.init w.exit");
}
END_TEST

static Suite *chain_suite(void)
{
    Suite *s = suite_create("chain");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, phases_in_order_handlers_in_chain_order);
    tcase_add_test(tc, module_missing_from_chain_never_runs);
    tcase_add_test(tc, done_stops_the_chain_with_the_answer);
    tcase_add_test(tc, error_becomes_500);
    tcase_add_test(tc, suspend_then_resume_goes_on_after_the_handler);
    tcase_add_test(tc, resume_with_an_answer_or_error);
    tcase_add_test(tc, resume_inside_the_handler);
    tcase_add_test(tc, cleanups_run_once_in_reverse_order);
    tcase_add_test(tc, request_storage_is_zeroed_and_per_module);
    tcase_add_test(tc, host_site_and_product);
    tcase_add_test(tc, fields_added_are_checked);
    tcase_add_test(tc, first_hop_fields_are_dropped);
    tcase_add_test(tc, names_with_underscores_follow_the_directive);
    tcase_add_test(tc, shard_must_be_in_the_tenant_region);
    tcase_add_test(tc, respond_rules);
    tcase_add_test(tc, worker_state_per_module);
    tcase_add_test(tc, init_worker_failure_undoes_the_others);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(chain_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
