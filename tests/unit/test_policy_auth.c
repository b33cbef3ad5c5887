/*
 * test_policy_auth.c: the policy module's authentication rules
 * (modules/policy/auth.c): each configuration error, whole with its
 * file:line:col, and which mode a path gets: the default, the longest
 * prefix, product rules, public paths, segment-wise matching, and the
 * strictest mode for paths a backend might read differently.
 */
#include "config.h"
#include "module.h"
#include "request.h"

#include "../../modules/policy/auth.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD                                                                   \
    "listen 127.0.0.1:8080;\n"                                                 \
    "domain edge.test;\n"                                                      \
    "region eu { shard eu-1 { backend 127.0.0.1:9101 zone z1; } }\n"

static char errbuf[1024];

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

static const te_auth_conf *policy_conf(te_config *cf)
{
    for (unsigned i = 0; i < cf->chain->nmods; i++)
        if (strcmp(cf->chain->mods[i]->m->name, "policy") == 0)
            return cf->chain->mods[i]->conf;
    return NULL;
}

/* The mode of <path> under <cf>'s policy, through a bare request. */
static te_auth_mode mode_of(te_config *cf, const char *path)
{
    te_request r;

    memset(&r, 0, sizeof(r));
    r.path = path;
    r.path_len = strlen(path);
    r.cc = cf->chain;
    return te_auth_mode_of(&r, policy_conf(cf));
}

START_TEST(no_auth_directive_is_off_everywhere)
{
    te_config *cf = parse(HEAD);

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_int_eq(mode_of(cf, "/"), TE_AUTH_OFF);
    ck_assert_int_eq(mode_of(cf, "/admin/../x"), TE_AUTH_OFF);
    te_config_unref(cf);

    cf = parse(HEAD "module policy { public_paths /health; }\n");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_int_eq(mode_of(cf, "/x"), TE_AUTH_OFF);
    te_config_unref(cf);
}
END_TEST

START_TEST(longest_prefix_and_products)
{
    te_config *cf = parse(HEAD "product jira /jira/;\n"
                               "product wiki /wiki/;\n"
                               "module policy {\n"
                               "    auth required;\n"
                               "    auth optional /docs;\n"
                               "    auth required /docs/private/;\n"
                               "    auth off wiki;\n"
                               "    auth optional /wiki/space/;\n"
                               "    auth required /wiki/;\n"
                               "    public_paths /health /login /static/;\n"
                               "}\n");

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_int_eq(mode_of(cf, "/"), TE_AUTH_REQUIRED);
    ck_assert_int_eq(mode_of(cf, "/jira/browse"), TE_AUTH_REQUIRED);
    ck_assert_int_eq(mode_of(cf, "/docs"), TE_AUTH_OPTIONAL);
    ck_assert_int_eq(mode_of(cf, "/docs/a?x=1"), TE_AUTH_OPTIONAL);
    ck_assert_int_eq(mode_of(cf, "/docs?x"), TE_AUTH_OPTIONAL);
    ck_assert_int_eq(mode_of(cf, "/docsx"), TE_AUTH_REQUIRED);
    ck_assert_int_eq(mode_of(cf, "/docs/private/a"), TE_AUTH_REQUIRED);
    ck_assert_int_eq(mode_of(cf, "/docs/private"), TE_AUTH_OPTIONAL);

    /* the product and a path rule of the same prefix: the stricter */
    ck_assert_int_eq(mode_of(cf, "/wiki/x"), TE_AUTH_REQUIRED);
    ck_assert_int_eq(mode_of(cf, "/wiki/space/x"), TE_AUTH_OPTIONAL);

    ck_assert_int_eq(mode_of(cf, "/health"), TE_AUTH_OFF);
    ck_assert_int_eq(mode_of(cf, "/health?full=1"), TE_AUTH_OFF);
    ck_assert_int_eq(mode_of(cf, "/health/db"), TE_AUTH_OFF);
    ck_assert_int_eq(mode_of(cf, "/healthz"), TE_AUTH_REQUIRED);
    ck_assert_int_eq(mode_of(cf, "/static/app.js"), TE_AUTH_OFF);
    ck_assert_int_eq(mode_of(cf, "/static"), TE_AUTH_REQUIRED);
    te_config_unref(cf);

    cf = parse(HEAD "product wiki /wiki/;\n"
                    "module policy { auth required; auth off wiki; }\n");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_int_eq(mode_of(cf, "/wiki/x"), TE_AUTH_OFF);
    ck_assert_int_eq(mode_of(cf, "/wikix"), TE_AUTH_REQUIRED);
    te_config_unref(cf);
}
END_TEST

/* A path the backend may normalise into another gets the strictest
 * mode configured, and is never public. */
