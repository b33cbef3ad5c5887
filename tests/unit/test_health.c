/*
 * test_health.c: the passive health state machine, src/health.c.
 *
 * The clock is the test's: every call takes "now" in milliseconds, so
 * down periods, probes and the backoff cap are checked exactly.
 */
#include "health.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static te_config cf;
static te_health h;

static void setup(void)
{
    memset(&cf, 0, sizeof(cf));
    cf.upstream_max_fails = 3;
    cf.upstream_fail_timeout = 10000;
    memset(&h, 0, sizeof(h));
}

START_TEST(up_until_a_run_of_max_fails)
{
    ck_assert_int_eq(te_health_failed(&h, &cf, 0, 0, 100), TE_HEALTH_SAME);
    ck_assert_int_eq(te_health_failed(&h, &cf, 0, 0, 200), TE_HEALTH_SAME);
    ck_assert(te_health_usable(&h, 200));
    ck_assert_int_eq(te_health_failed(&h, &cf, 0, 0, 300), TE_HEALTH_DOWN);
    ck_assert_uint_eq(h.fails, 3);
    ck_assert_uint_eq(h.backoff, 10000);
    ck_assert(!te_health_usable(&h, 300));
    ck_assert(!te_health_usable(&h, 10299));
    ck_assert(te_health_usable(&h, 10300));
}
END_TEST

START_TEST(an_answer_ends_the_run)
{
    te_health_failed(&h, &cf, 0, 0, 100);
    te_health_failed(&h, &cf, 0, 0, 200);
    ck_assert_int_eq(te_health_ok(&h, 0), TE_HEALTH_SAME);
    ck_assert_uint_eq(h.fails, 0);
    te_health_failed(&h, &cf, 0, 0, 300);
    te_health_failed(&h, &cf, 0, 0, 400);
    ck_assert(te_health_usable(&h, 400));
}
END_TEST

START_TEST(a_failed_connect_marks_down_at_once)
{
    ck_assert_int_eq(te_health_failed(&h, &cf, 0, 1, 50), TE_HEALTH_DOWN);
    ck_assert_uint_eq(h.fails, 1);
    ck_assert(!te_health_usable(&h, 10049));
}
END_TEST

START_TEST(one_probe_at_a_time)
{
    te_health_failed(&h, &cf, 0, 1, 0);
    ck_assert_int_eq(te_health_begin(&h), 1);
    ck_assert(!te_health_usable(&h, 20000));

    /* abandoned without a verdict: the next request probes */
    te_health_abandon(&h);
    ck_assert(te_health_usable(&h, 20000));
    ck_assert_int_eq(te_health_begin(&h), 1);
    ck_assert_int_eq(te_health_ok(&h, 1), TE_HEALTH_UP);
    ck_assert(te_health_usable(&h, 20000));
    ck_assert_int_eq(te_health_begin(&h), 0);
    ck_assert_uint_eq(h.fails, 0);
}
END_TEST

START_TEST(failed_probes_double_the_period_up_to_the_cap)
{
    static const uint64_t want[] = {20000, 40000, 80000, 80000};
    uint64_t now = 0;

    te_health_failed(&h, &cf, 0, 1, now);
    for (unsigned i = 0; i < 4; i++) {
        now = h.down_until;
        ck_assert(te_health_usable(&h, now));
        ck_assert_int_eq(te_health_begin(&h), 1);
        ck_assert_int_eq(te_health_failed(&h, &cf, 1, 1, now),
                         TE_HEALTH_STILL_DOWN);
        ck_assert_uint_eq(h.backoff, want[i]);
        ck_assert_uint_eq(h.down_until, now + want[i]);
        ck_assert(!h.probing);
    }
    ck_assert_uint_eq(h.down_since, 0);
}
END_TEST

START_TEST(earlier_requests_change_nothing)
{
    te_health_failed(&h, &cf, 0, 1, 1000);
    ck_assert_int_eq(te_health_failed(&h, &cf, 0, 0, 1001), TE_HEALTH_SAME);
    ck_assert_uint_eq(h.backoff, 10000);
    ck_assert_uint_eq(h.down_until, 11000);
    ck_assert_int_eq(te_health_ok(&h, 0), TE_HEALTH_SAME);
    ck_assert(h.down);
}
END_TEST

START_TEST(the_cap_does_not_overflow)
{
    cf.upstream_fail_timeout = 4294967295u;
    te_health_failed(&h, &cf, 0, 1, 0);
    for (unsigned i = 0; i < 5; i++)
        te_health_failed(&h, &cf, 1, 1, 0);
    ck_assert_uint_eq(h.backoff, 4294967295ull * TE_HEALTH_MAX_BACKOFF);
}
END_TEST

START_TEST(clock_is_monotonic)
{
    uint64_t a = te_health_now(), b = te_health_now();

    ck_assert(b >= a);
}
END_TEST

static Suite *health_suite(void)
{
    Suite *s = suite_create("health");
    TCase *tc = tcase_create("state");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, up_until_a_run_of_max_fails);
    tcase_add_test(tc, an_answer_ends_the_run);
    tcase_add_test(tc, a_failed_connect_marks_down_at_once);
    tcase_add_test(tc, one_probe_at_a_time);
    tcase_add_test(tc, failed_probes_double_the_period_up_to_the_cap);
    tcase_add_test(tc, earlier_requests_change_nothing);
    tcase_add_test(tc, the_cap_does_not_overflow);
    tcase_add_test(tc, clock_is_monotonic);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(health_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
