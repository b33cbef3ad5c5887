/*
 * test_tcs_store.c: the static and file tenant stores, src/tcs_store.c,
 * through the worker-level service (te_tcs_create / te_tcs_get) on a
 * real event_base, as a worker uses them. Neither store may ever wait,
 * so every answer must come back at once.
 */
#define _GNU_SOURCE
#include <check.h>
#include <event2/event.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "tcs.h"
#include "tcs_store.h"

#define TOP                                                                    \
    "listen 127.0.0.1:8080;\n"                                                 \
    "domain edge.test;\n"                                                      \
    "region eu { shard eu-1 { backend 127.0.0.1:9101; } }\n"                   \
    "region us { shard us-1 { backend 127.0.0.1:9201; } }\n"

#define REC(id, site, region, extra)                                           \
    "{\"id\":\"" id "\",\"site\":\"" site "\",\"status\":\"active\","          \
    "\"region\":\"" region "\",\"version\":1,\"products\":{}" extra "}"

static char errbuf[1024];
static char tmpdir[64];
static struct event_base *base;

static void setup(void)
{
    te_log_level = TE_LOG_ERROR;
    strcpy(tmpdir, "/tmp/te-tcs-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    event_base_free(base);
    nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *put(const char *name, const char *text)
{
    static char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static te_config *load(const char *name)
{
    char path[PATH_MAX];
    te_config *cf;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    cf = te_config_load(path, errbuf, sizeof(errbuf));
    ck_assert_msg(cf != NULL, "%s", errbuf);
    return cf;
}

static void never_called(void *arg, te_status rc, te_tcs_context *ctx)
{
    (void)arg;
    (void)rc;
    (void)ctx;
    ck_abort_msg("a table store called back");
}

/* Looks <site> up, which must answer at once with <want>; returns the
 * context (a reference for the caller) or NULL. */
static te_tcs_context *get(te_tcs *t, const char *site, size_t len,
                           te_status want)
{
    te_tcs_context *ctx = (te_tcs_context *)1;
    te_tcs_wait *w = (te_tcs_wait *)1;
    te_status rc = te_tcs_get(t, site, len, &ctx, never_called, NULL, &w);

    ck_assert_int_eq(rc, want);
    ck_assert_ptr_null(w);
    if (want != TE_OK)
        ck_assert_ptr_null(ctx);
    return ctx;
}

/* ---- static ---- */

START_TEST(static_sites_become_contexts)
{
    te_config *cf;
    te_tcs_context *ctx;
    te_tcs *t;

    put("edge.conf", TOP "site acme shard eu-1 id t-0001;\n"
                         "site Globex shard us-1;\n");
    cf = load("edge.conf");
    ck_assert_int_eq(cf->tcs_store, TE_TCS_STORE_STATIC);
    t = te_tcs_create(base, cf, 0);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(te_tcs_ready(t), 1);

    ctx = get(t, "acme", 4, TE_OK);
    ck_assert_str_eq(ctx->id, "t-0001");
    ck_assert_str_eq(ctx->site, "acme");
    ck_assert_str_eq(ctx->region, "eu");
    ck_assert_str_eq(ctx->shard, "eu-1");
    ck_assert_int_eq(ctx->status, TE_TCS_ACTIVE);
    ck_assert_uint_eq(ctx->nproducts, 0);
    ck_assert_uint_eq(ctx->nfeatures, 0);
    ck_assert_int_eq(ctx->refs, 2); /* the table's and ours */
    te_tcs_context_free(ctx);

    /* the id defaults to the site; names are stored lowercase */
    ctx = get(t, "globex", 6, TE_OK);
    ck_assert_str_eq(ctx->id, "globex");
    ck_assert_str_eq(ctx->region, "us");
    ck_assert_str_eq(ctx->shard, "us-1");
    te_tcs_context_free(ctx);

    /* the site is <len> bytes, not a C string */
    ctx = get(t, "acmexyz", 4, TE_OK);
    ck_assert_str_eq(ctx->id, "t-0001");
    te_tcs_context_free(ctx);

    get(t, "acm", 3, TE_DECLINED);
    get(t, "initech", 7, TE_DECLINED);
    get(t, "ACME", 4, TE_DECLINED); /* not a valid site: never a tenant */
    get(t, "", 0, TE_DECLINED);
    get(t, NULL, 0, TE_DECLINED);

    te_tcs_destroy(t);
    te_config_unref(cf);
}
END_TEST

START_TEST(static_without_sites_knows_nobody)
{
    te_config *cf;
    te_tcs *t;

    put("edge.conf", TOP "tcs { store static; }\n");
    cf = load("edge.conf");
    t = te_tcs_create(base, cf, 3);
    ck_assert_ptr_nonnull(t);
    get(t, "acme", 4, TE_DECLINED);
    te_tcs_destroy(t);
    te_config_unref(cf);
}
END_TEST

/* Many sites: every one is found, by binary search, and no other. */
START_TEST(static_many_sites)
{
    char *text = malloc(64 * 1024), name[16];
    size_t off;
    te_config *cf;
    te_tcs *t;

    ck_assert_ptr_nonnull(text);
    off = (size_t)snprintf(text, 64 * 1024, "%s", TOP);
    for (int i = 0; i < 500; i++)
        off += (size_t)snprintf(text + off, 64 * 1024 - off,
                                "site s%d shard %s;\n", i * 7,
                                i % 2 ? "eu-1" : "us-1");
    put("edge.conf", text);
    free(text);
    cf = load("edge.conf");
    t = te_tcs_create(base, cf, 0);
    ck_assert_ptr_nonnull(t);

    for (int i = 0; i < 3500; i++) {
        int len = snprintf(name, sizeof(name), "s%d", i);
        te_tcs_context *ctx =
            get(t, name, (size_t)len, i % 7 ? TE_DECLINED : TE_OK);

        if (ctx != NULL) {
            ck_assert_str_eq(ctx->site, name);
            ck_assert_str_eq(ctx->shard, (i / 7) % 2 ? "eu-1" : "us-1");
            te_tcs_context_free(ctx);
        }
    }
    te_tcs_destroy(t);
    te_config_unref(cf);
}
END_TEST

/* ---- file ---- */

START_TEST(file_store_serves_its_records)
{
    const te_tcs_product *p;
    char dir[PATH_MAX];
    te_tcs_context *ctx;
    te_config *cf;
    te_tcs *t;

    snprintf(dir, sizeof(dir), "%s/data", tmpdir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    put("data/tenants.json",
        "{\"tenants\":["
        "{\"id\":\"t-0001\",\"site\":\"acme\",\"status\":\"active\","
        "\"region\":\"eu\",\"shard\":\"eu-1\",\"version\":3,"
        "\"features\":[\"new-editor\"],\"products\":{\"jira\":"
        "{\"status\":\"suspended\",\"shard\":\"eu-1\",\"seats\":5}}},"
        "{\"id\":\"t-0002\",\"site\":\"globex\",\"status\":\"suspended\","
        "\"region\":\"us\",\"version\":1,\"products\":{}}]}");
    put("edge.conf", TOP "tcs {\n    store file;\n    file data/tenants.json;\n"
                         "}\n");
    cf = load("edge.conf");
    ck_assert_int_eq(cf->tcs_store, TE_TCS_STORE_FILE);
    t = te_tcs_create(base, cf, 1);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(te_tcs_ready(t), 1);

    ctx = get(t, "acme", 4, TE_OK);
    ck_assert_str_eq(ctx->id, "t-0001");
    ck_assert_str_eq(ctx->shard, "eu-1");
    ck_assert_uint_eq(ctx->version, 3);
    ck_assert_int_eq(te_tcs_context_has_feature(ctx, "new-editor"), 1);
    p = te_tcs_context_product(ctx, "jira");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->status, TE_TCS_SUSPENDED);
    ck_assert_int_eq(p->seats, 5);
    te_tcs_context_free(ctx);

    ctx = get(t, "globex", 6, TE_OK);
    ck_assert_int_eq(ctx->status, TE_TCS_SUSPENDED);
    ck_assert_ptr_null(ctx->shard);
    te_tcs_context_free(ctx);

    get(t, "initech", 7, TE_DECLINED);

    /* the file was read once, at load: workers build from those bytes */
    ck_assert_int_eq(unlink(put("data/tenants.json", "")), 0);
    te_tcs_destroy(t);
    t = te_tcs_create(base, cf, 2);
    ck_assert_ptr_nonnull(t);
    ctx = get(t, "acme", 4, TE_OK);
    te_tcs_context_free(ctx);
    te_tcs_destroy(t);
    te_config_unref(cf);
}
END_TEST

START_TEST(empty_tenant_list_is_valid)
{
    te_config *cf;
    te_tcs *t;

    put("tenants.json", "{\"tenants\":[]}");
    put("edge.conf", TOP "tcs { store file; file tenants.json; }\n");
    cf = load("edge.conf");
    t = te_tcs_create(base, cf, 0);
    ck_assert_ptr_nonnull(t);
    get(t, "acme", 4, TE_DECLINED);
    te_tcs_destroy(t);
    te_config_unref(cf);
}
END_TEST

/* te_tcs_file_load's reasons, without the config around them. */
struct file_case {
    const char *text;
    const char *reason;
};

static const struct file_case bad_files[] = {
    {"", "invalid JSON at line 1 column 0: '[' or '{' expected near end of "
         "file"},
    {"[]", "not a JSON object"},
    {"{}", "\"tenants\": missing"},
    {"{\"tenants\":{}}", "\"tenants\": not an array"},
    {"{\"tenants\":[],\"tenants\":[]}", "invalid JSON at line 1 column 23: "
                                        "duplicate object key near "
                                        "'\"tenants\"'"},
    {"{\"tenants\":[1]}", "tenants[0]: record: not an object"},
    {"{\"tenants\":[" REC("t-1", "a", "eu", "") "," REC("t-2", "b", "EU",
                                                        "") "]}",
     "tenants[1]: region: not a valid name"},
    {"{\"tenants\":[" REC("t-1", "a", "eu", ",\"shard\":\"x y\"") "]}",
     "tenants[0]: shard: not a valid name"},
    {"{\"tenants\":[" REC("t-1", "a", "eu", "") "," REC(
         "t-2", "b", "eu", "") "," REC("t-3", "a", "eu", "") "]}",
     "tenants[2]: site \"a\" listed twice"},
    {"{\"tenants\":[" REC("t-1", "a", "eu", "") "," REC("t-1", "b", "eu",
                                                        "") "]}",
     "tenants[1]: id \"t-1\" listed twice"},
};

START_TEST(file_refusals_have_reasons)
{
    const struct file_case *c = &bad_files[_i];
    char *text = (char *)1;
    const char *path = put("tenants.json", c->text);
    size_t len = 0;

    ck_assert_int_eq(
        te_tcs_file_load(path, NULL, &text, &len, errbuf, sizeof(errbuf)), -1);
    ck_assert_ptr_null(text);
    ck_assert_str_eq(errbuf, c->reason);
}
END_TEST

START_TEST(file_unreadable)
{
    char path[PATH_MAX], *text = NULL;
    size_t len;

    snprintf(path, sizeof(path), "%s/none.json", tmpdir);
    ck_assert_int_eq(
        te_tcs_file_load(path, NULL, &text, &len, errbuf, sizeof(errbuf)), -1);
    ck_assert_str_eq(errbuf, "cannot read it: No such file or directory");
    ck_assert_int_eq(
        te_tcs_file_load(tmpdir, NULL, &text, &len, errbuf, sizeof(errbuf)),
        -1);
    ck_assert_str_eq(errbuf, "cannot read it: not a regular file");
}
END_TEST

/* Every shard a record of the tenants file names must be declared in
 * the record's region: `tenantedge -t` names the file, the record and
 * the shard, instead of the edge answering 503 for that tenant later. */
struct shard_case {
    const char *record;
    const char *reason;
};

static const struct shard_case bad_shards[] = {
    {REC("t-2", "beta", "eu", ",\"shard\":\"eu-9\""),
     "tenants[1] (site \"beta\"): shard \"eu-9\" is in no region block"},
    {REC("t-2", "beta", "eu", ",\"shard\":\"us-1\""),
     "tenants[1] (site \"beta\"): shard \"us-1\" is in region \"us\", "
     "not in the record's region \"eu\""},
    {"{\"id\":\"t-2\",\"site\":\"beta\",\"status\":\"active\","
     "\"region\":\"eu\",\"version\":1,\"products\":{"
     "\"jira\":{\"status\":\"active\",\"shard\":\"eu-1\"},"
     "\"wiki\":{\"status\":\"active\",\"shard\":\"nowhere\"}}}",
     "tenants[1] (site \"beta\"): product wiki shard \"nowhere\" is in no "
     "region block"},
    {"{\"id\":\"t-2\",\"site\":\"beta\",\"status\":\"destroyed\","
     "\"region\":\"us\",\"version\":1,\"products\":{"
     "\"jira\":{\"status\":\"active\",\"shard\":\"eu-1\"}}}",
     "tenants[1] (site \"beta\"): product jira shard \"eu-1\" is in region "
     "\"eu\", not in the record's region \"us\""},
};

START_TEST(file_shards_must_be_in_the_record_region)
{
    const struct shard_case *c = &bad_shards[_i];
    char text[2048], want[PATH_MAX + 1024];

    snprintf(text, sizeof(text), "{\"tenants\":[%s,\n%s]}",
             REC("t-1", "acme", "eu", ",\"shard\":\"eu-1\""), c->record);
    put("tenants.json", text);
    put("edge.conf", TOP "tcs {\n    store file;\n    file tenants.json;\n"
                         "}\n");
    snprintf(want, sizeof(want),
             "%s/edge.conf:7:5: tenants file \"%s/tenants.json\": %s", tmpdir,
             tmpdir, c->reason);

    snprintf(text, sizeof(text), "%s/edge.conf", tmpdir);
    ck_assert_ptr_null(te_config_load(text, errbuf, sizeof(errbuf)));
    ck_assert_str_eq(errbuf, want);
}
END_TEST

/* The shipped sample and its tenants file agree with each other. */
START_TEST(sample_file_config_loads)
{
    const char *top = getenv("TE_TOP_SRCDIR");
    char path[PATH_MAX];
    te_tcs_context *ctx;
    te_config *cf;
    te_tcs *t;

    snprintf(path, sizeof(path), "%s/conf/tenantedge-file.conf",
             top != NULL ? top : ".");
    cf = te_config_load(path, errbuf, sizeof(errbuf));
    ck_assert_msg(cf != NULL, "%s", errbuf);
    t = te_tcs_create(base, cf, 0);
    ck_assert_ptr_nonnull(t);

    ctx = get(t, "acme", 4, TE_OK);
    ck_assert_str_eq(ctx->region, "eu");
    ck_assert_str_eq(ctx->shard, "eu-1");
    te_tcs_context_free(ctx);
    ctx = get(t, "globex", 6, TE_OK);
    ck_assert_str_eq(ctx->region, "us");
    ck_assert_str_eq(ctx->shard, "us-1");
    te_tcs_context_free(ctx);
    ctx = get(t, "initech", 7, TE_OK);
    ck_assert_int_eq(ctx->status, TE_TCS_SUSPENDED);
    te_tcs_context_free(ctx);

    te_tcs_destroy(t);
    te_config_unref(cf);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("tcs_store");
    TCase *tc = tcase_create("store");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, static_sites_become_contexts);
    tcase_add_test(tc, static_without_sites_knows_nobody);
    tcase_add_test(tc, static_many_sites);
    tcase_add_test(tc, file_store_serves_its_records);
    tcase_add_test(tc, empty_tenant_list_is_valid);
    tcase_add_loop_test(tc, file_refusals_have_reasons, 0,
                        (int)(sizeof(bad_files) / sizeof(bad_files[0])));
    tcase_add_test(tc, file_unreadable);
    tcase_add_loop_test(tc, file_shards_must_be_in_the_record_region, 0,
                        (int)(sizeof(bad_shards) / sizeof(bad_shards[0])));
    tcase_add_test(tc, sample_file_config_loads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(store_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
