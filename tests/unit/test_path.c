/*
 * test_path.c: unit tests for src/path.c, the request-target path rules
 * every protocol applies (te_path_is_safe).
 *
 * Refusals are grouped by kind, several spellings each (literal and
 * encoded dots, every separator, any case, first, middle and last
 * segment), so that a fix covers the kind and not one sample; the
 * allowed table holds the near misses that real APIs send.
 */
#include "path.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define NCASES(t) (sizeof(t) / sizeof((t)[0]))

static int safe(const char *s)
{
    return te_path_is_safe(s, strlen(s));
}

static void all_refused(const char *const *t, size_t n, const char *kind)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(!safe(t[i]), "%s #%zu: \"%s\" was allowed", kind, i,
                      t[i]);
}

static void all_allowed(const char *const *t, size_t n, const char *kind)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(safe(t[i]), "%s #%zu: \"%s\" was refused", kind, i, t[i]);
}

START_TEST(literal_dot_segments_are_refused)
{
    static const char *const t[] = {
        "/wiki/../jira/secret",
        "/wiki/./../jira/secret",
        "/wiki/./x",
        "/..",
        "/.",
        "/wiki/..",
        "/wiki/.",
        "/wiki/..?x=1",
        "/wiki/.?",
        "/a/b/../../jira",
        "/../jira",
        "/./jira",
    };

    all_refused(t, NCASES(t), "literal");
}
END_TEST

START_TEST(encoded_dot_segments_are_refused)
{
    static const char *const t[] = {
        "/wiki/%2e%2e/jira/secret",
        "/wiki/%2E%2E/jira/secret",
        "/wiki/%2e./jira",
        "/wiki/.%2E/jira",
        "/wiki/%2e/jira",
        "/wiki/%2E",
        "/wiki/%2e%2e",
        "/%2e%2e/jira",
    };

    all_refused(t, NCASES(t), "encoded");
}
END_TEST

START_TEST(every_separator_delimits_a_segment)
{
    static const char *const t[] = {
        "/wiki/%2E%2E%2Fjira/secret",
        "/wiki/%2e%2e%2fjira/secret",
        "/wiki%2F..%2Fjira/secret",
        "/wiki%2f..%2fjira",
        "/wiki\\..\\jira",
        "/wiki/..\\jira",
        "/wiki\\.\\jira",
        "/wiki%5C..%5Cjira",
        "/wiki%5c..%5cjira",
        "/wiki%5c%2e%2e%5cjira",
        "/wiki/%2e%2e%5Cjira",
        "/wiki%2F.",
        "/wiki\\..",
        "/wiki%2F..?a=b",
    };

    all_refused(t, NCASES(t), "separator");
}
END_TEST

START_TEST(path_parameters_do_not_hide_a_dot_segment)
{
    /* Servlet containers drop ";..." from a segment before resolving
     * dot segments, so "..;x" is ".." there. */
    static const char *const t[] = {
        "/wiki/..;/jira/secret", "/wiki/..;jsessionid=1/jira",
        "/wiki/.;x/jira",        "/wiki/%2e%2e;a=b/jira",
        "/wiki/..;a%2fb",        "/wiki/..;",
    };

    all_refused(t, NCASES(t), "parameters");
}
END_TEST

START_TEST(encoded_nul_is_refused)
{
    static const char *const t[] = {
        "/wiki/%00",        "/wiki%00/x", "/%00",       "/wiki/a%00.html",
        "/wiki/;x%00/jira", "/wiki/%%00", "/wiki/%000",
    };

    all_refused(t, NCASES(t), "nul");
}
END_TEST

START_TEST(ordinary_paths_are_allowed)
{
    static const char *const t[] = {
        "/",
        "",
        "/wiki/page",
        "/api/repos/acme%2Fwidgets/issues", /* an encoded id */
        "/api/files/a%2fb%2fc.txt",
        "/api/a%5Cb",
        "/wiki/..page",
        "/wiki/page..",
        "/wiki/.well-known/x",
        "/wiki/.hidden",
        "/wiki/...",
        "/wiki/%2e%2e%2e",
        "/wiki/a.b.c",
        "/wiki//x", /* empty segments are not dot segments */
        "/wiki/%2e%2ex",
        "/wiki/x%2e",
        "/wiki/;../x", /* the parameter is not the segment */
        "/wiki/a;b=../c",
        "/wiki/%2", /* a stray '%' is not our concern here */
        "/wiki/%",
        "/wiki/%2x..",
        "/wiki/%20..",
        "/wiki/page?next=/../admin", /* the query is not a path */
        "/wiki/page?x=%00",
        "/wiki/page?../..",
        "/wiki/%2e%2e%3F/x", /* %3F is data, not a query */
        "/wiki/%01",
        "/wiki/%100",
    };

    all_allowed(t, NCASES(t), "ordinary");
}
END_TEST

START_TEST(only_the_bytes_given_are_read)
{
    /* len cuts the string: what follows is never looked at. */
    ck_assert(te_path_is_safe("/wiki/x/..", 7));
    ck_assert(!te_path_is_safe("/wiki/x/..", 10));
    ck_assert(!te_path_is_safe("/wiki/..x", 8));
    ck_assert(te_path_is_safe("/wiki/..x", 9));
    ck_assert(te_path_is_safe("/wiki/%00", 8));
    ck_assert(te_path_is_safe("/wiki/%2e%2", 11));
    ck_assert(!te_path_is_safe("/wiki/%2e", 9));
    ck_assert(te_path_is_safe("/a?/..", 2));
}
END_TEST

START_TEST(long_paths_are_linear)
{
    /* 1 MiB of alternating near misses, then a dot segment at the end:
     * found, and in one pass (the loop is bounded by the length). */
    size_t n = 1 << 20;
    char *p = malloc(n + 4);

    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i += 4)
        memcpy(p + i, "/..x", 4);
    ck_assert(te_path_is_safe(p, n));
    memcpy(p + n, "/..", 3);
    ck_assert(!te_path_is_safe(p, n + 3));
    free(p);
}
END_TEST

static Suite *path_suite(void)
{
    Suite *s = suite_create("path");
    TCase *tc = tcase_create("dot segments");

    tcase_add_test(tc, literal_dot_segments_are_refused);
    tcase_add_test(tc, encoded_dot_segments_are_refused);
    tcase_add_test(tc, every_separator_delimits_a_segment);
    tcase_add_test(tc, path_parameters_do_not_hide_a_dot_segment);
    tcase_add_test(tc, encoded_nul_is_refused);
    tcase_add_test(tc, ordinary_paths_are_allowed);
    tcase_add_test(tc, only_the_bytes_given_are_read);
    tcase_add_test(tc, long_paths_are_linear);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(path_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
