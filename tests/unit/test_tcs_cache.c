/*
 * test_tcs_cache.c: the per-worker tenant cache keeps its bound and its
 * order, serves within its time limits and no further, sends one fetch
 * per site however many requests ask, answers every waiter exactly once,
 * and forgets a tenant when a lifecycle event names it. Time is the
 * now_ms argument, so nothing here sleeps.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcs_cache.h"

#define TTL   1000
#define STALE 5000
#define NEG   200

/* A context for <site> of tenant <id> at <version>. */
static te_tcs_context *ctx_new(const char *site, const char *id,
                               unsigned version)
{
    char json[512];
    char err[256] = "";
    te_tcs_context *ctx;

    snprintf(json, sizeof(json),
             "{\"id\":\"%s\",\"site\":\"%s\",\"status\":\"active\","
             "\"region\":\"eu\",\"version\":%u,\"products\":{}}",
             id, site, version);
    ctx = te_tcs_context_parse(json, strlen(json), err, sizeof(err));
    ck_assert_msg(ctx != NULL, "%s", err);
    return ctx;
}

static te_tcs_cache *cache_new(size_t max, size_t max_negative)
{
    te_tcs_cache_conf conf = {
        .max_entries = max,
        .max_negative = max_negative,
        .ttl_ms = TTL,
        .stale_ms = STALE,
        .negative_ttl_ms = NEG,
    };
    te_tcs_cache *c = te_tcs_cache_create(&conf);

    ck_assert_ptr_nonnull(c);
    return c;
}

static te_tcs_cache_result look(te_tcs_cache *c, const char *site, int64_t now,
                                te_tcs_waiter *w, te_tcs_hit *hit)
{
    return te_tcs_cache_lookup(c, site, strlen(site), now, w, hit);
}

/* Looks up <site>, expecting <want>; drops any context it hands out and
 * returns the fetch id. */
static uint64_t expect(te_tcs_cache *c, const char *site, int64_t now,
                       te_tcs_cache_result want)
{
    te_tcs_hit hit;
    te_tcs_cache_result got = look(c, site, now, NULL, &hit);

    ck_assert_msg(got == want, "%s at %lld: got %d, want %d", site,
                  (long long)now, got, want);
    te_tcs_context_free(hit.ctx);
    return hit.fetch_id;
}

/* Fetches <site> of tenant <id> into the cache at <now>. */
static void fill(te_tcs_cache *c, const char *site, const char *id, int64_t now)
{
    uint64_t fid = expect(c, site, now, TE_TCS_MISS_FETCH);

    ck_assert_int_eq(te_tcs_cache_complete(c, site, strlen(site), fid,
                                           ctx_new(site, id, 1), 0, now),
                     TE_OK);
}

static te_status complete(te_tcs_cache *c, const char *site, uint64_t fid,
                          te_tcs_context *ctx, int failed, int64_t now)
{
    return te_tcs_cache_complete(c, site, strlen(site), fid, ctx, failed, now);
}

/* What a waiter was told. */
struct told {
    te_tcs_waiter w;
    int calls;
    te_tcs_outcome outcome;
    te_tcs_context *ctx;
    te_tcs_waiter *cancel; /* cancelled from the callback, if set */
    te_tcs_cache *cache;   /* looked up again from it, if set */
    te_tcs_cache_result again;
};

static void on_done(te_tcs_waiter *w, te_tcs_outcome outcome,
                    te_tcs_context *ctx, void *arg)
{
    struct told *t = arg;

    ck_assert_ptr_eq(w, &t->w);
    ck_assert(!te_tcs_waiter_queued(w));
    t->calls++;
    t->outcome = outcome;
    te_tcs_context_free(t->ctx);
    t->ctx = ctx;
    if (t->cancel != NULL)
        te_tcs_waiter_cancel(t->cancel);
    if (t->cache != NULL) {
        te_tcs_hit hit;

        t->again = look(t->cache, "acme", 0, NULL, &hit);
        te_tcs_context_free(hit.ctx);
    }
}

static void told_init(struct told *t, size_t n)
{
    memset(t, 0, n * sizeof(*t));
    for (size_t i = 0; i < n; i++)
        te_tcs_waiter_init(&t[i].w, on_done, &t[i]);
}

static void told_free(struct told *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        te_tcs_context_free(t[i].ctx);
}

