/*
 * session.c: a worker's session service (see session.h).
 *
 * A lookup goes: cache (session_cache.c) -> on a miss, one fetch per id,
 * GET <prefix>session:<id>, whose result the cache hands to every request
 * waiting on that id. A fetch belongs to this file from the GET until its
 * result is given to the cache; requests only ever hold waits, which they
 * may cancel at any time without disturbing the fetch.
 *
 * While Redis is unreachable no fetch is started: sessions are never
 * served stale (a revocation sent meanwhile would go unheard), so every
 * uncached id fails at once, and the cached ones only until their cache
 * time ends.
 *
 * Session ids are credentials: no log line here ever names one.
 */
#include "session.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "log.h"
#include "session_record.h"

/* A malformed record, or a full cache, is logged at most once per this
 * period per worker, not once per request that runs into it. */
#define MALFORMED_LOG_MS (60 * 1000)
#define BUSY_LOG_MS      (10 * 1000)

/* The longest prefix the config allows, and so the longest key. */
#define PREFIX_MAX 64
#define KEY_MAX    (PREFIX_MAX + sizeof("session:") + TE_SESSION_ID_MAX)

struct te_sessions_wait {
    te_session_waiter w; /* in the cache's queue for the id */
    LIST_ENTRY(te_sessions_wait) link;
    te_sessions_done cb;
    void *arg;
};

/* One GET in Redis, for one id. */
struct fetch {
    te_sessions *s;
    uint64_t fetch_id;
    size_t len;
    char id[TE_SESSION_ID_MAX + 1];
};

