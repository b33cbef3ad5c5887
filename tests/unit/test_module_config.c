/*
 * test_module_config.c: the configuration of the module chain: the core
 * directives of src/module.c (chain, module, load_module, product,
 * internal_headers) and the te_directive parser of src/config.c that
 * reads them and every module's directives.
 *
 * Each error message is provoked and compared whole, file:line:col
 * included, as test_config.c does for the core's own directives. Two
 * test modules stand for third-party ones (te_module_extra).
 */
#define _GNU_SOURCE
#include "config.h"
#include "module.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEAD                                                                   \
    "listen 127.0.0.1:8080;\n"                                                 \
    "domain edge.test;\n"                                                      \
    "region eu { shard eu-1 { backend 127.0.0.1:9101 zone z1; } }\n"

static char errbuf[1024];

/* ---- the test modules ---- */

typedef struct tconf {
    unsigned top;
    uint64_t size;
    unsigned wait_ms;
    unsigned items;
    const char *name;
    const char *shard;
    const char *shard_region;
    int groups;
} tconf;

static int created, finished, freed;

static void *t_create(void)
{
    created++;
    return calloc(1, sizeof(tconf));
}

static void t_free(void *mconf)
{
    freed++;
    free(mconf);
}

/* The shard named by `shard` must exist; its region is kept. */
static int t_finish(te_conf_ctx *cx, void *mconf)
{
    tconf *c = mconf;

    finished++;
    if (c->shard != NULL &&
        !te_conf_shard_region(cx, c->shard, &c->shard_region))
        return te_conf_error(cx, 0, "unknown shard \"%s\"", c->shard);
    return 0;
}

static int set_top(te_conf_ctx *cx, void *mconf, unsigned argc,
                   const char *const *argv)
{
    return te_conf_uint(cx, 1, argv[1], 1, 10, &((tconf *)mconf)->top);
}

static int set_size(te_conf_ctx *cx, void *mconf, unsigned argc,
                    const char *const *argv)
{
    return te_conf_size(cx, 1, argv[1], &((tconf *)mconf)->size);
}

static int set_wait(te_conf_ctx *cx, void *mconf, unsigned argc,
                    const char *const *argv)
{
    return te_conf_duration(cx, 1, argv[1], &((tconf *)mconf)->wait_ms);
}

static int set_name(te_conf_ctx *cx, void *mconf, unsigned argc,
                    const char *const *argv)
{
    if (argc == 3)
        return te_conf_error(cx, 2, "unexpected \"%s\"", argv[2]);
    ((tconf *)mconf)->name = te_conf_strdup(cx, argv[1]);
    return 0;
}

static int set_shard(te_conf_ctx *cx, void *mconf, unsigned argc,
                     const char *const *argv)
{
    ((tconf *)mconf)->shard = te_conf_strdup(cx, argv[1]);
    return 0;
}

static int set_group(te_conf_ctx *cx, void *mconf, unsigned argc,
                     const char *const *argv)
{
    ((tconf *)mconf)->groups++;
    return 0;
}

static int set_item(te_conf_ctx *cx, void *mconf, unsigned argc,
                    const char *const *argv)
{
    ((tconf *)mconf)->items += argc - 1;
    return 0;
}