START_TEST(conf_out_of_range_is_refused)
{
    te_tcs_cache_conf conf = {.max_entries = 0, .ttl_ms = 1};

    ck_assert_ptr_null(te_tcs_cache_create(&conf));
    conf.max_entries = 1;
    conf.ttl_ms = -1;
    ck_assert_ptr_null(te_tcs_cache_create(&conf));
    conf.ttl_ms = 0;
    conf.stale_ms = -1;
    ck_assert_ptr_null(te_tcs_cache_create(&conf));
    conf.stale_ms = 0;
    conf.negative_ttl_ms = -1;
    ck_assert_ptr_null(te_tcs_cache_create(&conf));
    te_tcs_cache_destroy(NULL);
}
END_TEST

START_TEST(miss_then_hit_hands_out_references)
{
    te_tcs_cache *c = cache_new(8, 0);
    te_tcs_context *ctx = ctx_new("acme", "t-1", 1);
    te_tcs_hit hit;
    uint64_t fid;

    fid = expect(c, "acme", 0, TE_TCS_MISS_FETCH);
    ck_assert_uint_ne(fid, 0);
    te_tcs_context_ref(ctx);
    ck_assert_int_eq(complete(c, "acme", fid, ctx, 0, 0), TE_OK);
    ck_assert_int_eq(ctx->refs, 2);

    ck_assert_int_eq(look(c, "acme", 10, NULL, &hit), TE_TCS_HIT);
    ck_assert_ptr_eq(hit.ctx, ctx);
    ck_assert_uint_eq(hit.fetch_id, 0);
    ck_assert_int_eq(ctx->refs, 3);
    te_tcs_context_free(hit.ctx);

    te_tcs_cache_destroy(c);
    ck_assert_int_eq(ctx->refs, 1);
    te_tcs_context_free(ctx);
}
END_TEST

START_TEST(invalid_sites_are_never_cached)
{
    te_tcs_cache *c = cache_new(8, 0);
    te_tcs_cache_stats st;

    expect(c, "", 0, TE_TCS_INVALID);
    expect(c, "Acme", 0, TE_TCS_INVALID);
    expect(c, "acme.evil", 0, TE_TCS_INVALID);
    te_tcs_cache_stats_get(c, &st);
    ck_assert_uint_eq(st.entries, 0);
    te_tcs_cache_destroy(c);
}
END_TEST

START_TEST(fresh_for_ttl_then_stale_refresh_once)
{
    te_tcs_cache *c = cache_new(8, 0);
    te_tcs_hit hit;
    uint64_t fid;

    fill(c, "acme", "t-1", 0);
    expect(c, "acme", TTL - 1, TE_TCS_HIT);

    fid = expect(c, "acme", TTL, TE_TCS_STALE_HIT_REFRESH);
    ck_assert_uint_ne(fid, 0);
    expect(c, "acme", TTL + 1, TE_TCS_STALE_HIT);
    expect(c, "acme", TTL + 2, TE_TCS_STALE_HIT);

    ck_assert_int_eq(
        complete(c, "acme", fid, ctx_new("acme", "t-1", 2), 0, TTL + 3), TE_OK);
    ck_assert_int_eq(look(c, "acme", TTL + 4, NULL, &hit), TE_TCS_HIT);
    ck_assert_uint_eq(hit.ctx->version, 2);
    te_tcs_context_free(hit.ctx);
    expect(c, "acme", 2 * TTL + 2, TE_TCS_HIT);
    expect(c, "acme", 2 * TTL + 3, TE_TCS_STALE_HIT_REFRESH);
    te_tcs_cache_destroy(c);
}
END_TEST

START_TEST(stale_bound_is_the_end)
{
    te_tcs_cache *c = cache_new(8, 0);

    fill(c, "acme", "t-1", 0);
    expect(c, "acme", TTL + STALE, TE_TCS_MISS_FETCH);
    te_tcs_cache_destroy(c);

    c = cache_new(8, 0);
    fill(c, "acme", "t-1", 0);
    expect(c, "acme", TTL + STALE - 1, TE_TCS_STALE_HIT_REFRESH);
    te_tcs_cache_destroy(c);
}
END_TEST

/* A refresh still running at the stale bound: later requests wait for it
 * instead of getting a context that old. */
