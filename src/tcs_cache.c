/*
 * tcs_cache.c: the per-worker tenant context cache (see tcs_cache.h).
 *
 * An entry is in one of three states: PENDING (no context; a first fetch
 * is in flight and requests wait on it), VALUE (a context, perhaps with a
 * refresh in flight) or NEGATIVE (an unknown site). It is found by site
 * through a hash table, and, while it holds a context, by tenant id through
 * a second table, so lifecycle events cost no scan. It sits on exactly one
 * list:
 *   lru       VALUE entries with no fetch in flight, most recent first;
 *   neg       NEGATIVE entries, most recent first;
 *   fetching  entries with a fetch in flight (never evicted for room:
 *             their waiters are owed an answer);
 *   detached  entries evicted by an event while their fetch ran; out of
 *             both tables, waiting only for that fetch to end.
 * Room is made from the tail of neg first, then from the tail of lru.
 *
 * Each fetch has an id, so a result that comes back after its entry was
 * evicted and recreated can never be taken for the new fetch's result.
 */
#include "tcs_cache.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "siphash.h"

/* Buckets per table: at least the entry bound, rounded up to a power of
 * two, within these limits (a larger cache just has longer chains). */
#define MIN_BUCKETS ((size_t)16)
#define MAX_BUCKETS ((size_t)1 << 22)

enum entry_kind { ENTRY_PENDING, ENTRY_VALUE, ENTRY_NEGATIVE };

struct link {
    struct link *prev, *next;
};

struct te_tcs_waitq {
    te_tcs_waiter *first, *last;
};

struct entry {
    struct link link;          /* on one of the cache's four lists */
    struct entry *site_next;   /* chain in the site table */
    struct entry *tenant_next; /* chain in the tenant table */
    te_tcs_context *ctx;       /* VALUE only; the cache's reference */
    struct te_tcs_waitq waiters;
    int64_t fresh_until; /* VALUE, NEGATIVE */
    int64_t stale_until; /* VALUE */
    uint64_t fetch_id;   /* 0 when no fetch is in flight */
    uint64_t site_hash;
    uint64_t tenant_hash; /* valid while in_tenants */
    unsigned char kind;   /* enum entry_kind */
    unsigned char in_tenants;
    unsigned char stale_on_arrival;
    unsigned char len;
    char site[]; /* len bytes and a terminator */
};

struct te_tcs_cache {
    te_tcs_cache_conf conf;
    uint8_t key[TE_SIPHASH_KEY_LEN];
    struct entry **sites;
    struct entry **tenants;
    size_t mask;
    struct link lru, neg, fetching, detached;
    size_t entries, negative, nfetching, ndetached;
    uint64_t evictions;
    uint64_t last_fetch_id;
};

#define entry_of(l) ((struct entry *)((char *)(l)-offsetof(struct entry, link)))

static void list_init(struct link *head)
{
    head->prev = head;
    head->next = head;
}

static void list_remove(struct link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l;
    l->next = l;
}

static void list_push_head(struct link *head, struct link *l)
{
    l->next = head->next;
    l->prev = head;
    head->next->prev = l;
    head->next = l;
}

static void list_move_head(struct link *head, struct link *l)
{
    list_remove(l);
    list_push_head(head, l);
}

static struct entry *list_tail(struct link *head)
{
    return head->prev == head ? NULL : entry_of(head->prev);
}

static void waitq_push(struct te_tcs_waitq *q, te_tcs_waiter *w)
{
    w->queue = q;
    w->next = NULL;
    w->prev = q->last;
    if (q->last != NULL)
        q->last->next = w;
    else
        q->first = w;
    q->last = w;
}

static void waitq_remove(te_tcs_waiter *w)
{
    struct te_tcs_waitq *q = w->queue;

    if (q == NULL)
        return;
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        q->first = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    else
        q->last = w->prev;
    w->prev = NULL;
    w->next = NULL;
    w->queue = NULL;
}

/* Moves every waiter of <from> to <to>, which must be empty, so that the
 * entry can change or go before any callback runs. */
