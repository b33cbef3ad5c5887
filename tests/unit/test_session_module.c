/*
 * test_session_module.c: the session module's configuration
 * (modules/session/session.c): what it accepts, and each error, whole
 * with its file:line:col.
 */
#include "config.h"
#include "module.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD                                                                   \
    "listen 127.0.0.1:8080;\n"                                                 \
    "domain edge.test;\n"                                                      \
    "region eu { shard eu-1 { backend 127.0.0.1:9101 zone z1; } }\n"
#define REDIS                                                                  \
    "redis 127.0.0.1:6379;\n"                                                  \
    "tcs { store redis; }\n"

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

static void expect_ok(const char *text)
{
    te_config *cf = parse(text);

    ck_assert_msg(cf != NULL, "%s", errbuf);
    te_config_unref(cf);
}

START_TEST(accepted)
{
    expect_ok(HEAD REDIS "chain session tenant policy route;\n"
                         "module session { cookie sid; }\n");
    expect_ok(HEAD REDIS "module session { cookie __Host-sid;\n"
                         "  login_url https://id.example.net/login?x=1; }\n");
    expect_ok(HEAD REDIS "module session { cookie s; login_url /login; }\n");
    expect_ok(HEAD REDIS "module session { cookie s; login_url "
                         "http://id.test/; }\n");
    /* not configured, not chained: nothing to check */
    expect_ok(HEAD);
}
END_TEST

START_TEST(errors)
{
    expect_error(HEAD REDIS "chain session tenant policy route;\n",
                 "t.conf:6:7: module \"session\" needs a \"cookie\" "
                 "directive");
    expect_error(HEAD REDIS "module session { login_url /login; }\n",
                 "t.conf:6:8: module \"session\" needs a \"cookie\" "
                 "directive");
    expect_error(HEAD "module session { cookie sid; }\n",
                 "t.conf:4:8: module \"session\" needs sessions in Redis: "
                 "\"tcs { store redis; }\"");
    expect_error(HEAD REDIS "module session { cookie s@d; }\n",
                 "t.conf:6:25: invalid cookie name \"s@d\": expected a token "
                 "of 1 to 64 characters");
    expect_error(HEAD REDIS "module session { cookie \"\"; }\n",
                 "t.conf:6:25: invalid cookie name \"\": expected a token "
                 "of 1 to 64 characters");
    expect_error(HEAD REDIS "module session { cookie a;\n  cookie b; }\n",
                 "t.conf:7:3: duplicate directive \"cookie\"");
    expect_error(HEAD REDIS "module session { cookie a b; }\n",
                 "t.conf:6:27: too many arguments for \"cookie\" (missing "
                 "\";\"?)");
    expect_error(HEAD REDIS "module session { cookie s; login_url //evil; }\n",
                 "t.conf:6:38: invalid login_url \"//evil\": expected an "
                 "http(s) URL or a path starting with \"/\"");
    expect_error(HEAD REDIS "module session { cookie s; "
                            "login_url javascript:x; }\n",
                 "t.conf:6:38: invalid login_url \"javascript:x\": expected "
                 "an http(s) URL or a path starting with \"/\"");
    expect_error(HEAD REDIS "module session { cookie s; "
                            "login_url \"/a b\"; }\n",
                 "t.conf:6:38: invalid login_url \"/a b\": expected an "
                 "http(s) URL or a path starting with \"/\"");
    expect_error(HEAD REDIS "module session { cookie s; "
                            "login_url https://; }\n",
                 "t.conf:6:38: invalid login_url \"https://\": expected an "
                 "http(s) URL or a path starting with \"/\"");
    expect_error(HEAD REDIS "module session { cookie s; login_url /a;\n"
                            "  login_url /b; }\n",
                 "t.conf:7:3: duplicate directive \"login_url\"");
}
END_TEST

static Suite *session_module_suite(void)
{
    Suite *s = suite_create("session_module");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, accepted);
    tcase_add_test(tc, errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(session_module_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