START_TEST(refresh_outliving_stale_bound_makes_requests_wait)
{
    te_tcs_cache *c = cache_new(8, 0);
    struct told t[1];
    te_tcs_hit hit;
    uint64_t fid;

    told_init(t, 1);
    fill(c, "acme", "t-1", 0);
    fid = expect(c, "acme", TTL, TE_TCS_STALE_HIT_REFRESH);
    ck_assert_int_eq(look(c, "acme", TTL + STALE, &t[0].w, &hit),
                     TE_TCS_MISS_WAIT);
    ck_assert_ptr_null(hit.ctx);
    ck_assert(te_tcs_waiter_queued(&t[0].w));

    complete(c, "acme", fid, ctx_new("acme", "t-1", 2), 0, TTL + STALE);
    ck_assert_int_eq(t[0].calls, 1);
    ck_assert_int_eq(t[0].outcome, TE_TCS_FOUND);
    ck_assert_uint_eq(t[0].ctx->version, 2);
    told_free(t, 1);
    te_tcs_cache_destroy(c);
}
END_TEST

START_TEST(failed_refresh_keeps_serving_stale)
{
    te_tcs_cache *c = cache_new(8, 0);
    te_tcs_hit hit;
    uint64_t fid;

    fill(c, "acme", "t-1", 0);
    fid = expect(c, "acme", TTL, TE_TCS_STALE_HIT_REFRESH);
    ck_assert_int_eq(complete(c, "acme", fid, NULL, 1, TTL + 1), TE_OK);

    ck_assert_int_eq(look(c, "acme", TTL + 2, NULL, &hit),
                     TE_TCS_STALE_HIT_REFRESH);
    ck_assert_uint_eq(hit.ctx->version, 1);
    ck_assert_uint_gt(hit.fetch_id, fid);
    te_tcs_context_free(hit.ctx);
    te_tcs_cache_destroy(c);
}
END_TEST

START_TEST(negative_entries_have_their_own_ttl)
{
    te_tcs_cache *c = cache_new(8, 0);
    te_tcs_cache_stats st;
    uint64_t fid;

    fid = expect(c, "nobody", 0, TE_TCS_MISS_FETCH);
    ck_assert_int_eq(complete(c, "nobody", fid, NULL, 0, 0), TE_OK);
    expect(c, "nobody", NEG - 1, TE_TCS_NEGATIVE);
    te_tcs_cache_stats_get(c, &st);
    ck_assert_uint_eq(st.negative, 1);

    fid = expect(c, "nobody", NEG, TE_TCS_MISS_FETCH);
    te_tcs_cache_stats_get(c, &st);
    ck_assert_uint_eq(st.negative, 0);

    /* The site was provisioned meanwhile. */
    complete(c, "nobody", fid, ctx_new("nobody", "t-9", 1), 0, NEG);
    expect(c, "nobody", NEG + 1, TE_TCS_HIT);
    te_tcs_cache_destroy(c);
}
END_TEST

START_TEST(failed_first_fetch_caches_nothing)
{
    te_tcs_cache *c = cache_new(8, 0);
    te_tcs_cache_stats st;
    uint64_t fid;

    fid = expect(c, "acme", 0, TE_TCS_MISS_FETCH);
    complete(c, "acme", fid, NULL, 1, 0);
    te_tcs_cache_stats_get(c, &st);
    ck_assert_uint_eq(st.entries, 0);
    ck_assert_uint_eq(st.fetching, 0);
    expect(c, "acme", 1, TE_TCS_MISS_FETCH);
    te_tcs_cache_destroy(c);
}
END_TEST

#define FLOCK 16

