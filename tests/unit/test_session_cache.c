/*
 * test_session_cache.c: the per-worker session cache
 * (src/session_cache.c), with both clocks in the test's hands.
 *
 * What is proved: one fetch per id however many wait; hits until the
 * cache ttl or the session's expiry, whichever is first, and never past
 * either; expired sessions and unknown ids remembered as negative for
 * their own time and within their own share; a failure caches nothing;
 * a revocation evicts at once and turns an answer in flight into
 * "unknown"; a flush empties the cache and lets answers in flight
 * through uncached; late results of old fetches are dropped; a
 * cancelled waiter is never called; a cache full of fetches is BUSY.
 */
#include "session_cache.h"
#include "session_record.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define A "s-aaaaaaaaaaaaaaaa"
#define B "s-bbbbbbbbbbbbbbbb"
#define C "s-cccccccccccccccc"

#define T0 1000000 /* unix seconds at the start of each test */

static te_session_cache *cache;

struct seen {
    int calls;
    te_session_outcome outcome;
    char user[64];
};

static void seen_cb(te_session_waiter *w, te_session_outcome outcome,
                    const te_session *s, void *arg)
{
    struct seen *sn = arg;

    (void)w;
    sn->calls++;
    sn->outcome = outcome;
    snprintf(sn->user, sizeof(sn->user), "%s", s != NULL ? s->user : "");
    if (outcome == TE_SESSION_FOUND)
        ck_assert_ptr_nonnull(s);
    else
        ck_assert_ptr_null(s);
}

static void make(size_t max, int64_t ttl, int64_t neg_ttl)
{
    te_session_cache_conf conf = {
        .max_entries = max,
        .ttl_ms = ttl,
        .negative_ttl_ms = neg_ttl,
    };

    cache = te_session_cache_create(&conf);
    ck_assert_ptr_nonnull(cache);
}

static void teardown(void)
{
    te_session_cache_destroy(cache);
    cache = NULL;
}

