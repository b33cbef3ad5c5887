/*
 * session_cache.c: the per-worker session cache (see session_cache.h).
 *
 * An entry is PENDING (no session; a fetch is in flight and requests
 * wait on it), VALUE (a live session) or NEGATIVE (an unknown or expired
 * id). It is found by id through one hash table and sits on exactly one
 * list:
 *   lru       VALUE entries, most recent first;
 *   neg       NEGATIVE entries, most recent first;
 *   fetching  PENDING entries (never evicted for room: their waiters
 *             are owed an answer);
 *   detached  entries revoked or flushed while their fetch ran; out of
 *             the table, waiting only for that fetch to end.
 * Room is made from the tail of neg first, then from the tail of lru.
 *
 * Unlike the tenant cache no entry is ever served stale, so a refresh
 * is a plain miss: the value goes at once and requests wait on the new
 * fetch. Each fetch has an id, so that a late result can never be taken
 * for a newer fetch's.
 */
#include "session_cache.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "session_record.h"
#include "siphash.h"

/* Buckets: at least the entry bound, rounded up to a power of two,
 * within these limits (a larger cache just has longer chains). */
#define MIN_BUCKETS ((size_t)16)
#define MAX_BUCKETS ((size_t)1 << 22)

enum entry_kind { ENTRY_PENDING, ENTRY_VALUE, ENTRY_NEGATIVE };

struct link {
    struct link *prev, *next;
};

struct te_session_waitq {
    te_session_waiter *first, *last;
};

struct entry {
    struct link link;    /* on one of the cache's four lists */
    struct entry *next;  /* chain in the table */
    te_session *session; /* VALUE only; the cache's block */
    struct te_session_waitq waiters;
    int64_t fresh_until; /* VALUE, NEGATIVE */
    uint64_t fetch_id;   /* PENDING; 0 otherwise */
    uint64_t hash;
    unsigned char kind;    /* enum entry_kind */
    unsigned char revoked; /* detached by a revocation */
    unsigned char len;
    char id[]; /* len bytes and a terminator */
};