START_TEST(single_flight_one_fetch_for_many_requests)
{
    te_tcs_cache *c = cache_new(8, 0);
    struct told t[FLOCK];
    te_tcs_context *ctx;
    te_tcs_cache_stats st;
    unsigned fetches = 0, waits = 0;
    uint64_t fid = 0;

    told_init(t, FLOCK);
    for (unsigned i = 0; i < FLOCK; i++) {
        te_tcs_hit hit;

        switch (look(c, "acme", i, &t[i].w, &hit)) {
        case TE_TCS_MISS_FETCH:
            fetches++;
            fid = hit.fetch_id;
            break;
        case TE_TCS_MISS_WAIT:
            waits++;
            break;
        default:
            ck_abort_msg("lookup %u: neither fetch nor wait", i);
        }
    }
    ck_assert_uint_eq(fetches, 1);
    ck_assert_uint_eq(waits, FLOCK - 1);
    te_tcs_cache_stats_get(c, &st);
    ck_assert_uint_eq(st.fetching, 1);

    ctx = ctx_new("acme", "t-1", 1);
    complete(c, "acme", fid, te_tcs_context_ref(ctx), 0, FLOCK);
    ck_assert_uint_eq(t[0].calls, 0);
    for (unsigned i = 1; i < FLOCK; i++) {
        ck_assert_int_eq(t[i].calls, 1);
        ck_assert_int_eq(t[i].outcome, TE_TCS_FOUND);
        ck_assert_ptr_eq(t[i].ctx, ctx);
    }
    /* Ours, the cache's, and one per waiter. */
    ck_assert_int_eq(ctx->refs, 1 + 1 + (FLOCK - 1));

    /* A second completion of the same fetch calls nobody again. */
    ck_assert_int_eq(
        complete(c, "acme", fid, ctx_new("acme", "t-1", 2), 0, FLOCK),
        TE_DECLINED);
    for (unsigned i = 1; i < FLOCK; i++)
        ck_assert_int_eq(t[i].calls, 1);

    told_free(t, FLOCK);
    te_tcs_cache_destroy(c);
    ck_assert_int_eq(ctx->refs, 1);
    te_tcs_context_free(ctx);
}
END_TEST

START_TEST(single_flight_failure_and_unknown_reach_every_waiter)
{
    static const struct {
        int unknown;
        te_tcs_outcome outcome;
        te_tcs_cache_result after;
    } cases[] = {
        {0, TE_TCS_FAILED, TE_TCS_MISS_FETCH},
        {1, TE_TCS_UNKNOWN, TE_TCS_NEGATIVE},
    };

    for (unsigned k = 0; k < 2; k++) {
        te_tcs_cache *c = cache_new(8, 0);
        struct told t[4];
        uint64_t fid = expect(c, "acme", 0, TE_TCS_MISS_FETCH);

        told_init(t, 4);
        for (unsigned i = 0; i < 4; i++) {
            te_tcs_hit hit;

            ck_assert_int_eq(look(c, "acme", 1, &t[i].w, &hit),
                             TE_TCS_MISS_WAIT);
        }
        complete(c, "acme", fid, NULL, !cases[k].unknown, 2);
        for (unsigned i = 0; i < 4; i++) {
            ck_assert_int_eq(t[i].calls, 1);
            ck_assert_int_eq(t[i].outcome, cases[k].outcome);
            ck_assert_ptr_null(t[i].ctx);
        }
        expect(c, "acme", 3, cases[k].after);
        te_tcs_cache_destroy(c);
    }
}
END_TEST

START_TEST(cancelled_waiters_are_not_called)
{
    te_tcs_cache *c = cache_new(8, 0);
    struct told t[5];
    uint64_t fid = expect(c, "acme", 0, TE_TCS_MISS_FETCH);
    te_tcs_hit hit;

    told_init(t, 5);
    for (unsigned i = 0; i < 5; i++)
        ck_assert_int_eq(look(c, "acme", 1, &t[i].w, &hit), TE_TCS_MISS_WAIT);

    /* A client gone: the first, a middle one and the last; twice is
     * harmless. */
    te_tcs_waiter_cancel(&t[0].w);
    te_tcs_waiter_cancel(&t[2].w);
    te_tcs_waiter_cancel(&t[4].w);
    te_tcs_waiter_cancel(&t[2].w);
    ck_assert(!te_tcs_waiter_queued(&t[2].w));

    /* And one cancelled by another's callback while they are answered. */
    t[1].cancel = &t[3].w;

    complete(c, "acme", fid, ctx_new("acme", "t-1", 1), 0, 2);
    ck_assert_int_eq(t[0].calls, 0);
    ck_assert_int_eq(t[1].calls, 1);
    ck_assert_int_eq(t[2].calls, 0);
    ck_assert_int_eq(t[3].calls, 0);
    ck_assert_int_eq(t[4].calls, 0);

    /* A cancelled waiter can wait again elsewhere. */
    fid = expect(c, "other", 3, TE_TCS_MISS_FETCH);
    ck_assert_int_eq(look(c, "other", 3, &t[2].w, &hit), TE_TCS_MISS_WAIT);
    te_tcs_waiter_cancel(&t[2].w);
    complete(c, "other", fid, NULL, 1, 4);
    ck_assert_int_eq(t[2].calls, 0);

    told_free(t, 5);
    te_tcs_cache_destroy(c);
}
END_TEST