static void waitq_take(struct te_tcs_waitq *to, struct te_tcs_waitq *from)
{
    *to = *from;
    from->first = NULL;
    from->last = NULL;
    for (te_tcs_waiter *w = to->first; w != NULL; w = w->next)
        w->queue = to;
}

/* Calls each waiter of <q> once, taking it out first, so a callback may
 * cancel waiters still in <q> or queue itself elsewhere. Each FOUND
 * waiter gets its own reference to <ctx>. */
static void waitq_dispatch(struct te_tcs_waitq *q, te_tcs_outcome outcome,
                           te_tcs_context *ctx)
{
    te_tcs_waiter *w;

    while ((w = q->first) != NULL) {
        te_tcs_context *mine = NULL;

        waitq_remove(w);
        if (outcome == TE_TCS_FOUND)
            mine = te_tcs_context_ref(ctx);
        w->cb(w, outcome, mine, w->arg);
    }
}

void te_tcs_waiter_init(te_tcs_waiter *w, te_tcs_waiter_cb cb, void *arg)
{
    w->prev = NULL;
    w->next = NULL;
    w->queue = NULL;
    w->cb = cb;
    w->arg = arg;
}

void te_tcs_waiter_cancel(te_tcs_waiter *w)
{
    waitq_remove(w);
}

/* <a> + <b> for deadlines, held at INT64_MAX instead of wrapping. */
static int64_t deadline(int64_t a, int64_t b)
{
    int64_t r;

    if (__builtin_add_overflow(a, b, &r))
        return INT64_MAX;
    return r;
}

static struct entry *site_find(te_tcs_cache *c, const char *site, size_t len,
                               uint64_t h)
{
    struct entry *e = c->sites[h & c->mask];

    for (; e != NULL; e = e->site_next) {
        if (e->site_hash == h && e->len == len &&
            memcmp(e->site, site, len) == 0)
            return e;
    }
    return NULL;
}

static void site_unlink(te_tcs_cache *c, struct entry *e)
{
    struct entry **p = &c->sites[e->site_hash & c->mask];

    for (; *p != NULL; p = &(*p)->site_next) {
        if (*p == e) {
            *p = e->site_next;
            e->site_next = NULL;
            return;
        }
    }
}

static void tenant_unlink(te_tcs_cache *c, struct entry *e)
{
    struct entry **p;

    if (!e->in_tenants)
        return;
    p = &c->tenants[e->tenant_hash & c->mask];
    for (; *p != NULL; p = &(*p)->tenant_next) {
        if (*p == e) {
            *p = e->tenant_next;
            break;
        }
    }
    e->tenant_next = NULL;
    e->in_tenants = 0;
}

/* Drops the entry's context, if any, and its place in the tenant table. */
static void entry_drop_value(te_tcs_cache *c, struct entry *e)
{
    tenant_unlink(c, e);
    te_tcs_context_free(e->ctx);
    e->ctx = NULL;
}

/* Makes <ctx> (a reference the entry now owns) the entry's value. */
static void entry_set_value(te_tcs_cache *c, struct entry *e,
                            te_tcs_context *ctx)
{
    size_t b;

    entry_drop_value(c, e);
    e->ctx = ctx;
    e->kind = ENTRY_VALUE;

    e->tenant_hash = te_siphash(c->key, ctx->id, strlen(ctx->id));
    b = e->tenant_hash & c->mask;
    e->tenant_next = c->tenants[b];
    c->tenants[b] = e;
    e->in_tenants = 1;
}

/* Frees an entry that has no waiters: out of its tables and list. */
static void entry_free(te_tcs_cache *c, struct entry *e)
{
    site_unlink(c, e);
    entry_drop_value(c, e);
    list_remove(&e->link);
    if (e->kind == ENTRY_NEGATIVE)
        c->negative--;
    c->entries--;
    free(e);
}

/* Takes an entry whose fetch is in flight out of both tables; its waiters
 * keep waiting on that fetch, whose result will not be cached. */
static void entry_detach(te_tcs_cache *c, struct entry *e)
{
    site_unlink(c, e);
    entry_drop_value(c, e);
    e->kind = ENTRY_PENDING;
    list_move_head(&c->detached, &e->link);
    c->nfetching--;
    c->ndetached++;
}