static const te_directive group_table[] = {
    {"item", 1, TE_DIR_ARGS_ANY, 0, set_item, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static const te_directive t_directives[] = {
    {"tmod_top", 1, 1, TE_DIR_TOP, set_top, NULL},
    {"size", 1, 1, 0, set_size, NULL},
    {"wait", 1, 1, 0, set_wait, NULL},
    {"name", 1, 2, 0, set_name, NULL},
    {"shard", 1, 1, 0, set_shard, NULL},
    {"group", 1, 1, TE_DIR_BLOCK, set_group, group_table},
    {NULL, 0, 0, 0, NULL, NULL},
};

static te_status t_handler(te_request *r, void *mconf)
{
    return TE_OK;
}

static const te_module tmod = {
    .abi = TE_MODULE_ABI,
    .name = "tmod",
    .directives = t_directives,
    .create_conf = t_create,
    .finish_conf = t_finish,
    .free_conf = t_free,
    .handlers =
        {[TE_PHASE_IDENTIFY] = t_handler, [TE_PHASE_POLICY] = t_handler},
};

/* No directives, no conf, one handler. */
static const te_module bare = {
    .abi = TE_MODULE_ABI,
    .name = "bare",
    .handlers = {[TE_PHASE_POLICY] = t_handler},
};

static const te_module *const extra[] = {&tmod, &bare, NULL};

static void setup(void)
{
    te_module_extra = extra;
    created = finished = freed = 0;
}

static void teardown(void)
{
    te_module_extra = NULL;
}

static te_config *parse(const char *text)
{
    return te_config_parse("t.conf", text, strlen(text), errbuf,
                           sizeof(errbuf));
}

static void expect_error(const char *text, const char *msg)
{
    te_config *cf = parse(text);

    ck_assert_msg(cf == NULL, "accepted: %s", text);
    ck_assert_str_eq(errbuf, msg);
}

static tconf *conf_of(te_config *cf, const char *name)
{
    for (unsigned i = 0; i < cf->chain->nmods; i++)
        if (strcmp(cf->chain->mods[i]->m->name, name) == 0)
            return cf->chain->mods[i]->conf;
    return NULL;
}

/* The names of the modules with a handler in phase, in order. */
static const char *phase_names(te_config *cf, unsigned phase)
{
    static char out[256];
    const te_chainconf *cc = cf->chain;

    out[0] = '\0';
    for (unsigned i = 0; i < cc->nslots[phase]; i++) {
        strcat(out, i ? " " : "");
        strcat(out, cc->slots[phase][i].m->name);
    }
    return out;
}

/* ---- the chain ---- */

START_TEST(default_chain_is_tenant_policy_route)
{
    te_config *cf = parse(HEAD);

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(cf->chain->nchain, 3);
    ck_assert_str_eq(phase_names(cf, TE_PHASE_TENANT), "tenant");
    ck_assert_str_eq(phase_names(cf, TE_PHASE_POLICY), "policy");
    ck_assert_str_eq(phase_names(cf, TE_PHASE_ROUTE), "route");
    ck_assert_str_eq(phase_names(cf, TE_PHASE_IDENTIFY), "");
    ck_assert_int_eq(created, 0); /* tmod is not in the chain */
    te_config_unref(cf);
}
END_TEST

START_TEST(chain_sets_modules_and_their_order)
{
    te_config *cf = parse(HEAD "chain tenant bare tmod route;\n");

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_str_eq(phase_names(cf, TE_PHASE_POLICY), "bare tmod");
    ck_assert_str_eq(phase_names(cf, TE_PHASE_IDENTIFY), "tmod");
    ck_assert_str_eq(phase_names(cf, TE_PHASE_ROUTE), "route");
    ck_assert_int_eq(created, 1);
    ck_assert_int_eq(finished, 1);
    te_config_unref(cf);
    ck_assert_int_eq(freed, 1);

    cf = parse(HEAD "chain tmod bare;\n");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_str_eq(phase_names(cf, TE_PHASE_POLICY), "tmod bare");
    ck_assert_str_eq(phase_names(cf, TE_PHASE_TENANT), "");
    te_config_unref(cf);
}
END_TEST

START_TEST(chain_errors)
{
    expect_error(HEAD "chain tenant nosuch route;\n",
                 "t.conf:4:14: unknown module \"nosuch\" in \"chain\"");
    expect_error(HEAD "chain tenant route tenant;\n",
                 "t.conf:4:20: module \"tenant\" is named twice in \"chain\"");
    expect_error(HEAD "chain tenant;\nchain route;\n",
                 "t.conf:5:1: duplicate directive \"chain\"");
    expect_error(HEAD "chain;\n",
                 "t.conf:4:1: too few arguments for \"chain\"");
    expect_error(HEAD "chain tenant { }\n",
                 "t.conf:4:14: directive \"chain\" takes no block");
    expect_error(HEAD "region us { chain tenant; }\n",
                 "t.conf:4:13: unknown directive \"chain\"");
}
END_TEST

/* ---- module blocks and module directives ---- */

START_TEST(module_block_reaches_the_module)
{
    te_config *cf = parse(HEAD "module tmod {\n"
                               "    size 8k;\n"
                               "    wait 250ms;\n"
                               "    name \"a b\";\n"
                               "    group g1 { item a b c; item d; }\n"
                               "    group g2 { }\n"
                               "    shard eu-1;\n"
                               "}\n"
                               "tmod_top 7;\n"
                               "chain tmod tenant route;\n");
    tconf *c;

    ck_assert_msg(cf != NULL, "%s", errbuf);
    c = conf_of(cf, "tmod");
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->size, 8192);
    ck_assert_uint_eq(c->wait_ms, 250);
    ck_assert_str_eq(c->name, "a b");
    ck_assert_int_eq(c->groups, 2);
    ck_assert_uint_eq(c->items, 4);
    ck_assert_uint_eq(c->top, 7);
    ck_assert_str_eq(c->shard_region, "eu");
    ck_assert_int_eq(created, 1);
    ck_assert_int_eq(finished, 1);
    te_config_unref(cf);
    ck_assert_int_eq(freed, 1);
}
END_TEST

/* A module configured but left out of the chain is still checked (and
 * freed), so a typo does not wait for the day it is chained. */
START_TEST(module_outside_the_chain_is_checked)
{
    te_config *cf = parse(HEAD "module tmod { size 1k; }\n");

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_int_eq(finished, 1);
    ck_assert_str_eq(phase_names(cf, TE_PHASE_IDENTIFY), "");
    te_config_unref(cf);
    ck_assert_int_eq(freed, 1);

    expect_error(HEAD "module tmod {\n    shard nowhere;\n}\n",
                 "t.conf:4:8: unknown shard \"nowhere\"");
    ck_assert_int_eq(freed, 2); /* a failed load frees the conf too */
}
END_TEST

START_TEST(module_errors)
{
    expect_error(HEAD "module nosuch { }\n",
                 "t.conf:4:8: unknown module \"nosuch\"");
    expect_error(HEAD "module tmod { }\nmodule tmod { }\n",
                 "t.conf:5:8: duplicate \"module tmod\" block");
    expect_error(HEAD "module tmod;\n",
                 "t.conf:4:12: directive \"module\" needs a block");
    expect_error(HEAD "module tmod {\n  bogus 1;\n}\n",
                 "t.conf:5:3: unknown directive \"bogus\" in module \"tmod\"");
    expect_error(HEAD "module bare { size 1k; }\n",
                 "t.conf:4:15: unknown directive \"size\" in module \"bare\"");
    expect_error(HEAD "module tmod { group g { size 1k; } }\n",
                 "t.conf:4:25: unknown directive \"size\" in module \"tmod\"");
    expect_error(HEAD "module tmod { size; }\n",
                 "t.conf:4:15: too few arguments for \"size\"");
    expect_error(HEAD "module tmod { size 1k 2k; }\n",
                 "t.conf:4:23: too many arguments for \"size\" (missing "
                 "\";\"?)");
    expect_error(HEAD "module tmod { size 1k { } }\n",
                 "t.conf:4:23: directive \"size\" takes no block");
    expect_error(HEAD "module tmod { group g; }\n",
                 "t.conf:4:22: directive \"group\" needs a block");
    expect_error(HEAD "module tmod { size 1k;\n",
                 "t.conf:5:1: unexpected end of file, expecting \"}\"");
    expect_error(HEAD "module tmod { size 1k }\n",
                 "t.conf:4:23: unexpected \"}\", expecting \";\"");
    expect_error(HEAD "module tmod { ; }\n", "t.conf:4:15: unexpected \";\"");
}
END_TEST

/* The core helpers a setter uses report at the argument's column. */
START_TEST(setter_helpers_report_their_argument)
{
    expect_error(HEAD "module tmod { size 12q; }\n",
                 "t.conf:4:20: invalid size \"12q\" in \"size\"");
    expect_error(HEAD "module tmod { wait soon; }\n",
                 "t.conf:4:20: invalid duration \"soon\" in \"wait\"");
    expect_error(HEAD "tmod_top x;\n",
                 "t.conf:4:10: invalid number \"x\" in \"tmod_top\"");
    expect_error(HEAD "tmod_top 11;\n",
                 "t.conf:4:10: \"tmod_top\" must be between 1 and 10");
    expect_error(HEAD "module tmod { name a b; }\n",
                 "t.conf:4:22: unexpected \"b\"");
}
END_TEST

/* Only TE_DIR_TOP directives are allowed outside the module's block. */
START_TEST(top_level_module_directives)
{
    te_config *cf = parse(HEAD "tmod_top 3;\n");

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(conf_of(cf, "tmod")->top, 3);
    te_config_unref(cf);

    expect_error(HEAD "size 1k;\n", "t.conf:4:1: unknown directive \"size\"");
    expect_error(HEAD "region us { tmod_top 3; }\n",
                 "t.conf:4:13: unknown directive \"tmod_top\"");
    /* inside its own block too */
    cf = parse(HEAD "module tmod { tmod_top 4; }\n");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(conf_of(cf, "tmod")->top, 4);
    te_config_unref(cf);
}
END_TEST

/* finish_conf errors point at the module's first directive, else its
 * name in the chain. */
START_TEST(finish_errors_point_at_the_module)
{
    expect_error(HEAD "tmod_top 1;\nmodule tmod { shard x; }\n",
                 "t.conf:4:1: unknown shard \"x\"");
    expect_error(HEAD "chain tenant tmod;\nmodule tmod { shard x; }\n",
                 "t.conf:4:14: unknown shard \"x\"");
}
END_TEST

/* ---- products ---- */

START_TEST(products_longest_prefix_wins)
{
    te_config *cf = parse(HEAD "product jira /jira/;\n"
                               "product jira-admin /jira/admin/;\n"
                               "product wiki /wiki;\n");
    const te_chainconf *cc;

    ck_assert_msg(cf != NULL, "%s", errbuf);
    cc = cf->chain;
    ck_assert_uint_eq(cc->nproducts, 3);
    ck_assert_str_eq(te_chainconf_product(cc, "/jira/x", 7)->name, "jira");
    ck_assert_str_eq(te_chainconf_product(cc, "/jira/admin/x", 13)->name,
                     "jira-admin");
    ck_assert_str_eq(te_chainconf_product(cc, "/wiki?q=/jira/", 14)->name,
                     "wiki");
    ck_assert_ptr_null(te_chainconf_product(cc, "/jira", 5));
    ck_assert_ptr_null(te_chainconf_product(cc, "/x?/jira/", 9));
    te_config_unref(cf);
}
END_TEST

START_TEST(product_errors)
{
    expect_error(HEAD "product Jira /jira/;\n",
                 "t.conf:4:9: invalid product name \"Jira\"");
    expect_error(HEAD "product jira jira/;\n",
                 "t.conf:4:14: invalid product prefix \"jira/\": expected a "
                 "path starting with \"/\", without query");
    expect_error(HEAD "product jira /j?x;\n",
                 "t.conf:4:14: invalid product prefix \"/j?x\": expected a "
                 "path starting with \"/\", without query");
    expect_error(HEAD "product jira /a/;\nproduct jira /b/;\n",
                 "t.conf:5:9: duplicate product \"jira\"");
    expect_error(HEAD "product jira /a/;\nproduct wiki /a/;\n",
                 "t.conf:5:14: prefix \"/a/\" is already product \"jira\"");
    expect_error(HEAD "product jira;\n",
                 "t.conf:4:1: too few arguments for \"product\"");
}
END_TEST

START_TEST(too_many_products)
{
    char *text = malloc(65536);
    size_t n;

    ck_assert_ptr_nonnull(text);
    n = (size_t)snprintf(text, 65536, "%s", HEAD);
    for (int i = 0; i <= TE_TCS_MAX_PRODUCTS; i++)
        n +=
            (size_t)snprintf(text + n, 65536 - n, "product p%d /p%d/;\n", i, i);
    expect_error(text, "t.conf:68:1: too many products (max 64)");
    free(text);
}
END_TEST

/* ---- internal headers ---- */

START_TEST(internal_headers_default_and_set)
{
    te_config *cf = parse(HEAD);

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert(te_chainconf_internal(cf->chain, "X-Tenant-Id", 11));
    ck_assert(te_chainconf_internal(cf->chain, "x-principal-sub", 15));
    ck_assert(!te_chainconf_internal(cf->chain, "X-Tenant", 8));
    ck_assert(!te_chainconf_internal(cf->chain, "X-Custom", 8));
    /* URL overrides that IIS, Symfony and Zend honour */
    ck_assert(te_chainconf_internal(cf->chain, "X-Original-URL", 14));
    ck_assert(te_chainconf_internal(cf->chain, "x-rewrite-url", 13));
    ck_assert(!te_chainconf_internal(cf->chain, "X-Original-URLs", 15));
    /* '_' stands for '-', as a CGI-style backend reads it */
    ck_assert(te_chainconf_internal(cf->chain, "X_Tenant_Id", 11));
    ck_assert(te_chainconf_internal(cf->chain, "x_principal-sub", 15));
    ck_assert(te_chainconf_internal(cf->chain, "X_Original_URL", 14));
    ck_assert(!te_chainconf_internal(cf->chain, "X_Tenant", 8));
    te_config_unref(cf);

    cf = parse(HEAD "internal_headers X-Secret X-Internal-*;\n");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert(te_chainconf_internal(cf->chain, "x-secret", 8));
    ck_assert(!te_chainconf_internal(cf->chain, "x-secrets", 9));
    ck_assert(te_chainconf_internal(cf->chain, "X-INTERNAL-a", 12));
    ck_assert(!te_chainconf_internal(cf->chain, "X-Tenant-Id", 11));
    te_config_unref(cf);
}
END_TEST

START_TEST(underscores_in_headers_is_off_unless_on)
{
    te_config *cf = parse(HEAD);

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert(!cf->chain->underscores);
    te_config_unref(cf);

    cf = parse(HEAD "underscores_in_headers on;\n");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert(cf->chain->underscores);
    te_config_unref(cf);

    cf = parse(HEAD "underscores_in_headers off;\n");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert(!cf->chain->underscores);
    te_config_unref(cf);

    expect_error(HEAD "underscores_in_headers yes;\n",
                 "t.conf:4:24: invalid value \"yes\" in "
                 "\"underscores_in_headers\": expected on or off");
    expect_error(HEAD "underscores_in_headers on;\n"
                      "underscores_in_headers on;\n",
                 "t.conf:5:1: duplicate directive \"underscores_in_headers\"");
}
END_TEST

START_TEST(internal_headers_errors)
{
    expect_error(HEAD "internal_headers X-A *;\n",
                 "t.conf:4:22: invalid internal header \"*\": expected a "
                 "field name, optionally ending in \"*\"");
    expect_error(HEAD "internal_headers X-*-A;\n",
                 "t.conf:4:18: invalid internal header \"X-*-A\": expected "
                 "a field name, optionally ending in \"*\"");
    expect_error(HEAD "internal_headers X-A;\ninternal_headers X-B;\n",
                 "t.conf:5:1: duplicate directive \"internal_headers\"");
}
END_TEST

/* ---- load_module ---- */

START_TEST(load_module_errors)
{
    char want[1024];
    te_config *cf;

    cf = te_config_parse(NULL, HEAD "load_module x.so;\n",
                         strlen(HEAD "load_module x.so;\n"), errbuf,
                         sizeof(errbuf));
    ck_assert_ptr_null(cf);
    ck_assert_str_eq(errbuf, "<memory>:4:1: load_module is not allowed in "
                             "unnamed text");

    expect_error(HEAD "load_module \"\";\n", "t.conf:4:13: empty module path");

    /* relative to the file's directory: ./ for a bare name */
    cf = parse(HEAD "load_module nope.so;\n");
    ck_assert_ptr_null(cf);
    snprintf(want, sizeof(want), "t.conf:4:13: cannot load module: ./nope.so:");
    ck_assert_msg(strncmp(errbuf, want, strlen(want)) == 0, "%s", errbuf);

    cf = te_config_parse("/etc/te/t.conf", HEAD "load_module m/nope.so;\n",
                         strlen(HEAD "load_module m/nope.so;\n"), errbuf,
                         sizeof(errbuf));
    ck_assert_ptr_null(cf);
    snprintf(want, sizeof(want),
             "/etc/te/t.conf:4:13: cannot load module: /etc/te/m/nope.so:");
    ck_assert_msg(strncmp(errbuf, want, strlen(want)) == 0, "%s", errbuf);
}
END_TEST

static Suite *module_config_suite(void)
{
    Suite *s = suite_create("module_config");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, default_chain_is_tenant_policy_route);
    tcase_add_test(tc, chain_sets_modules_and_their_order);
    tcase_add_test(tc, chain_errors);
    tcase_add_test(tc, module_block_reaches_the_module);
    tcase_add_test(tc, module_outside_the_chain_is_checked);
    tcase_add_test(tc, module_errors);
    tcase_add_test(tc, setter_helpers_report_their_argument);
    tcase_add_test(tc, top_level_module_directives);
    tcase_add_test(tc, finish_errors_point_at_the_module);
    tcase_add_test(tc, products_longest_prefix_wins);
    tcase_add_test(tc, product_errors);
    tcase_add_test(tc, too_many_products);
    tcase_add_test(tc, internal_headers_default_and_set);
    tcase_add_test(tc, internal_headers_errors);
    tcase_add_test(tc, underscores_in_headers_is_off_unless_on);
    tcase_add_test(tc, load_module_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(module_config_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