START_TEST(waiter_callback_may_look_up_again)
{
    te_tcs_cache *c = cache_new(8, 0);
    struct told t[1];
    uint64_t fid = expect(c, "acme", 0, TE_TCS_MISS_FETCH);
    te_tcs_hit hit;

    told_init(t, 1);
    t[0].cache = c;
    ck_assert_int_eq(look(c, "acme", 0, &t[0].w, &hit), TE_TCS_MISS_WAIT);
    complete(c, "acme", fid, ctx_new("acme", "t-1", 1), 0, 0);
    ck_assert_int_eq(t[0].calls, 1);
    ck_assert_int_eq(t[0].again, TE_TCS_HIT);
    told_free(t, 1);
    te_tcs_cache_destroy(c);
}
END_TEST

START_TEST(waiting_needs_a_free_waiter)
{
    te_tcs_cache *c = cache_new(8, 0);
    struct told t[1];
    te_tcs_hit hit;

    told_init(t, 1);
    expect(c, "acme", 0, TE_TCS_MISS_FETCH);
    expect(c, "acme", 0, TE_TCS_BUSY);
    ck_assert_int_eq(look(c, "acme", 0, &t[0].w, &hit), TE_TCS_MISS_WAIT);
    ck_assert_int_eq(look(c, "acme", 0, &t[0].w, &hit), TE_TCS_BUSY);
    te_tcs_cache_destroy(c);
    ck_assert(!te_tcs_waiter_queued(&t[0].w));
    ck_assert_int_eq(t[0].calls, 0);
    te_tcs_waiter_cancel(&t[0].w);
}
END_TEST

START_TEST(lru_keeps_its_bound_and_order)
{
    te_tcs_cache *c = cache_new(3, 0);
    te_tcs_cache_stats st;

    fill(c, "a", "t-a", 0);
    fill(c, "b", "t-b", 0);
    fill(c, "c", "t-c", 0);
    expect(c, "a", 1, TE_TCS_HIT); /* order now a, c, b */

    fill(c, "d", "t-d", 2); /* pushes b out */
    te_tcs_cache_stats_get(c, &st);
    ck_assert_uint_eq(st.entries, 3);
    ck_assert_uint_eq(st.evictions, 1);
    expect(c, "a", 3, TE_TCS_HIT);
    expect(c, "c", 3, TE_TCS_HIT);
    expect(c, "d", 3, TE_TCS_HIT); /* order d, c, a */

    fill(c, "b", "t-b", 4); /* pushes a out */
    expect(c, "c", 5, TE_TCS_HIT);
    expect(c, "d", 5, TE_TCS_HIT);
    expect(c, "b", 5, TE_TCS_HIT);
    te_tcs_cache_stats_get(c, &st);
    ck_assert_uint_eq(st.entries, 3);
    ck_assert_uint_eq(st.evictions, 2);
    expect(c, "a", 6, TE_TCS_MISS_FETCH);
    te_tcs_cache_destroy(c);
}
END_TEST

/* Unknown sites go first, so a flood of them cannot push tenants out. */
START_TEST(unknown_sites_are_evicted_first_and_bounded)
{
    te_tcs_cache *c = cache_new(3, 0);
    te_tcs_cache_stats st;
    char site[16];

    fill(c, "a", "t-a", 0);
    fill(c, "b", "t-b", 0);
    for (unsigned i = 0; i < 50; i++) {
        uint64_t fid;

        snprintf(site, sizeof(site), "junk%u", i);
        fid = expect(c, site, 1, TE_TCS_MISS_FETCH);
        complete(c, site, fid, NULL, 0, 1);
    }
    expect(c, "a", 2, TE_TCS_HIT);
    expect(c, "b", 2, TE_TCS_HIT);
    expect(c, "junk49", 2, TE_TCS_NEGATIVE);
    te_tcs_cache_stats_get(c, &st);
    ck_assert_uint_eq(st.entries, 3);
    te_tcs_cache_destroy(c);

    /* And within their own bound in a roomy cache. */
    c = cache_new(100, 2);
    for (unsigned i = 0; i < 3; i++) {
        uint64_t fid;

        snprintf(site, sizeof(site), "junk%u", i);
        fid = expect(c, site, 1, TE_TCS_MISS_FETCH);
        complete(c, site, fid, NULL, 0, 1);
    }
    te_tcs_cache_stats_get(c, &st);
    ck_assert_uint_eq(st.negative, 2);
    ck_assert_uint_eq(st.entries, 2);
    expect(c, "junk0", 2, TE_TCS_MISS_FETCH);
    te_tcs_cache_destroy(c);
}
END_TEST