static void entry_evict(te_tcs_cache *c, struct entry *e)
{
    if (e->fetch_id != 0)
        entry_detach(c, e);
    else
        entry_free(c, e);
}

/* Gives the entry a new fetch and puts it on the fetching list, where
 * nothing evicts it for room. */
static void fetch_start(te_tcs_cache *c, struct entry *e, te_tcs_hit *hit)
{
    if (e->kind == ENTRY_NEGATIVE)
        c->negative--;
    e->fetch_id = ++c->last_fetch_id;
    e->stale_on_arrival = 0;
    list_move_head(&c->fetching, &e->link);
    c->nfetching++;
    hit->fetch_id = e->fetch_id;
}

/* Frees one entry that nothing waits on, unknown sites first. -1 when
 * every entry has a fetch in flight. */
static int make_room(te_tcs_cache *c)
{
    struct entry *victim;

    if (c->entries < c->conf.max_entries)
        return 0;

    victim = list_tail(&c->neg);
    if (victim == NULL)
        victim = list_tail(&c->lru);
    if (victim == NULL)
        return -1;
    entry_free(c, victim);
    c->evictions++;
    return 0;
}

static struct entry *entry_new(te_tcs_cache *c, const char *site, size_t len,
                               uint64_t h)
{
    struct entry *e = calloc(1, sizeof(*e) + len + 1);
    size_t b = h & c->mask;

    if (e == NULL)
        return NULL;
    list_init(&e->link);
    e->kind = ENTRY_PENDING;
    e->site_hash = h;
    e->len = (unsigned char)len;
    memcpy(e->site, site, len);

    e->site_next = c->sites[b];
    c->sites[b] = e;
    c->entries++;
    return e;
}

static size_t bucket_count(size_t max_entries)
{
    size_t n = MIN_BUCKETS;

    while (n < max_entries && n < MAX_BUCKETS)
        n <<= 1;
    return n;
}

te_tcs_cache *te_tcs_cache_create(const te_tcs_cache_conf *conf)
{
    te_tcs_cache *c;
    size_t nbuckets;

    if (conf->max_entries == 0 || conf->ttl_ms < 0 || conf->stale_ms < 0 ||
        conf->negative_ttl_ms < 0)
        return NULL;

    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->conf = *conf;
    if (c->conf.max_negative == 0)
        c->conf.max_negative = conf->max_entries / 8;
    if (c->conf.max_negative == 0)
        c->conf.max_negative = 1;

    if (getrandom(c->key, sizeof(c->key), 0) != (ssize_t)sizeof(c->key))
        goto fail;

    nbuckets = bucket_count(conf->max_entries);
    c->mask = nbuckets - 1;
    c->sites = calloc(nbuckets, sizeof(*c->sites));
    c->tenants = calloc(nbuckets, sizeof(*c->tenants));
    if (c->sites == NULL || c->tenants == NULL)
        goto fail;

    list_init(&c->lru);
    list_init(&c->neg);
    list_init(&c->fetching);
    list_init(&c->detached);
    return c;

fail:
    free(c->sites);
    free(c->tenants);
    free(c);
    return NULL;
}

/* Frees every entry of one list; waiters are unqueued, not called. */
static void free_list(struct link *head)
{
    struct link *l = head->next;

    while (l != head) {
        struct entry *e = entry_of(l);
        te_tcs_waiter *w;

        l = l->next;
        while ((w = e->waiters.first) != NULL)
            waitq_remove(w);
        te_tcs_context_free(e->ctx);
        free(e);
    }
    list_init(head);
}

void te_tcs_cache_destroy(te_tcs_cache *c)
{
    if (c == NULL)
        return;
    free_list(&c->lru);
    free_list(&c->neg);
    free_list(&c->fetching);
    free_list(&c->detached);
    free(c->sites);
    free(c->tenants);
    free(c);
}

/* Queues <w> on a PENDING entry. */
static te_tcs_cache_result wait_on(struct entry *e, te_tcs_waiter *w)
{
    if (w == NULL || w->queue != NULL)
        return TE_TCS_BUSY;
    waitq_push(&e->waiters, w);
    return TE_TCS_MISS_WAIT;
}