static te_session *record(const char *id, const char *user, int64_t expires)
{
    char json[160], err[128];
    te_session *s;

    snprintf(json, sizeof(json),
             "{\"user\":\"%s\",\"tenant\":\"t-1\",\"expires\":%lld}", user,
             (long long)expires);
    s = te_session_parse(id, strlen(id), json, strlen(json), err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    return s;
}

static te_session_cache_result look(const char *id, int64_t ms, int64_t s,
                                    te_session_waiter *w, te_session_hit *hit)
{
    return te_session_cache_lookup(cache, id, strlen(id), ms, s, w, hit);
}

static te_status complete(const char *id, uint64_t fid, te_session *s,
                          int failed, int64_t ms, int64_t now_s)
{
    return te_session_cache_complete(cache, id, strlen(id), fid, s, failed, ms,
                                     now_s);
}

/* A miss fetched and answered with a live session for <user>. */
static void prime(const char *id, const char *user, int64_t expires, int64_t ms,
                  int64_t now_s)
{
    te_session_hit hit;

    ck_assert_int_eq(look(id, ms, now_s, NULL, &hit), TE_SESSION_MISS_FETCH);
    ck_assert_int_eq(
        complete(id, hit.fetch_id, record(id, user, expires), 0, ms, now_s),
        TE_OK);
}

START_TEST(one_fetch_many_waiters_then_hits)
{
    te_session_waiter w1, w2;
    struct seen s1 = {0}, s2 = {0};
    te_session_hit hit;
    uint64_t fid;

    make(100, 60000, 5000);
    ck_assert_int_eq(look(A, 0, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    fid = hit.fetch_id;
    ck_assert_uint_ne(fid, 0);

    te_session_waiter_init(&w1, seen_cb, &s1);
    te_session_waiter_init(&w2, seen_cb, &s2);
    ck_assert_int_eq(look(A, 1, T0, &w1, &hit), TE_SESSION_MISS_WAIT);
    ck_assert_int_eq(look(A, 2, T0, &w2, &hit), TE_SESSION_MISS_WAIT);
    ck_assert_int_eq(look(A, 2, T0, NULL, &hit), TE_SESSION_BUSY);

    ck_assert_int_eq(complete(A, fid, record(A, "u-1", T0 + 3600), 0, 10, T0),
                     TE_OK);
    ck_assert_int_eq(s1.calls, 1);
    ck_assert_int_eq(s2.calls, 1);
    ck_assert_int_eq(s1.outcome, TE_SESSION_FOUND);
    ck_assert_str_eq(s2.user, "u-1");

    ck_assert_int_eq(look(A, 20, T0, NULL, &hit), TE_SESSION_HIT);
    ck_assert_str_eq(hit.session->user, "u-1");
    ck_assert_str_eq(hit.session->tenant, "t-1");
    ck_assert_str_eq(hit.session->id, A);
}
END_TEST

START_TEST(ttl_bounds_a_long_session)
{
    te_session_hit hit;

    make(100, 30000, 5000);
    prime(A, "u-1", T0 + 3600, 0, T0);
    ck_assert_int_eq(look(A, 29999, T0 + 29, NULL, &hit), TE_SESSION_HIT);
    ck_assert_int_eq(look(A, 30000, T0 + 30, NULL, &hit),
                     TE_SESSION_MISS_FETCH);
    ck_assert_ptr_null(hit.session);
}
END_TEST

START_TEST(expiry_bounds_a_short_session)
{
    te_session_hit hit;

    make(100, 60000, 5000);
    prime(A, "u-1", T0 + 2, 0, T0);
    ck_assert_int_eq(look(A, 1999, T0 + 1, NULL, &hit), TE_SESSION_HIT);
    ck_assert_int_eq(look(A, 2000, T0 + 2, NULL, &hit), TE_SESSION_MISS_FETCH);
}
END_TEST

START_TEST(wall_clock_expiry_wins_over_the_cache_time)
{
    te_session_hit hit;

    /* The unix clock jumps ahead of the monotonic one: still refused. */
    make(100, 60000, 5000);
    prime(A, "u-1", T0 + 10, 0, T0);
    ck_assert_int_eq(look(A, 100, T0 + 10, NULL, &hit), TE_SESSION_MISS_FETCH);
}
END_TEST

START_TEST(expired_on_arrival_is_negative)
{
    te_session_waiter w;
    struct seen sn = {0};
    te_session_hit hit;
    uint64_t fid;

    make(100, 60000, 5000);
    ck_assert_int_eq(look(A, 0, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    fid = hit.fetch_id;
    te_session_waiter_init(&w, seen_cb, &sn);
    ck_assert_int_eq(look(A, 0, T0, &w, &hit), TE_SESSION_MISS_WAIT);
    ck_assert_int_eq(complete(A, fid, record(A, "u-1", T0), 0, 5, T0), TE_OK);
    ck_assert_int_eq(sn.calls, 1);
    ck_assert_int_eq(sn.outcome, TE_SESSION_UNKNOWN);
    ck_assert_int_eq(look(A, 10, T0, NULL, &hit), TE_SESSION_NEGATIVE);
}
END_TEST

START_TEST(unknown_remembered_for_negative_ttl)
{
    te_session_cache_stats st;
    te_session_hit hit;

    make(100, 60000, 5000);
    ck_assert_int_eq(look(A, 0, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    ck_assert_int_eq(complete(A, hit.fetch_id, NULL, 0, 0, T0), TE_OK);
    ck_assert_int_eq(look(A, 4999, T0 + 4, NULL, &hit), TE_SESSION_NEGATIVE);
    te_session_cache_stats_get(cache, &st);
    ck_assert_uint_eq(st.negative, 1);
    ck_assert_int_eq(look(A, 5000, T0 + 5, NULL, &hit), TE_SESSION_MISS_FETCH);
    te_session_cache_stats_get(cache, &st);
    ck_assert_uint_eq(st.negative, 0);
    ck_assert_uint_eq(st.fetching, 1);
}
END_TEST

START_TEST(failure_caches_nothing)
{
    te_session_waiter w;
    struct seen sn = {0};
    te_session_cache_stats st;
    te_session_hit hit;
    uint64_t fid;

    make(100, 60000, 5000);
    ck_assert_int_eq(look(A, 0, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    fid = hit.fetch_id;
    te_session_waiter_init(&w, seen_cb, &sn);
    ck_assert_int_eq(look(A, 0, T0, &w, &hit), TE_SESSION_MISS_WAIT);
    ck_assert_int_eq(complete(A, fid, NULL, 1, 1, T0), TE_OK);
    ck_assert_int_eq(sn.outcome, TE_SESSION_FAILED);
    te_session_cache_stats_get(cache, &st);
    ck_assert_uint_eq(st.entries, 0);
    ck_assert_int_eq(look(A, 2, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
}
END_TEST

START_TEST(revoke_evicts_a_cached_session)
{
    te_session_hit hit;

    make(100, 60000, 5000);
    prime(A, "u-1", T0 + 3600, 0, T0);
    prime(B, "u-2", T0 + 3600, 0, T0);
    ck_assert_uint_eq(te_session_cache_revoke(cache, A, strlen(A)), 1);
    ck_assert_uint_eq(te_session_cache_revoke(cache, A, strlen(A)), 0);
    ck_assert_uint_eq(te_session_cache_revoke(cache, "bad id", 6), 0);
    ck_assert_int_eq(look(A, 1, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    ck_assert_int_eq(look(B, 1, T0, NULL, &hit), TE_SESSION_HIT);
}
END_TEST

START_TEST(revoke_in_flight_answers_unknown_and_caches_nothing)
{
    te_session_waiter w;
    struct seen sn = {0};
    te_session_cache_stats st;
    te_session_hit hit;
    uint64_t fid, fid2;

    make(100, 60000, 5000);
    ck_assert_int_eq(look(A, 0, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    fid = hit.fetch_id;
    te_session_waiter_init(&w, seen_cb, &sn);
    ck_assert_int_eq(look(A, 0, T0, &w, &hit), TE_SESSION_MISS_WAIT);
    ck_assert_uint_eq(te_session_cache_revoke(cache, A, strlen(A)), 1);
    te_session_cache_stats_get(cache, &st);
    ck_assert_uint_eq(st.detached, 1);

    /* A new lookup starts a new fetch, not waiting on the revoked one. */
    ck_assert_int_eq(look(A, 1, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    fid2 = hit.fetch_id;
    ck_assert_uint_ne(fid2, fid);

    /* The revoked fetch read the record before it was deleted. */
    ck_assert_int_eq(complete(A, fid, record(A, "u-1", T0 + 3600), 0, 2, T0),
                     TE_OK);
    ck_assert_int_eq(sn.calls, 1);
    ck_assert_int_eq(sn.outcome, TE_SESSION_UNKNOWN);
    te_session_cache_stats_get(cache, &st);
    ck_assert_uint_eq(st.detached, 0);
    ck_assert_int_eq(complete(A, fid2, NULL, 0, 3, T0), TE_OK);
    ck_assert_int_eq(look(A, 4, T0, NULL, &hit), TE_SESSION_NEGATIVE);
}
END_TEST

START_TEST(flush_empties_and_lets_answers_through_uncached)
{
    te_session_waiter w;
    struct seen sn = {0};
    te_session_cache_stats st;
    te_session_hit hit;
    uint64_t fid;

    make(100, 60000, 5000);
    prime(A, "u-1", T0 + 3600, 0, T0);
    ck_assert_int_eq(look(B, 0, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    ck_assert_int_eq(complete(B, hit.fetch_id, NULL, 0, 0, T0), TE_OK);
    ck_assert_int_eq(look(C, 0, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    fid = hit.fetch_id;
    te_session_waiter_init(&w, seen_cb, &sn);
    ck_assert_int_eq(look(C, 0, T0, &w, &hit), TE_SESSION_MISS_WAIT);

    te_session_cache_flush(cache);
    te_session_cache_stats_get(cache, &st);
    ck_assert_uint_eq(st.entries, 1);
    ck_assert_uint_eq(st.detached, 1);
    ck_assert_uint_eq(st.negative, 0);

    ck_assert_int_eq(complete(C, fid, record(C, "u-3", T0 + 3600), 0, 1, T0),
                     TE_OK);
    ck_assert_int_eq(sn.outcome, TE_SESSION_FOUND);
    ck_assert_str_eq(sn.user, "u-3");
    ck_assert_int_eq(look(A, 2, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    ck_assert_int_eq(look(B, 2, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    ck_assert_int_eq(look(C, 2, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
}
END_TEST

START_TEST(late_result_of_an_old_fetch_is_dropped)
{
    te_session_hit hit;
    uint64_t old;

    make(100, 60000, 5000);
    ck_assert_int_eq(look(A, 0, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    old = hit.fetch_id;
    ck_assert_int_eq(complete(A, old, NULL, 1, 0, T0), TE_OK);
    ck_assert_int_eq(look(A, 1, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    ck_assert_int_eq(complete(A, old, record(A, "old", T0 + 99), 0, 2, T0),
                     TE_DECLINED);
    ck_assert_int_eq(
        complete(A, hit.fetch_id, record(A, "new", T0 + 99), 0, 3, T0), TE_OK);
    ck_assert_int_eq(look(A, 4, T0, NULL, &hit), TE_SESSION_HIT);
    ck_assert_str_eq(hit.session->user, "new");
}
END_TEST

START_TEST(cancelled_waiter_is_never_called)
{
    te_session_waiter w1, w2;
    struct seen s1 = {0}, s2 = {0};
    te_session_hit hit;
    uint64_t fid;

    make(100, 60000, 5000);
    ck_assert_int_eq(look(A, 0, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    fid = hit.fetch_id;
    te_session_waiter_init(&w1, seen_cb, &s1);
    te_session_waiter_init(&w2, seen_cb, &s2);
    ck_assert_int_eq(look(A, 0, T0, &w1, &hit), TE_SESSION_MISS_WAIT);
    ck_assert_int_eq(look(A, 0, T0, &w2, &hit), TE_SESSION_MISS_WAIT);
    te_session_waiter_cancel(&w1);
    te_session_waiter_cancel(&w1);
    ck_assert_int_eq(complete(A, fid, record(A, "u", T0 + 9), 0, 1, T0), TE_OK);
    ck_assert_int_eq(s1.calls, 0);
    ck_assert_int_eq(s2.calls, 1);
}
END_TEST

START_TEST(invalid_ids_never_reach_a_fetch)
{
    te_session_hit hit;

    make(100, 60000, 5000);
    ck_assert_int_eq(look("short", 0, T0, NULL, &hit), TE_SESSION_INVALID);
    ck_assert_int_eq(look("s-aaaaaaaa\r\naaaaaa", 0, T0, NULL, &hit),
                     TE_SESSION_INVALID);
    ck_assert_uint_eq(hit.fetch_id, 0);
}
END_TEST

START_TEST(unknown_ids_keep_to_their_share)
{
    te_session_cache_stats st;
    te_session_hit hit;
    char id[32];

    /* 16 entries, of which 2 may be unknown ids: a flood of made-up
     * cookies leaves the live sessions alone. */
    make(16, 60000, 60000);
    prime(A, "u-1", T0 + 3600, 0, T0);
    prime(B, "u-2", T0 + 3600, 0, T0);
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof(id), "s-made-up-%08d", i);
        ck_assert_int_eq(look(id, 1, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
        ck_assert_int_eq(complete(id, hit.fetch_id, NULL, 0, 1, T0), TE_OK);
    }
    te_session_cache_stats_get(cache, &st);
    ck_assert_uint_eq(st.negative, 2);
    ck_assert_uint_eq(st.entries, 4);
    ck_assert_int_eq(look(A, 2, T0, NULL, &hit), TE_SESSION_HIT);
    ck_assert_int_eq(look(B, 2, T0, NULL, &hit), TE_SESSION_HIT);
}
END_TEST

START_TEST(full_of_fetches_is_busy_and_lru_goes_first)
{
    te_session_hit hit;

    make(2, 60000, 60000);
    prime(A, "u-1", T0 + 3600, 0, T0);
    prime(B, "u-2", T0 + 3600, 0, T0);
    ck_assert_int_eq(look(A, 1, T0, NULL, &hit), TE_SESSION_HIT);

    /* C pushes out B, the least recently used. */
    ck_assert_int_eq(look(C, 2, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    ck_assert_int_eq(look(A, 3, T0, NULL, &hit), TE_SESSION_HIT);
    ck_assert_int_eq(look(B, 3, T0, NULL, &hit), TE_SESSION_MISS_FETCH);

    /* B and C are both being fetched: nothing can make room. */
    ck_assert_int_eq(look("s-dddddddddddddddd", 4, T0, NULL, &hit),
                     TE_SESSION_BUSY);
}
END_TEST

START_TEST(create_refuses_bad_bounds)
{
    te_session_cache_conf conf = {.max_entries = 0, .ttl_ms = 1};

    ck_assert_ptr_null(te_session_cache_create(&conf));
    conf.max_entries = 1;
    conf.ttl_ms = -1;
    ck_assert_ptr_null(te_session_cache_create(&conf));
    te_session_cache_destroy(NULL);
}
END_TEST

START_TEST(destroy_with_waiters_and_values)
{
    te_session_waiter w;
    struct seen sn = {0};
    te_session_hit hit;

    make(100, 60000, 5000);
    prime(A, "u-1", T0 + 3600, 0, T0);
    ck_assert_int_eq(look(B, 0, T0, NULL, &hit), TE_SESSION_MISS_FETCH);
    te_session_waiter_init(&w, seen_cb, &sn);
    ck_assert_int_eq(look(B, 0, T0, &w, &hit), TE_SESSION_MISS_WAIT);
    te_session_cache_destroy(cache);
    cache = NULL;
    ck_assert_int_eq(sn.calls, 0);
    ck_assert(!w.queue);
}
END_TEST

static Suite *session_cache_suite(void)
{
    Suite *s = suite_create("session_cache");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, one_fetch_many_waiters_then_hits);
    tcase_add_test(tc, ttl_bounds_a_long_session);
    tcase_add_test(tc, expiry_bounds_a_short_session);
    tcase_add_test(tc, wall_clock_expiry_wins_over_the_cache_time);
    tcase_add_test(tc, expired_on_arrival_is_negative);
    tcase_add_test(tc, unknown_remembered_for_negative_ttl);
    tcase_add_test(tc, failure_caches_nothing);
    tcase_add_test(tc, revoke_evicts_a_cached_session);
    tcase_add_test(tc, revoke_in_flight_answers_unknown_and_caches_nothing);
    tcase_add_test(tc, flush_empties_and_lets_answers_through_uncached);
    tcase_add_test(tc, late_result_of_an_old_fetch_is_dropped);
    tcase_add_test(tc, cancelled_waiter_is_never_called);
    tcase_add_test(tc, invalid_ids_never_reach_a_fetch);
    tcase_add_test(tc, unknown_ids_keep_to_their_share);
    tcase_add_test(tc, full_of_fetches_is_busy_and_lru_goes_first);
    tcase_add_test(tc, create_refuses_bad_bounds);
    tcase_add_test(tc, destroy_with_waiters_and_values);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(session_cache_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