START_TEST(full_of_fetches_is_busy)
{
    te_tcs_cache *c = cache_new(2, 0);
    uint64_t fid;

    fid = expect(c, "a", 0, TE_TCS_MISS_FETCH);
    expect(c, "b", 0, TE_TCS_MISS_FETCH);
    expect(c, "c", 0, TE_TCS_BUSY);
    complete(c, "a", fid, ctx_new("a", "t-a", 1), 0, 0);
    expect(c, "c", 0, TE_TCS_MISS_FETCH); /* a made room */
    expect(c, "a", 0, TE_TCS_BUSY);       /* b and c are in flight */
    te_tcs_cache_destroy(c);
}
END_TEST

START_TEST(evict_by_site)
{
    te_tcs_cache *c = cache_new(8, 0);
    uint64_t fid;

    fill(c, "acme", "t-1", 0);
    fill(c, "beta", "t-2", 0);
    fid = expect(c, "gone", 0, TE_TCS_MISS_FETCH);
    complete(c, "gone", fid, NULL, 0, 0);

    ck_assert_uint_eq(te_tcs_cache_evict_site(c, "acme", 4), 1);
    ck_assert_uint_eq(te_tcs_cache_evict_site(c, "acme", 4), 0);
    ck_assert_uint_eq(te_tcs_cache_evict_site(c, "gone", 4), 1);
    ck_assert_uint_eq(te_tcs_cache_evict_site(c, "No!", 3), 0);
    expect(c, "acme", 1, TE_TCS_MISS_FETCH);
    expect(c, "gone", 1, TE_TCS_MISS_FETCH);
    expect(c, "beta", 1, TE_TCS_HIT);
    te_tcs_cache_destroy(c);
}
END_TEST

/* An event during a fetch: the waiters get that fetch's answer, but it is
 * not cached, and requests after the event fetch anew. */
START_TEST(evict_during_fetch_detaches_it)
{
    te_tcs_cache *c = cache_new(8, 0);
    te_tcs_cache_stats st;
    struct told t[2];
    uint64_t old, fresh;
    te_tcs_hit hit;

    told_init(t, 2);
    old = expect(c, "acme", 0, TE_TCS_MISS_FETCH);
    ck_assert_int_eq(look(c, "acme", 0, &t[0].w, &hit), TE_TCS_MISS_WAIT);

    ck_assert_uint_eq(te_tcs_cache_evict_site(c, "acme", 4), 1);
    te_tcs_cache_stats_get(c, &st);
    ck_assert_uint_eq(st.detached, 1);
    ck_assert_uint_eq(st.fetching, 0);

    fresh = expect(c, "acme", 1, TE_TCS_MISS_FETCH);
    ck_assert_uint_ne(fresh, old);
    ck_assert_int_eq(look(c, "acme", 1, &t[1].w, &hit), TE_TCS_MISS_WAIT);

    /* The old answer reaches the old waiter only. */
    ck_assert_int_eq(complete(c, "acme", old, ctx_new("acme", "t-1", 7), 0, 2),
                     TE_OK);
    ck_assert_int_eq(t[0].calls, 1);
    ck_assert_uint_eq(t[0].ctx->version, 7);
    ck_assert_int_eq(t[1].calls, 0);
    te_tcs_cache_stats_get(c, &st);
    ck_assert_uint_eq(st.detached, 0);
    ck_assert_uint_eq(st.entries, 1);

    ck_assert_int_eq(
        complete(c, "acme", fresh, ctx_new("acme", "t-1", 8), 0, 3), TE_OK);
    ck_assert_int_eq(t[1].calls, 1);
    ck_assert_uint_eq(t[1].ctx->version, 8);
    ck_assert_int_eq(look(c, "acme", 4, NULL, &hit), TE_TCS_HIT);
    ck_assert_uint_eq(hit.ctx->version, 8);
    te_tcs_context_free(hit.ctx);
    told_free(t, 2);
    te_tcs_cache_destroy(c);
}
END_TEST