/* A VALUE entry: fresh, stale (refresh it once), or past the stale bound
 * (it is a miss, and its old context is dropped at once). */
static te_tcs_cache_result lookup_value(te_tcs_cache *c, struct entry *e,
                                        int64_t now, te_tcs_waiter *w,
                                        te_tcs_hit *hit)
{
    if (e->fetch_id != 0) {
        if (now < e->stale_until) {
            hit->ctx = te_tcs_context_ref(e->ctx);
            return now < e->fresh_until ? TE_TCS_HIT : TE_TCS_STALE_HIT;
        }
        entry_drop_value(c, e);
        e->kind = ENTRY_PENDING;
        return wait_on(e, w);
    }

    if (now < e->fresh_until) {
        list_move_head(&c->lru, &e->link);
        hit->ctx = te_tcs_context_ref(e->ctx);
        return TE_TCS_HIT;
    }
    if (now < e->stale_until) {
        fetch_start(c, e, hit);
        hit->ctx = te_tcs_context_ref(e->ctx);
        return TE_TCS_STALE_HIT_REFRESH;
    }

    entry_drop_value(c, e);
    e->kind = ENTRY_PENDING;
    fetch_start(c, e, hit);
    return TE_TCS_MISS_FETCH;
}

te_tcs_cache_result te_tcs_cache_lookup(te_tcs_cache *c, const char *site,
                                        size_t len, int64_t now_ms,
                                        te_tcs_waiter *w, te_tcs_hit *hit)
{
    struct entry *e;
    uint64_t h;

    hit->ctx = NULL;
    hit->fetch_id = 0;
    if (!te_tcs_site_valid(site, len))
        return TE_TCS_INVALID;

    h = te_siphash(c->key, site, len);
    e = site_find(c, site, len, h);
    if (e == NULL) {
        if (make_room(c) < 0)
            return TE_TCS_BUSY;
        e = entry_new(c, site, len, h);
        if (e == NULL)
            return TE_TCS_BUSY;
        fetch_start(c, e, hit);
        return TE_TCS_MISS_FETCH;
    }

    switch (e->kind) {
    case ENTRY_VALUE:
        return lookup_value(c, e, now_ms, w, hit);

    case ENTRY_NEGATIVE:
        if (now_ms < e->fresh_until) {
            list_move_head(&c->neg, &e->link);
            return TE_TCS_NEGATIVE;
        }
        fetch_start(c, e, hit);
        e->kind = ENTRY_PENDING;
        return TE_TCS_MISS_FETCH;

    default:
        return wait_on(e, w);
    }
}

/* The fetch of a detached entry ended: its waiters get the result, the
 * entry goes, nothing is cached. */
static void complete_detached(te_tcs_cache *c, struct entry *e,
                              te_tcs_outcome outcome, te_tcs_context *ctx)
{
    struct te_tcs_waitq q;

    waitq_take(&q, &e->waiters);
    list_remove(&e->link);
    c->ndetached--;
    c->entries--;
    free(e);

    waitq_dispatch(&q, outcome, ctx);
}

static struct entry *detached_find(te_tcs_cache *c, uint64_t fetch_id)
{
    for (struct link *l = c->detached.next; l != &c->detached; l = l->next) {
        if (entry_of(l)->fetch_id == fetch_id)
            return entry_of(l);
    }
    return NULL;
}

/* Stores an unknown site, keeping unknown sites within their own bound;
 * the entry is already at the head of neg, so the tail is another. */
static void store_negative(te_tcs_cache *c, struct entry *e, int64_t now)
{
    entry_drop_value(c, e);
    e->kind = ENTRY_NEGATIVE;
    e->fresh_until =
        e->stale_on_arrival ? now : deadline(now, c->conf.negative_ttl_ms);
    list_push_head(&c->neg, &e->link);
    c->negative++;

    while (c->negative > c->conf.max_negative) {
        entry_free(c, list_tail(&c->neg));
        c->evictions++;
    }
}