struct te_sessions {
    te_session_cache *cache;
    te_redis *redis;
    const char *prefix;
    size_t prefix_len;
    const char *redis_name;
    unsigned worker_id;
    LIST_HEAD(, te_sessions_wait) waits; /* every wait not yet ended */
    int64_t malformed_logged;            /* when, 0: never */
    int64_t busy_logged;
    int closing;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t unix_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

/* 1 when a line last written at *at is due again; *at is then taken. */
static int log_due(int64_t *at, int64_t period)
{
    int64_t now = now_ms();

    if (*at != 0 && now - *at < period)
        return 0;
    *at = now != 0 ? now : 1;
    return 1;
}

/* ---- waits ---- */

static void wait_cb(te_session_waiter *w, te_session_outcome outcome,
                    const te_session *s, void *arg)
{
    te_sessions_wait *sw = arg;
    te_sessions_done cb = sw->cb;
    void *cb_arg = sw->arg;
    te_status rc;

    (void)w;
    LIST_REMOVE(sw, link);
    free(sw);

    rc = outcome == TE_SESSION_FOUND     ? TE_OK
         : outcome == TE_SESSION_UNKNOWN ? TE_DECLINED
                                         : TE_ERROR;
    cb(cb_arg, rc, s);
}

void te_sessions_cancel(te_sessions_wait *w)
{
    if (w == NULL)
        return;
    te_session_waiter_cancel(&w->w);
    LIST_REMOVE(w, link);
    free(w);
}

/* ---- fetches ---- */

/* Hands the fetch's result to the cache (which calls the waiters) and
 * frees the fetch. <rec> is a record given away, or NULL. */
static void fetch_end(struct fetch *f, te_session *rec, int failed)
{
    te_sessions *s = f->s;

    te_session_cache_complete(s->cache, f->id, f->len, f->fetch_id, rec, failed,
                              now_ms(), unix_now());
    free(f);
}

/* The store holds something the edge cannot use: 503, and one error
 * line a minute (without the id: it is a credential). */
static void fetch_malformed(struct fetch *f, const char *what)
{
    te_sessions *s = f->s;

    if (log_due(&s->malformed_logged, MALFORMED_LOG_MS))
        te_log(TE_LOG_ERROR,
               "malformed session record in redis: %s, redis=%s worker=%u",
               what, s->redis_name, s->worker_id);
    fetch_end(f, NULL, 1);
}

static void session_reply(void *arg, te_redis_result res,
                          const redisReply *reply)
{
    struct fetch *f = arg;
    te_session *rec;
    char err[160];

    if (f->s->closing) {
        free(f);
        return;
    }
    if (res == TE_REDIS_TOO_LARGE) {
        fetch_malformed(f, "record over 64 KiB");
        return;
    }
    if (res != TE_REDIS_REPLY) {
        fetch_end(f, NULL, 1); /* the outage is logged by redis.c */
        return;
    }
    if (reply->type == REDIS_REPLY_NIL) {
        fetch_end(f, NULL, 0); /* no such session */
        return;
    }
    if (reply->type != REDIS_REPLY_STRING) {
        fetch_malformed(f, reply->type == REDIS_REPLY_ERROR
                               ? "error reply to GET"
                               : "record is not a string");
        return;
    }

    rec = te_session_parse(f->id, f->len, reply->str, reply->len, err,
                           sizeof(err));
    if (rec == NULL) {
        fetch_malformed(f, err);
        return;
    }
    fetch_end(f, rec, 0);
}

/* Starts fetch <fetch_id> of <id>. -1 when it could not start (Redis
 * unreachable, out of memory): the fetch has then been ended as failed,
 * which caches nothing. */
static int fetch_start(te_sessions *s, const char *id, size_t len,
                       uint64_t fetch_id)
{
    char key[KEY_MAX];
    struct fetch *f;
    size_t klen;

    if (!te_redis_ready(s->redis))
        goto fail;
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        goto fail;
    f->s = s;
    f->fetch_id = fetch_id;
    f->len = len;
    memcpy(f->id, id, len);

    memcpy(key, s->prefix, s->prefix_len);
    memcpy(key + s->prefix_len, "session:", 8);
    memcpy(key + s->prefix_len + 8, id, len);
    klen = s->prefix_len + 8 + len;
    if (te_redis_command(s->redis, session_reply, f, "GET %b", key, klen) !=
        TE_OK) {
        free(f);
        goto fail;
    }
    return 0;

fail:
    te_session_cache_complete(s->cache, id, len, fetch_id, NULL, 1, now_ms(),
                              unix_now());
    return -1;
}

/* ---- lookups ---- */

/* Queues a wait on the id's fetch in flight. */
static te_status get_wait(te_sessions *s, const char *id, size_t len,
                          int64_t now, int64_t now_s, te_sessions_done cb,
                          void *arg, te_sessions_wait **wait)
{
    te_session_cache_result res;
    te_sessions_wait *w;
    te_session_hit hit;

    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return TE_ERROR;
    te_session_waiter_init(&w->w, wait_cb, w);
    w->cb = cb;
    w->arg = arg;

    res = te_session_cache_lookup(s->cache, id, len, now, now_s, &w->w, &hit);
    if (res == TE_SESSION_MISS_WAIT) {
        LIST_INSERT_HEAD(&s->waits, w, link);
        *wait = w;
        return TE_AGAIN;
    }
    free(w);

    /* Only BUSY is left (no room: every entry is being fetched); a new
     * fetch cannot follow a lookup that found one, but is ended all the
     * same. */
    if (res == TE_SESSION_MISS_FETCH)
        te_session_cache_complete(s->cache, id, len, hit.fetch_id, NULL, 1, now,
                                  now_s);
    if (res == TE_SESSION_BUSY && log_due(&s->busy_logged, BUSY_LOG_MS))
        te_log(TE_LOG_WARN,
               "session cache full of lookups in flight, answering 503, "
               "redis=%s worker=%u",
               s->redis_name, s->worker_id);
    return TE_ERROR;
}

te_status te_sessions_get(te_sessions *s, const char *id, size_t len,
                          int64_t now_s, const te_session **session,
                          te_sessions_done cb, void *arg,
                          te_sessions_wait **wait)
{
    int64_t now = now_ms();
    te_session_cache_result res;
    te_session_hit hit;

    *session = NULL;
    *wait = NULL;
    if (id == NULL || !te_session_id_valid(id, len))
        return TE_DECLINED;

    res = te_session_cache_lookup(s->cache, id, len, now, now_s, NULL, &hit);
    switch (res) {
    case TE_SESSION_HIT:
        *session = hit.session;
        return TE_OK;

    case TE_SESSION_NEGATIVE:
    case TE_SESSION_INVALID:
        return TE_DECLINED;

    case TE_SESSION_MISS_FETCH:
        if (fetch_start(s, id, len, hit.fetch_id) < 0)
            return TE_ERROR;
        break; /* and wait on it like the requests after this one */

    default:
        break; /* BUSY: a fetch runs (wait on it), or no room */
    }
    return get_wait(s, id, len, now, now_s, cb, arg, wait);
}

/* ---- events ---- */

void te_sessions_revoke(te_sessions *s, const char *id, size_t len)
{
    if (s != NULL)
        te_session_cache_revoke(s->cache, id, len);
}

void te_sessions_flush(te_sessions *s)
{
    if (s != NULL)
        te_session_cache_flush(s->cache);
}

/* ---- create and destroy ---- */

te_sessions *te_sessions_create(const te_sessions_conf *conf)
{
    te_sessions *s;

    if (strlen(conf->prefix) > PREFIX_MAX) {
        te_log(TE_LOG_ERROR, "session service: prefix over %d bytes, worker=%u",
               PREFIX_MAX, conf->worker_id);
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        goto fail;
    s->redis = conf->redis;
    s->prefix = conf->prefix;
    s->prefix_len = strlen(conf->prefix);
    s->redis_name = conf->redis_name;
    s->worker_id = conf->worker_id;
    LIST_INIT(&s->waits);

    s->cache = te_session_cache_create(&conf->cache);
    if (s->cache == NULL)
        goto fail;
    return s;

fail:
    te_log(TE_LOG_ERROR,
           "cannot create the session cache, entries=%zu worker=%u",
           conf->cache.max_entries, conf->worker_id);
    free(s);
    return NULL;
}

void te_sessions_closing(te_sessions *s)
{
    if (s != NULL)
        s->closing = 1;
}

void te_sessions_destroy(te_sessions *s)
{
    te_sessions_wait *w;

    if (s == NULL)
        return;
    te_session_cache_destroy(s->cache);

    /* Bounded: each pass frees one wait. */
    while ((w = LIST_FIRST(&s->waits)) != NULL) {
        LIST_REMOVE(w, link);
        free(w);
    }
    free(s);
}
