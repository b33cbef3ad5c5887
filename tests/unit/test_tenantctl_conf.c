/*
 * test_tenantctl_conf.c: what tenantctl takes from the edge's config
 * (tools/tenantctl_conf.c): the Redis address, database, password and
 * key prefix as the edge's loader read them (include files too), the
 * command line's overrides over them, the defaults without -c, and the
 * jwt module's issuer, audience and tenant claim from the registry.
 */
#define _GNU_SOURCE
#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "../../tools/tenantctl.h"

static char tmpdir[64];
static char complaint[1024];

/* tenantctl.c's, which holds main: the last message, for the checks. */
void te_ctl_complain(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(complaint, sizeof(complaint), fmt, ap);
    va_end(ap);
}

static void setup(void)
{
    strcpy(tmpdir, "/tmp/te-ctl-conf-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    complaint[0] = '\0';
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

START_TEST(defaults_without_a_config)
{
    struct te_ctl_options o = {NULL, NULL, NULL, NULL, NULL};
    struct te_ctl_target tg;

    ck_assert_int_eq(te_ctl_target_init(&tg, NULL, &o), 0);
    ck_assert_str_eq(tg.host, "127.0.0.1");
    ck_assert_int_eq(tg.port, 6379);
    ck_assert_uint_eq(tg.db, 0);
    ck_assert_ptr_null(tg.password);
    ck_assert_str_eq(tg.prefix, "tcs:");
    ck_assert_int_eq(tg.have_addr, 1);
    ck_assert_int_eq(tg.store_redis, 1);
}
END_TEST

/* Everything from the config, `redis` in an included file. */
START_TEST(config_gives_address_database_password_prefix)
{
    struct te_ctl_options o = {NULL, NULL, NULL, NULL, NULL};
    struct te_ctl_target tg;
    te_config *cf;

    put("redis.conf", "redis [::1]:6380 {\n    database 5;\n"
                      "    password \"p w\";\n}\n");
    o.conf = put("edge.conf", "listen 127.0.0.1:1;\ninclude redis.conf;\n"
                              "tcs { store redis; prefix edge1:; }\n");
    cf = te_ctl_conf_load(o.conf);
    ck_assert_msg(cf != NULL, "%s", complaint);
    ck_assert_int_eq(te_ctl_target_init(&tg, cf, &o), 0);
    ck_assert_str_eq(tg.host, "::1");
    ck_assert_int_eq(tg.port, 6380);
    ck_assert_uint_eq(tg.db, 5);
    ck_assert_str_eq(tg.password, "p w");
    ck_assert_str_eq(tg.prefix, "edge1:");
    ck_assert_int_eq(tg.have_addr, 1);
    ck_assert_int_eq(tg.store_redis, 1);

    /* -r, -a, -n and -p each win over the config */
    o.addr = "10.0.0.1:7000";
    o.password = "other";
    o.db = "0";
    o.prefix = "p2:";
    ck_assert_int_eq(te_ctl_target_init(&tg, cf, &o), 0);
    ck_assert_str_eq(tg.host, "10.0.0.1");
    ck_assert_int_eq(tg.port, 7000);
    ck_assert_uint_eq(tg.db, 0);
    ck_assert_str_eq(tg.password, "other");
    ck_assert_str_eq(tg.prefix, "p2:");
    te_config_unref(cf);
}
END_TEST

/* A config whose edge reads no tenants from Redis says so. */
START_TEST(static_store_has_no_redis)
{
    struct te_ctl_options o = {NULL, NULL, NULL, NULL, NULL};
    struct te_ctl_target tg;
    te_config *cf;

    o.conf = put("edge.conf", "listen 127.0.0.1:1;\n");
    cf = te_ctl_conf_load(o.conf);
    ck_assert_ptr_nonnull(cf);
    ck_assert_int_eq(te_ctl_target_init(&tg, cf, &o), 0);
    ck_assert_int_eq(tg.have_addr, 0);
    ck_assert_int_eq(tg.store_redis, 0);
    ck_assert_str_eq(tg.store, "static");
    o.addr = "127.0.0.1:6390";
    ck_assert_int_eq(te_ctl_target_init(&tg, cf, &o), 0);
    ck_assert_int_eq(tg.have_addr, 1);
    te_config_unref(cf);
}
END_TEST

/* The loader's own message, file:line:col, for a config it refuses. */
START_TEST(invalid_config_is_the_loaders_message)
{
    char want[PATH_MAX + 64];
    const char *path;

    path = put("edge.conf", "listen 127.0.0.1:1;\nredis 127.0.0.1:1 "
                            "{ databse 2; }\n");
    ck_assert_ptr_null(te_ctl_conf_load(path));
    snprintf(want, sizeof(want), "%s:2:21: unknown directive \"databse\"",
             path);
    ck_assert_str_eq(complaint, want);
}
END_TEST

START_TEST(jwt_values_come_from_the_module)
{
    const char *top = getenv("TE_TOP_SRCDIR");
    struct te_ctl_jwt_conf jc;
    char text[PATH_MAX + 512];
    const char *path;
    te_config *cf;

    snprintf(text, sizeof(text),
             "listen 127.0.0.1:1;\n"
             "chain jwt tenant policy route;\n"
             "module jwt {\n"
             "    jwks %s/tests/cases/jwt/jwks.json;\n"
             "    issuer https://a.test https://b.test;\n"
             "    issuer https://c.test;\n"
             "    audience edge;\n"
             "    tenant_claim org;\n"
             "}\n",
             top != NULL ? top : "..");
    path = put("edge.conf", text);
    cf = te_ctl_conf_load(path);
    ck_assert_msg(cf != NULL, "%s", complaint);
    memset(&jc, 0, sizeof(jc));
    ck_assert_int_eq(te_ctl_conf_jwt(cf, path, &jc), 0);
    ck_assert_str_eq(jc.issuer, "https://a.test");
    ck_assert_str_eq(jc.audience, "edge");
    ck_assert_str_eq(jc.tenant_claim, "org");
    te_config_unref(cf);

    path = put("bare.conf", "listen 127.0.0.1:1;\n");
    cf = te_ctl_conf_load(path);
    ck_assert_ptr_nonnull(cf);
    ck_assert_int_eq(te_ctl_conf_jwt(cf, path, &jc), -1);
    ck_assert_ptr_nonnull(strstr(complaint, "no module jwt block"));
    te_config_unref(cf);
}
END_TEST

static Suite *tenantctl_conf_suite(void)
{
    Suite *s = suite_create("tenantctl_conf");
    TCase *tc = tcase_create("conf");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults_without_a_config);
    tcase_add_test(tc, config_gives_address_database_password_prefix);
    tcase_add_test(tc, static_store_has_no_redis);
    tcase_add_test(tc, invalid_config_is_the_loaders_message);
    tcase_add_test(tc, jwt_values_come_from_the_module);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tenantctl_conf_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