START_TEST(ambiguous_paths_get_the_strictest_mode)
{
    static const char *const paths[] = {
        "/health/../admin", "/health/./x", "/health/..",   "/health//x",
        "//health",         "/health\\x",  "/health%2f..", "/health%2E%2E",
        "/health/%2e%2e/x", "/h%5cx",      "/h%252e",      "/public/..",
    };
    te_config *cf = parse(HEAD "module policy {\n"
                               "    auth required /admin/;\n"
                               "    public_paths /health /public;\n"
                               "}\n");

    ck_assert_msg(cf != NULL, "%s", errbuf);
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        ck_assert_msg(mode_of(cf, paths[i]) == TE_AUTH_REQUIRED, "%s",
                      paths[i]);
    ck_assert_int_eq(mode_of(cf, "/health/x%20y"), TE_AUTH_OFF);
    ck_assert_int_eq(mode_of(cf, "/health/a..b/.c"), TE_AUTH_OFF);
    ck_assert_int_eq(mode_of(cf, "/other"), TE_AUTH_OFF);
    ck_assert_int_eq(mode_of(cf, "/health/x?next=/../a"), TE_AUTH_OFF);
    te_config_unref(cf);
}
END_TEST

START_TEST(auth_errors)
{
    char text[8192];
    size_t n;

    expect_error(HEAD "module policy { auth always; }\n",
                 "t.conf:4:22: invalid auth mode \"always\": expected "
                 "required, optional or off");
    expect_error(HEAD "module policy {\n  auth off;\n  auth required;\n}\n",
                 "t.conf:6:3: duplicate \"auth\" without a path or product");
    expect_error(HEAD "module policy { auth required /a?b; }\n",
                 "t.conf:4:31: invalid auth target \"/a?b\": expected a path "
                 "starting with \"/\" or a product name");
    expect_error(HEAD "module policy { auth required /a/../b; }\n",
                 "t.conf:4:31: invalid auth target \"/a/../b\": expected a "
                 "path starting with \"/\" or a product name");
    expect_error(HEAD "module policy { auth required //a; }\n",
                 "t.conf:4:31: invalid auth target \"//a\": expected a path "
                 "starting with \"/\" or a product name");
    expect_error(HEAD "module policy { auth required /a%2f; }\n",
                 "t.conf:4:31: invalid auth target \"/a%2f\": expected a "
                 "path starting with \"/\" or a product name");
    expect_error(HEAD "module policy { auth required Jira; }\n",
                 "t.conf:4:31: invalid auth target \"Jira\": expected a "
                 "path starting with \"/\" or a product name");
    expect_error(HEAD "module policy { auth off /a; auth required /a; }\n",
                 "t.conf:4:44: duplicate \"auth\" rule for \"/a\"");
    expect_error(HEAD "module policy { auth; }\n",
                 "t.conf:4:17: too few arguments for \"auth\"");
    expect_error(HEAD "module policy { auth off /a /b; }\n",
                 "t.conf:4:29: too many arguments for \"auth\" (missing "
                 "\";\"?)");
    expect_error(HEAD "auth required;\n",
                 "t.conf:4:1: unknown directive \"auth\"");

    /* a product rule names a declared product, checked once the file is
     * read: the error points at the module block */
    expect_error(HEAD "module policy {\n  auth off wiki;\n}\n"
                      "product jira /jira/;\n",
                 "t.conf:4:8: unknown product \"wiki\" in \"auth\": declare "
                 "it with \"product\"");

    n = (size_t)snprintf(text, sizeof(text), "%smodule policy {\n", HEAD);
    for (int i = 0; i <= TE_AUTH_MAX_RULES; i++)
        n +=
            (size_t)snprintf(text + n, sizeof(text) - n, "auth off /p%d;\n", i);
    snprintf(text + n, sizeof(text) - n, "}\n");
    expect_error(text, "t.conf:69:1: too many \"auth\" rules (max 64)");
}
END_TEST

START_TEST(public_paths_errors)
{
    char text[8192];
    size_t n;

    expect_error(HEAD "module policy { public_paths /a health; }\n",
                 "t.conf:4:33: invalid public path \"health\": expected a "
                 "path starting with \"/\", without query, \"%\", \"//\" or "
                 "dot segments");
    expect_error(HEAD "module policy { public_paths /a/./b; }\n",
                 "t.conf:4:30: invalid public path \"/a/./b\": expected a "
                 "path starting with \"/\", without query, \"%\", \"//\" or "
                 "dot segments");
    expect_error(HEAD "module policy { public_paths /a%20; }\n",
                 "t.conf:4:30: invalid public path \"/a%20\": expected a "
                 "path starting with \"/\", without query, \"%\", \"//\" or "
                 "dot segments");
    expect_error(HEAD "module policy { public_paths /a;\n"
                      "  public_paths /b /a; }\n",
                 "t.conf:5:19: duplicate public path \"/a\"");
    expect_error(HEAD "module policy { public_paths; }\n",
                 "t.conf:4:17: too few arguments for \"public_paths\"");

    n = (size_t)snprintf(text, sizeof(text), "%smodule policy {\n", HEAD);
    for (int i = 0; i <= TE_AUTH_MAX_PUBLIC; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "public_paths /p%d;\n", i);
    snprintf(text + n, sizeof(text) - n, "}\n");
    expect_error(text, "t.conf:69:14: too many public paths (max 64)");
}
END_TEST

static Suite *policy_auth_suite(void)
{
    Suite *s = suite_create("policy_auth");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, no_auth_directive_is_off_everywhere);
    tcase_add_test(tc, longest_prefix_and_products);
    tcase_add_test(tc, ambiguous_paths_get_the_strictest_mode);
    tcase_add_test(tc, auth_errors);
    tcase_add_test(tc, public_paths_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(policy_auth_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