START_TEST(evict_by_tenant)
{
    te_tcs_cache *c = cache_new(8, 0);
    te_tcs_cache_stats st;
    struct told t[1];
    uint64_t refresh, first;
    te_tcs_hit hit;

    told_init(t, 1);
    fill(c, "acme", "t-1", 0);
    fill(c, "acme-old", "t-1", 0); /* the same tenant twice */
    fill(c, "beta", "t-2", 0);
    fill(c, "gamma", "t-3", 0);
    refresh = expect(c, "gamma", TTL, TE_TCS_STALE_HIT_REFRESH);
    first = expect(c, "delta", TTL, TE_TCS_MISS_FETCH);
    ck_assert_int_eq(look(c, "delta", TTL, &t[0].w, &hit), TE_TCS_MISS_WAIT);

    ck_assert_uint_eq(te_tcs_cache_evict_tenant(c, "t-1", 3), 2);
    te_tcs_cache_stats_get(c, &st);
    ck_assert_uint_eq(st.detached, 1); /* delta's first fetch */
    ck_assert_uint_eq(te_tcs_cache_evict_tenant(c, "t-1", 3), 0);
    ck_assert_uint_eq(te_tcs_cache_evict_tenant(c, "t-", 2), 0);
    expect(c, "acme", TTL, TE_TCS_MISS_FETCH);
    expect(c, "acme-old", TTL, TE_TCS_MISS_FETCH);
    expect(c, "beta", TTL - 1, TE_TCS_HIT);

    /* A refreshing context of the tenant goes too; its refresh is not
     * kept. */
    ck_assert_uint_eq(te_tcs_cache_evict_tenant(c, "t-3", 3), 1);
    ck_assert_int_eq(
        complete(c, "gamma", refresh, ctx_new("gamma", "t-3", 2), 0, TTL),
        TE_OK);
    expect(c, "gamma", TTL, TE_TCS_MISS_FETCH);

    /* The first fetch for delta could have been anyone's: its waiter is
     * still answered, and the answer is not kept. */
    ck_assert_int_eq(
        complete(c, "delta", first, ctx_new("delta", "t-4", 1), 0, TTL), TE_OK);
    ck_assert_int_eq(t[0].calls, 1);
    ck_assert_int_eq(t[0].outcome, TE_TCS_FOUND);
    expect(c, "delta", TTL, TE_TCS_MISS_FETCH);

    told_free(t, 1);
    te_tcs_cache_destroy(c);
}
END_TEST

START_TEST(mark_all_stale_after_resubscribe)
{
    te_tcs_cache *c = cache_new(8, 0);
    uint64_t neg, first, refresh;
    te_tcs_hit hit;

    fill(c, "beta", "t-2", 0);
    fill(c, "acme", "t-1", TTL);
    neg = expect(c, "nobody", TTL, TE_TCS_MISS_FETCH);
    complete(c, "nobody", neg, NULL, 0, TTL);
    refresh = expect(c, "beta", TTL, TE_TCS_STALE_HIT_REFRESH);
    first = expect(c, "gamma", TTL, TE_TCS_MISS_FETCH);

    te_tcs_cache_mark_all_stale(c, TTL + 10);

    /* Cached contexts are still served, and refreshed; unknown sites are
     * asked again. */
    ck_assert_int_eq(look(c, "acme", TTL + 10, NULL, &hit),
                     TE_TCS_STALE_HIT_REFRESH);
    ck_assert_uint_eq(hit.ctx->version, 1);
    te_tcs_context_free(hit.ctx);
    expect(c, "nobody", TTL + 10, TE_TCS_MISS_FETCH);

    /* Fetches that were running arrive stale. */
    complete(c, "gamma", first, ctx_new("gamma", "t-3", 1), 0, TTL + 11);
    expect(c, "gamma", TTL + 12, TE_TCS_STALE_HIT_REFRESH);
    complete(c, "beta", refresh, ctx_new("beta", "t-2", 2), 0, TTL + 11);
    expect(c, "beta", TTL + 12, TE_TCS_STALE_HIT_REFRESH);

    /* A fetch started after the mark is fresh again. */
    first = expect(c, "delta", TTL + 13, TE_TCS_MISS_FETCH);
    complete(c, "delta", first, ctx_new("delta", "t-4", 1), 0, TTL + 13);
    expect(c, "delta", TTL + 14, TE_TCS_HIT);
    te_tcs_cache_destroy(c);
}
END_TEST