struct te_session_cache {
    te_session_cache_conf conf;
    uint8_t key[TE_SIPHASH_KEY_LEN];
    struct entry **table;
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

/* ---- waiters ---- */

static void waitq_push(struct te_session_waitq *q, te_session_waiter *w)
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

static void waitq_remove(te_session_waiter *w)
{
    struct te_session_waitq *q = w->queue;

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

/* Moves every waiter of <from> to <to> (empty), so that the entry can
 * change or go before any callback runs. */
static void waitq_take(struct te_session_waitq *to,
                       struct te_session_waitq *from)
{
    *to = *from;
    from->first = NULL;
    from->last = NULL;
    for (te_session_waiter *w = to->first; w != NULL; w = w->next)
        w->queue = to;
}

/* Calls each waiter of <q> once, taking it out first, so a callback may
 * cancel waiters still in <q>. */
static void waitq_dispatch(struct te_session_waitq *q,
                           te_session_outcome outcome, const te_session *s)
{
    te_session_waiter *w;

    while ((w = q->first) != NULL) {
        waitq_remove(w);
        w->cb(w, outcome, outcome == TE_SESSION_FOUND ? s : NULL, w->arg);
    }
}

void te_session_waiter_init(te_session_waiter *w, te_session_waiter_cb cb,
                            void *arg)
{
    w->prev = NULL;
    w->next = NULL;
    w->queue = NULL;
    w->cb = cb;
    w->arg = arg;
}

void te_session_waiter_cancel(te_session_waiter *w)
{
    waitq_remove(w);
}

/* ---- entries ---- */

/* <a> + <b> for deadlines, held at INT64_MAX instead of wrapping. */
static int64_t deadline(int64_t a, int64_t b)
{
    int64_t r;

    if (__builtin_add_overflow(a, b, &r))
        return INT64_MAX;
    return r;
}

static struct entry *table_find(te_session_cache *c, const char *id, size_t len,
                                uint64_t h)
{
    struct entry *e = c->table[h & c->mask];

    for (; e != NULL; e = e->next) {
        if (e->hash == h && e->len == len && memcmp(e->id, id, len) == 0)
            return e;
    }
    return NULL;
}

static void table_unlink(te_session_cache *c, struct entry *e)
{
    struct entry **p = &c->table[e->hash & c->mask];

    for (; *p != NULL; p = &(*p)->next) {
        if (*p == e) {
            *p = e->next;
            e->next = NULL;
            return;
        }
    }
}

static void entry_drop_value(struct entry *e)
{
    free(e->session);
    e->session = NULL;
}

/* Frees an entry that nobody waits on: out of its table and list. */
static void entry_free(te_session_cache *c, struct entry *e)
{
    table_unlink(c, e);
    entry_drop_value(e);
    list_remove(&e->link);
    if (e->kind == ENTRY_NEGATIVE)
        c->negative--;
    c->entries--;
    free(e);
}

/* Takes a PENDING entry out of the table; its waiters keep waiting on
 * that fetch, whose result will not be cached. */
static void entry_detach(te_session_cache *c, struct entry *e, int revoked)
{
    table_unlink(c, e);
    e->revoked = (unsigned char)(e->revoked | revoked);
    list_move_head(&c->detached, &e->link);
    c->nfetching--;
    c->ndetached++;
}

/* Starts a fetch on <e>, which becomes PENDING, and puts it on the
 * fetching list, where nothing evicts it for room. */
static void fetch_start(te_session_cache *c, struct entry *e,
                        te_session_hit *hit)
{
    if (e->kind == ENTRY_NEGATIVE)
        c->negative--;
    entry_drop_value(e);
    e->kind = ENTRY_PENDING;
    e->fetch_id = ++c->last_fetch_id;
    list_move_head(&c->fetching, &e->link);
    c->nfetching++;
    hit->fetch_id = e->fetch_id;
}

/* Frees one entry that nothing waits on, unknown ids first. -1 when
 * every entry has a fetch in flight. */
static int make_room(te_session_cache *c)
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

static struct entry *entry_new(te_session_cache *c, const char *id, size_t len,
                               uint64_t h)
{
    struct entry *e = calloc(1, sizeof(*e) + len + 1);
    size_t b = h & c->mask;

    if (e == NULL)
        return NULL;
    list_init(&e->link);
    e->kind = ENTRY_PENDING;
    e->hash = h;
    e->len = (unsigned char)len;
    memcpy(e->id, id, len);

    e->next = c->table[b];
    c->table[b] = e;
    c->entries++;
    return e;
}

/* ---- create and destroy ---- */

static size_t bucket_count(size_t max_entries)
{
    size_t n = MIN_BUCKETS;

    while (n < max_entries && n < MAX_BUCKETS)
        n <<= 1;
    return n;
}

te_session_cache *te_session_cache_create(const te_session_cache_conf *conf)
{
    te_session_cache *c;
    size_t nbuckets;

    if (conf->max_entries == 0 || conf->ttl_ms < 0 || conf->negative_ttl_ms < 0)
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
    c->table = calloc(nbuckets, sizeof(*c->table));
    if (c->table == NULL)
        goto fail;

    list_init(&c->lru);
    list_init(&c->neg);
    list_init(&c->fetching);
    list_init(&c->detached);
    return c;

fail:
    free(c);
    return NULL;
}

/* Frees every entry of one list; waiters are unqueued, not called. */
static void free_list(struct link *head)
{
    struct link *l = head->next;

    while (l != head) {
        struct entry *e = entry_of(l);
        te_session_waiter *w;

        l = l->next;
        while ((w = e->waiters.first) != NULL)
            waitq_remove(w);
        free(e->session);
        free(e);
    }
    list_init(head);
}

void te_session_cache_destroy(te_session_cache *c)
{
    if (c == NULL)
        return;
    free_list(&c->lru);
    free_list(&c->neg);
    free_list(&c->fetching);
    free_list(&c->detached);
    free(c->table);
    free(c);
}

/* ---- lookups ---- */

static te_session_cache_result wait_on(struct entry *e, te_session_waiter *w)
{
    if (w == NULL || w->queue != NULL)
        return TE_SESSION_BUSY;
    waitq_push(&e->waiters, w);
    return TE_SESSION_MISS_WAIT;
}

te_session_cache_result te_session_cache_lookup(te_session_cache *c,
                                                const char *id, size_t len,
                                                int64_t now_ms, int64_t now_s,
                                                te_session_waiter *w,
                                                te_session_hit *hit)
{
    struct entry *e;
    uint64_t h;

    hit->session = NULL;
    hit->fetch_id = 0;
    if (!te_session_id_valid(id, len))
        return TE_SESSION_INVALID;

    h = te_siphash(c->key, id, len);
    e = table_find(c, id, len, h);
    if (e == NULL) {
        if (make_room(c) < 0)
            return TE_SESSION_BUSY;
        e = entry_new(c, id, len, h);
        if (e == NULL)
            return TE_SESSION_BUSY;
        fetch_start(c, e, hit);
        return TE_SESSION_MISS_FETCH;
    }

    switch (e->kind) {
    case ENTRY_VALUE:
        if (now_ms < e->fresh_until && now_s < e->session->expires) {
            list_move_head(&c->lru, &e->link);
            hit->session = e->session;
            return TE_SESSION_HIT;
        }
        fetch_start(c, e, hit);
        return TE_SESSION_MISS_FETCH;

    case ENTRY_NEGATIVE:
        if (now_ms < e->fresh_until) {
            list_move_head(&c->neg, &e->link);
            return TE_SESSION_NEGATIVE;
        }
        fetch_start(c, e, hit);
        return TE_SESSION_MISS_FETCH;

    default:
        return wait_on(e, w);
    }
}

/* ---- fetches ending ---- */

static struct entry *detached_find(te_session_cache *c, uint64_t fetch_id)
{
    for (struct link *l = c->detached.next; l != &c->detached; l = l->next) {
        if (entry_of(l)->fetch_id == fetch_id)
            return entry_of(l);
    }
    return NULL;
}

/* Stores an unknown id, keeping unknown ids within their own bound; the
 * entry is at the head of neg, so the tail is another. */
static void store_negative(te_session_cache *c, struct entry *e, int64_t now)
{
    e->kind = ENTRY_NEGATIVE;
    e->fresh_until = deadline(now, c->conf.negative_ttl_ms);
    list_push_head(&c->neg, &e->link);
    c->negative++;

    while (c->negative > c->conf.max_negative) {
        entry_free(c, list_tail(&c->neg));
        c->evictions++;
    }
}

/* Stores a live session <s> (taken over), served until the cache ttl or
 * its expiry, whichever comes first. */
static void store_value(te_session_cache *c, struct entry *e, te_session *s,
                        int64_t now_ms, int64_t now_s)
{
    int64_t left_ms = (s->expires - now_s) * 1000;

    e->kind = ENTRY_VALUE;
    e->session = s;
    e->fresh_until =
        deadline(now_ms, left_ms < c->conf.ttl_ms ? left_ms : c->conf.ttl_ms);
    list_push_head(&c->lru, &e->link);
}

/* The fetch of a detached entry ended: its waiters get the result (or
 * "unknown" after a revocation), the entry goes, nothing is cached. */
static void complete_detached(te_session_cache *c, struct entry *e,
                              te_session_outcome outcome, te_session *s)
{
    struct te_session_waitq q;

    if (e->revoked && outcome == TE_SESSION_FOUND)
        outcome = TE_SESSION_UNKNOWN;
    waitq_take(&q, &e->waiters);
    list_remove(&e->link);
    c->ndetached--;
    c->entries--;
    free(e);

    waitq_dispatch(&q, outcome, s);
    free(s);
}

te_status te_session_cache_complete(te_session_cache *c, const char *id,
                                    size_t len, uint64_t fetch_id,
                                    te_session *s, int failed, int64_t now_ms,
                                    int64_t now_s)
{
    te_session_outcome outcome;
    struct te_session_waitq q;
    struct entry *e = NULL;
    te_session *copy;

    if (s != NULL && s->expires <= now_s) {
        free(s);
        s = NULL;
        failed = 0;
    }
    outcome = s != NULL ? TE_SESSION_FOUND
              : failed  ? TE_SESSION_FAILED
                        : TE_SESSION_UNKNOWN;

    if (fetch_id != 0 && te_session_id_valid(id, len))
        e = table_find(c, id, len, te_siphash(c->key, id, len));
    if (e == NULL || e->fetch_id != fetch_id) {
        e = fetch_id != 0 ? detached_find(c, fetch_id) : NULL;
        if (e == NULL) {
            free(s);
            return TE_DECLINED;
        }
        complete_detached(c, e, outcome, s);
        return TE_OK;
    }

    waitq_take(&q, &e->waiters);
    e->fetch_id = 0;
    list_remove(&e->link);
    c->nfetching--;

    /* The cache keeps a copy of its own, so that waiters may look up
     * (and so evict) anything while <s> stays theirs until the last one
     * ran. Without memory for the copy nothing is cached. */
    if (outcome == TE_SESSION_FOUND && (copy = te_session_copy(s)) != NULL)
        store_value(c, e, copy, now_ms, now_s);
    else if (outcome == TE_SESSION_UNKNOWN)
        store_negative(c, e, now_ms);
    else
        entry_free(c, e); /* a failure caches nothing */

    waitq_dispatch(&q, outcome, s);
    free(s);
    return TE_OK;
}

/* ---- events ---- */

size_t te_session_cache_revoke(te_session_cache *c, const char *id, size_t len)
{
    struct entry *e;

    if (!te_session_id_valid(id, len))
        return 0;
    e = table_find(c, id, len, te_siphash(c->key, id, len));
    if (e == NULL)
        return 0;
    if (e->kind == ENTRY_PENDING)
        entry_detach(c, e, 1);
    else
        entry_free(c, e);
    return 1;
}

void te_session_cache_flush(te_session_cache *c)
{
    struct link *l;

    /* Bounded: each pass frees one entry or detaches one. */
    while ((l = c->lru.next) != &c->lru)
        entry_free(c, entry_of(l));
    while ((l = c->neg.next) != &c->neg)
        entry_free(c, entry_of(l));
    while ((l = c->fetching.next) != &c->fetching)
        entry_detach(c, entry_of(l), 0);
}

void te_session_cache_stats_get(const te_session_cache *c,
                                te_session_cache_stats *st)
{
    st->entries = c->entries;
    st->negative = c->negative;
    st->fetching = c->nfetching;
    st->detached = c->ndetached;
    st->evictions = c->evictions;
}