te_status te_tcs_cache_complete(te_tcs_cache *c, const char *site, size_t len,
                                uint64_t fetch_id, te_tcs_context *ctx,
                                int failed, int64_t now_ms)
{
    te_tcs_outcome outcome;
    struct te_tcs_waitq q;
    struct entry *e = NULL;

    outcome = ctx != NULL ? TE_TCS_FOUND
              : failed    ? TE_TCS_FAILED
                          : TE_TCS_UNKNOWN;

    if (fetch_id != 0 && te_tcs_site_valid(site, len))
        e = site_find(c, site, len, te_siphash(c->key, site, len));
    if (e == NULL || e->fetch_id != fetch_id) {
        e = fetch_id != 0 ? detached_find(c, fetch_id) : NULL;
        if (e != NULL)
            complete_detached(c, e, outcome, ctx);
        te_tcs_context_free(ctx);
        return e != NULL ? TE_OK : TE_DECLINED;
    }

    waitq_take(&q, &e->waiters);
    e->fetch_id = 0;
    list_remove(&e->link);
    c->nfetching--;

    if (outcome == TE_TCS_FOUND) {
        entry_set_value(c, e, te_tcs_context_ref(ctx));
        e->fresh_until =
            e->stale_on_arrival ? now_ms : deadline(now_ms, c->conf.ttl_ms);
        e->stale_until = deadline(e->fresh_until, c->conf.stale_ms);
        list_push_head(&c->lru, &e->link);
    } else if (outcome == TE_TCS_UNKNOWN) {
        store_negative(c, e, now_ms);
    } else if (e->kind == ENTRY_VALUE) {
        /* A failed refresh: keep serving the stale context. */
        list_push_head(&c->lru, &e->link);
    } else {
        entry_free(c, e);
    }

    waitq_dispatch(&q, outcome, ctx);
    te_tcs_context_free(ctx);
    return TE_OK;
}

size_t te_tcs_cache_evict_site(te_tcs_cache *c, const char *site, size_t len)
{
    struct entry *e;

    if (!te_tcs_site_valid(site, len))
        return 0;
    e = site_find(c, site, len, te_siphash(c->key, site, len));
    if (e == NULL)
        return 0;
    entry_evict(c, e);
    return 1;
}

size_t te_tcs_cache_evict_tenant(te_tcs_cache *c, const char *id, size_t len)
{
    uint64_t h = te_siphash(c->key, id, len);
    struct entry *e = c->tenants[h & c->mask];
    struct link *l;
    size_t n = 0;

    while (e != NULL) {
        struct entry *next = e->tenant_next;

        if (e->tenant_hash == h && strlen(e->ctx->id) == len &&
            memcmp(e->ctx->id, id, len) == 0) {
            entry_evict(c, e);
            n++;
        }
        e = next;
    }

    l = c->fetching.next;
    while (l != &c->fetching) {
        e = entry_of(l);
        l = l->next;
        if (e->kind == ENTRY_PENDING)
            entry_detach(c, e);
    }
    return n;
}

void te_tcs_cache_mark_all_stale(te_tcs_cache *c, int64_t now_ms)
{
    struct link *l;

    for (l = c->lru.next; l != &c->lru; l = l->next) {
        if (entry_of(l)->fresh_until > now_ms)
            entry_of(l)->fresh_until = now_ms;
    }
    for (l = c->neg.next; l != &c->neg; l = l->next) {
        if (entry_of(l)->fresh_until > now_ms)
            entry_of(l)->fresh_until = now_ms;
    }
    for (l = c->fetching.next; l != &c->fetching; l = l->next) {
        struct entry *e = entry_of(l);

        e->stale_on_arrival = 1;
        if (e->kind == ENTRY_VALUE && e->fresh_until > now_ms)
            e->fresh_until = now_ms;
    }
}

void te_tcs_cache_stats_get(const te_tcs_cache *c, te_tcs_cache_stats *st)
{
    st->entries = c->entries;
    st->negative = c->negative;
    st->fetching = c->nfetching;
    st->detached = c->ndetached;
    st->evictions = c->evictions;
}
