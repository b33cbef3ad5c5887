/*
 * test_route.c: backend selection in a shard, src/route.c.
 *
 * te_route_backend is pure: the shard, this edge's zone, a round-robin
 * counter and the caller's verdict on each backend go in, one backend
 * comes out. The shard here is built by hand: z1 a, z2 c, z1 b, z3 d, so
 * that the zone groups are not runs of the array.
 */
#include "route.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static te_backend backends[4] = {
    {.name = "a", .zone = "z1", .index = 0},
    {.name = "c", .zone = "z2", .index = 1},
    {.name = "b", .zone = "z1", .index = 2},
    {.name = "d", .zone = "z3", .index = 3},
};
static te_backend *list[4] = {&backends[0], &backends[1], &backends[2],
                              &backends[3]};
static te_shard shard = {.name = "s", .backends = list, .nbackends = 4};

/* The usable verdicts: a string of backend names that may serve. */
static int usable(const te_backend *b, void *arg)
{
    return strchr(arg, b->name[0]) != NULL;
}

/* The name picked with counter rr when only the names in ok may serve,
 * "" when none. */
static const char *pick(const char *zone, unsigned rr, const char *ok)
{
    const te_backend *b =
        te_route_backend(&shard, zone, rr, usable, (void *)ok);

    return b != NULL ? b->name : "";
}

START_TEST(this_zone_first_taking_turns)
{
    ck_assert_str_eq(pick("z1", 0, "abcd"), "a");
    ck_assert_str_eq(pick("z1", 1, "abcd"), "b");
    ck_assert_str_eq(pick("z1", 2, "abcd"), "a");
    ck_assert_str_eq(pick("z1", 3, "abcd"), "b");
    ck_assert_str_eq(pick("z2", 7, "abcd"), "c");
}
END_TEST

START_TEST(turns_only_among_the_usable)
{
    /* b cannot serve: a takes every turn, not every other one. */
    for (unsigned rr = 0; rr < 6; rr++)
        ck_assert_str_eq(pick("z1", rr, "acd"), "a");
}
END_TEST

START_TEST(other_zones_when_this_one_cannot_serve)
{
    ck_assert_str_eq(pick("z1", 0, "cd"), "c");
    ck_assert_str_eq(pick("z1", 1, "cd"), "d");
    ck_assert_str_eq(pick("z1", 2, "cd"), "c");
    ck_assert_str_eq(pick("z1", 5, "d"), "d");
}
END_TEST

START_TEST(no_zone_or_unknown_zone_is_plain_round_robin)
{
    ck_assert_str_eq(pick(NULL, 0, "abcd"), "a");
    ck_assert_str_eq(pick(NULL, 1, "abcd"), "c");
    ck_assert_str_eq(pick(NULL, 2, "abcd"), "b");
    ck_assert_str_eq(pick(NULL, 3, "abcd"), "d");
    ck_assert_str_eq(pick("z9", 4, "abcd"), "a");
}
END_TEST

START_TEST(none_usable_or_no_shard)
{
    ck_assert_str_eq(pick("z1", 0, ""), "");
    ck_assert_ptr_null(te_route_backend(NULL, "z1", 0, usable, "abcd"));
}
END_TEST

START_TEST(counter_wraps)
{
    ck_assert_str_eq(pick("z1", 0xffffffffu, "abcd"), "b");
}
END_TEST

static Suite *route_suite(void)
{
    Suite *s = suite_create("route");
    TCase *tc = tcase_create("backend");

    tcase_add_test(tc, this_zone_first_taking_turns);
    tcase_add_test(tc, turns_only_among_the_usable);
    tcase_add_test(tc, other_zones_when_this_one_cannot_serve);
    tcase_add_test(tc, no_zone_or_unknown_zone_is_plain_round_robin);
    tcase_add_test(tc, none_usable_or_no_shard);
    tcase_add_test(tc, counter_wraps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(route_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