START_TEST(destroy_with_everything_in_flight)
{
    te_tcs_cache *c = cache_new(8, 0);
    struct told t[3];
    te_tcs_hit hit;

    told_init(t, 3);
    fill(c, "acme", "t-1", 0);
    expect(c, "acme", TTL, TE_TCS_STALE_HIT_REFRESH);
    expect(c, "beta", 0, TE_TCS_MISS_FETCH);
    look(c, "beta", 0, &t[0].w, &hit);
    expect(c, "gamma", 0, TE_TCS_MISS_FETCH);
    look(c, "gamma", 0, &t[1].w, &hit);
    look(c, "gamma", 0, &t[2].w, &hit);
    te_tcs_cache_evict_site(c, "gamma", 5);

    te_tcs_cache_destroy(c);
    for (unsigned i = 0; i < 3; i++) {
        ck_assert(!te_tcs_waiter_queued(&t[i].w));
        ck_assert_int_eq(t[i].calls, 0);
    }
}
END_TEST

/* Many sites, a small cache, random-ish traffic: the bound holds and the
 * counters add up. */
START_TEST(churn_keeps_the_bound)
{
    te_tcs_cache *c = cache_new(64, 8);
    te_tcs_cache_stats st;
    uint32_t x = 12345;
    char site[16], id[16];

    for (unsigned i = 0; i < 20000; i++) {
        te_tcs_hit hit;
        te_tcs_cache_result r;
        unsigned n;

        x = x * 1103515245u + 12345u;
        n = (x >> 16) % 300;
        snprintf(site, sizeof(site), "s%u", n);
        r = look(c, site, i, NULL, &hit);
        te_tcs_context_free(hit.ctx);
        if (r == TE_TCS_MISS_FETCH || r == TE_TCS_STALE_HIT_REFRESH) {
            te_tcs_context *ctx = NULL;

            snprintf(id, sizeof(id), "t-%u", n);
            if (n % 3 != 0)
                ctx = ctx_new(site, id, i);
            complete(c, site, hit.fetch_id, ctx, n % 7 == 0, i);
        }
        if (i % 1000 == 0)
            te_tcs_cache_evict_tenant(c, "t-5", 3);
        te_tcs_cache_stats_get(c, &st);
        ck_assert_uint_le(st.entries, 64);
        ck_assert_uint_le(st.negative, 8);
        ck_assert_uint_eq(st.fetching, 0);
    }
    te_tcs_cache_destroy(c);
}
END_TEST

static Suite *tcs_cache_suite(void)
{
    Suite *s = suite_create("tcs_cache");
    TCase *tc = tcase_create("time");

    tcase_add_test(tc, conf_out_of_range_is_refused);
    tcase_add_test(tc, miss_then_hit_hands_out_references);
    tcase_add_test(tc, invalid_sites_are_never_cached);
    tcase_add_test(tc, fresh_for_ttl_then_stale_refresh_once);
    tcase_add_test(tc, stale_bound_is_the_end);
    tcase_add_test(tc, refresh_outliving_stale_bound_makes_requests_wait);
    tcase_add_test(tc, failed_refresh_keeps_serving_stale);
    tcase_add_test(tc, negative_entries_have_their_own_ttl);
    tcase_add_test(tc, failed_first_fetch_caches_nothing);
    suite_add_tcase(s, tc);

    tc = tcase_create("single_flight");
    tcase_add_test(tc, single_flight_one_fetch_for_many_requests);
    tcase_add_test(tc, single_flight_failure_and_unknown_reach_every_waiter);
    tcase_add_test(tc, cancelled_waiters_are_not_called);
    tcase_add_test(tc, waiter_callback_may_look_up_again);
    tcase_add_test(tc, waiting_needs_a_free_waiter);
    suite_add_tcase(s, tc);

    tc = tcase_create("bounds");
    tcase_add_test(tc, lru_keeps_its_bound_and_order);
    tcase_add_test(tc, unknown_sites_are_evicted_first_and_bounded);
    tcase_add_test(tc, full_of_fetches_is_busy);
    tcase_add_test(tc, churn_keeps_the_bound);
    suite_add_tcase(s, tc);

    tc = tcase_create("events");
    tcase_add_test(tc, evict_by_site);
    tcase_add_test(tc, evict_during_fetch_detaches_it);
    tcase_add_test(tc, evict_by_tenant);
    tcase_add_test(tc, mark_all_stale_after_resubscribe);
    tcase_add_test(tc, destroy_with_everything_in_flight);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tcs_cache_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
