/*
 * tcs.c: a worker's tenant context service (see tcs.h).
 *
 * With store redis a lookup goes: cache (tcs_cache.c) -> on a miss, one
 * fetch per site, GET <prefix>site:<site> then GET <prefix>tenant:<id>,
 * whose result the cache hands to every request waiting on that site.
 * A fetch belongs to this file from the first GET until its result is
 * given to the cache; the requests only ever hold waits, which they may
 * cancel at any time without disturbing the fetch.
 *
 * While Redis is unreachable no fetch is started at all: the cache still
 * serves what it holds up to the stale bound, and anything else fails at
 * once instead of queueing behind a connection that is not there.
 *
 * Lifecycle events evict the tenant (by id) and the site, so the next
 * request fetches the new record; after every (re)subscribe the whole
 * cache turns stale, since events sent while unsubscribed are lost.
 *
 * Login sessions (session.c) ride on the same client: this file creates
 * their service with store redis and hands it the session-revoke events
 * and the resubscribes, after which every cached session goes.
 */
#include "tcs.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "log.h"
#include "redis.h"
#include "session.h"
#include "tcs_cache.h"
#include "tcs_store.h"

/* A malformed record is logged once per site per this period, not once
 * per request that runs into it. */
#define MALFORMED_LOG_MS (60 * 1000)
#define MALFORMED_SLOTS  64

/* A full cache (every entry has a lookup in flight) is logged at most
 * once per this period. */
#define BUSY_LOG_MS (10 * 1000)

/* The longest key: prefix, "tenant:", an id. The config allows no
 * longer prefix. */
#define PREFIX_MAX 64
#define KEY_MAX    (PREFIX_MAX + sizeof("tenant:") + TE_TCS_ID_MAX)

struct te_tcs_wait {
    te_tcs_waiter w; /* in the cache's queue for the site */
    LIST_ENTRY(te_tcs_wait) link;
    te_tcs *t;
    te_tcs_done cb;
    void *arg;
};

/* One lookup in Redis, for one site. */
struct fetch {
    te_tcs *t;
    uint64_t fetch_id;
    size_t len;
    char site[TE_TCS_NAME_MAX + 1];
    char id[TE_TCS_ID_MAX + 1];
};

struct malformed_slot {
    uint64_t hash;
    int64_t at;
};

struct te_tcs {
    int store; /* enum te_tcs_store */
    unsigned worker_id;
    te_tcs_table *table; /* static, file */
    te_tcs_cache *cache; /* redis */
    te_redis *redis;
    te_sessions *sessions; /* redis: login sessions on the same client */
    const char *prefix;
    size_t prefix_len;
    const char *redis_name;
    LIST_HEAD(, te_tcs_wait) waits; /* every wait not yet ended */
    struct malformed_slot logged[MALFORMED_SLOTS];
    int64_t busy_logged; /* when a full cache was last logged */
    int destroying;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when a malformed-record line for <site> is due (first time, or the
 * period has passed); the slot is then taken. */
static int malformed_log_due(te_tcs *t, const char *site, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    struct malformed_slot *s;
    int64_t now = now_ms();

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)site[i]) * 1099511628211ULL;
    s = &t->logged[h % MALFORMED_SLOTS];
    if (s->hash == h && s->at != 0 && now - s->at < MALFORMED_LOG_MS)
        return 0;
    s->hash = h;
    s->at = now != 0 ? now : 1;
    return 1;
}

/* ---- waits ---- */

static void wait_cb(te_tcs_waiter *w, te_tcs_outcome outcome,
                    te_tcs_context *ctx, void *arg)
{
    te_tcs_wait *tw = arg;
    te_tcs_done cb = tw->cb;
    void *cb_arg = tw->arg;
    te_status rc;

    (void)w;
    LIST_REMOVE(tw, link);
    free(tw);

    rc = outcome == TE_TCS_FOUND     ? TE_OK
         : outcome == TE_TCS_UNKNOWN ? TE_DECLINED
                                     : TE_ERROR;
    cb(cb_arg, rc, ctx);
}

void te_tcs_cancel(te_tcs_wait *w)
{
    if (w == NULL)
        return;
    te_tcs_waiter_cancel(&w->w);
    LIST_REMOVE(w, link);
    free(w);
}

/* ---- fetches ---- */

/* Hands the fetch's result to the cache (which calls the waiters) and
 * frees it. <ctx> is a reference given away. */
static void fetch_end(struct fetch *f, te_tcs_context *ctx, int failed)
{
    te_tcs *t = f->t;

    te_tcs_cache_complete(t->cache, f->site, f->len, f->fetch_id, ctx, failed,
                          now_ms());
    free(f);
}

/* The store holds something the edge cannot use for <f>'s site: 503,
 * and one error line naming the tenant. */
static void fetch_malformed(struct fetch *f, const char *what)
{
    te_tcs *t = f->t;

    if (malformed_log_due(t, f->site, f->len))
        te_log(TE_LOG_ERROR,
               "malformed tenant record in redis: %s, tenant=%s site=%s "
               "redis=%s worker=%u",
               what, f->id[0] ? f->id : "-", f->site, t->redis_name,
               t->worker_id);
    fetch_end(f, NULL, 1);
}

/* Builds <prefix><kind><name> into <key>; returns its length. The parts
 * were validated, so they fit. */
static size_t make_key(const te_tcs *t, char *key, const char *kind,
                       const char *name, size_t len)
{
    size_t klen = strlen(kind);

    memcpy(key, t->prefix, t->prefix_len);
    memcpy(key + t->prefix_len, kind, klen);
    memcpy(key + t->prefix_len + klen, name, len);
    return t->prefix_len + klen + len;
}

static void tenant_reply(void *arg, te_redis_result res,
                         const redisReply *reply)
{
    struct fetch *f = arg;
    te_tcs_context *ctx;
    char err[256];

    if (f->t->destroying) {
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
        fetch_malformed(f, "the site names a tenant without a record");
        return;
    }
    if (reply->type != REDIS_REPLY_STRING) {
        fetch_malformed(f, reply->type == REDIS_REPLY_ERROR
                               ? "error reply to GET"
                               : "record is not a string");
        return;
    }

    ctx = te_tcs_context_parse(reply->str, reply->len, err, sizeof(err));
    if (ctx == NULL) {
        fetch_malformed(f, err);
        return;
    }
    if (strcmp(ctx->id, f->id) != 0 || strlen(ctx->site) != f->len ||
        memcmp(ctx->site, f->site, f->len) != 0) {
        te_tcs_context_free(ctx);
        fetch_malformed(f, "record names another tenant or site");
        return;
    }
    fetch_end(f, ctx, 0);
}

static void site_reply(void *arg, te_redis_result res, const redisReply *reply)
{
    struct fetch *f = arg;
    te_tcs *t = f->t;
    char key[KEY_MAX];
    size_t klen;

    if (t->destroying) {
        free(f);
        return;
    }
    if (res == TE_REDIS_TOO_LARGE) {
        fetch_malformed(f, "site key over 64 KiB");
        return;
    }
    if (res != TE_REDIS_REPLY) {
        fetch_end(f, NULL, 1);
        return;
    }
    if (reply->type == REDIS_REPLY_NIL) {
        fetch_end(f, NULL, 0); /* no tenant has this site */
        return;
    }
    if (reply->type != REDIS_REPLY_STRING ||
        !te_tcs_id_valid(reply->str, reply->len)) {
        fetch_malformed(f, reply->type == REDIS_REPLY_ERROR
                               ? "error reply to GET of the site key"
                               : "the site key holds no valid tenant id");
        return;
    }

    memcpy(f->id, reply->str, reply->len);
    f->id[reply->len] = '\0';
    klen = make_key(t, key, "tenant:", f->id, reply->len);
    if (te_redis_command(t->redis, tenant_reply, f, "GET %b", key, klen) !=
        TE_OK)
        fetch_end(f, NULL, 1);
}

/* Starts fetch <fetch_id> of <site>. -1 when it could not start (Redis
 * unreachable, out of memory): the fetch has then been ended as failed,
 * which keeps a stale context and caches nothing new. */
static int fetch_start(te_tcs *t, const char *site, size_t len,
                       uint64_t fetch_id)
{
    char key[KEY_MAX];
    struct fetch *f;
    size_t klen;

    if (!te_redis_ready(t->redis))
        goto fail;
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        goto fail;
    f->t = t;
    f->fetch_id = fetch_id;
    f->len = len;
    memcpy(f->site, site, len);

    klen = make_key(t, key, "site:", site, len);
    if (te_redis_command(t->redis, site_reply, f, "GET %b", key, klen) !=
        TE_OK) {
        free(f);
        goto fail;
    }
    return 0;

fail:
    te_tcs_cache_complete(t->cache, site, len, fetch_id, NULL, 1, now_ms());
    return -1;
}

/* ---- lookups ---- */

static te_status get_table(te_tcs *t, const char *site, size_t len,
                           te_tcs_context **ctx)
{
    te_tcs_context *found = te_tcs_table_find(t->table, site, len);

    if (found == NULL)
        return TE_DECLINED;
    *ctx = te_tcs_context_ref(found);
    return TE_OK;
}

/* Queues a wait on the site's fetch in flight. */
static te_status get_wait(te_tcs *t, const char *site, size_t len, int64_t now,
                          te_tcs_done cb, void *arg, te_tcs_wait **wait)
{
    te_tcs_cache_result res;
    te_tcs_wait *w;
    te_tcs_hit hit;

    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return TE_ERROR;
    te_tcs_waiter_init(&w->w, wait_cb, w);
    w->t = t;
    w->cb = cb;
    w->arg = arg;

    res = te_tcs_cache_lookup(t->cache, site, len, now, &w->w, &hit);
    if (res == TE_TCS_MISS_WAIT) {
        LIST_INSERT_HEAD(&t->waits, w, link);
        *wait = w;
        return TE_AGAIN;
    }
    free(w);

    /* Only BUSY is left (no room: every entry is being fetched); the
     * others cannot follow a lookup that found a fetch, but are ended
     * properly all the same. */
    te_tcs_context_free(hit.ctx);
    if (res == TE_TCS_MISS_FETCH || res == TE_TCS_STALE_HIT_REFRESH)
        te_tcs_cache_complete(t->cache, site, len, hit.fetch_id, NULL, 1, now);
    if (res == TE_TCS_BUSY &&
        (t->busy_logged == 0 || now - t->busy_logged >= BUSY_LOG_MS)) {
        t->busy_logged = now;
        te_log(TE_LOG_WARN,
               "tenant cache full of lookups in flight, answering 503, "
               "redis=%s worker=%u",
               t->redis_name, t->worker_id);
    }
    return TE_ERROR;
}

static te_status get_redis(te_tcs *t, const char *site, size_t len,
                           te_tcs_context **ctx, te_tcs_done cb, void *arg,
                           te_tcs_wait **wait)
{
    int64_t now = now_ms();
    te_tcs_cache_result res;
    te_tcs_hit hit;

    res = te_tcs_cache_lookup(t->cache, site, len, now, NULL, &hit);
    switch (res) {
    case TE_TCS_HIT:
    case TE_TCS_STALE_HIT:
        *ctx = hit.ctx;
        return TE_OK;

    case TE_TCS_STALE_HIT_REFRESH:
        fetch_start(t, site, len, hit.fetch_id);
        *ctx = hit.ctx;
        return TE_OK;

    case TE_TCS_NEGATIVE:
    case TE_TCS_INVALID:
        return TE_DECLINED;

    case TE_TCS_MISS_FETCH:
        if (fetch_start(t, site, len, hit.fetch_id) < 0)
            return TE_ERROR;
        break; /* and wait on it like the requests after this one */

    default:
        break; /* BUSY: a fetch runs (wait on it), or no room */
    }
    return get_wait(t, site, len, now, cb, arg, wait);
}

te_status te_tcs_get(te_tcs *t, const char *site, size_t len,
                     te_tcs_context **ctx, te_tcs_done cb, void *arg,
                     te_tcs_wait **wait)
{
    *ctx = NULL;
    *wait = NULL;
    if (site == NULL || !te_tcs_site_valid(site, len))
        return TE_DECLINED;
    if (t->store != TE_TCS_STORE_REDIS)
        return get_table(t, site, len, ctx);
    return get_redis(t, site, len, ctx, cb, arg, wait);
}

te_sessions *te_tcs_sessions(te_tcs *t)
{
    return t->sessions;
}

int te_tcs_ready(const te_tcs *t)
{
    if (t->store != TE_TCS_STORE_REDIS)
        return 1;
    return te_redis_ready(t->redis) && te_redis_subscribed(t->redis);
}

/* ---- lifecycle events ---- */

/* A string member of <obj> if it is one, else NULL. */
static const char *member(json_t *obj, const char *key, size_t *len)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_string(v))
        return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

/* {"event":"session-revoke","session":"<id>"}: the session goes from
 * this worker's cache. The id is a credential: never logged. */
static void on_session_revoke(te_tcs *t, json_t *root)
{
    size_t len = 0;
    const char *id = member(root, "session", &len);

    if (id == NULL || !te_session_id_valid(id, len)) {
        te_log(TE_LOG_WARN,
               "session-revoke event ignored, no valid \"session\", "
               "redis=%s worker=%u",
               t->redis_name, t->worker_id);
        return;
    }
    te_sessions_revoke(t->sessions, id, len);
    if (te_log_enabled(TE_LOG_DEBUG))
        te_log(TE_LOG_DEBUG, "session revoked, worker=%u", t->worker_id);
}

/*
 * {"event":"suspend","tenant":"t-0001","site":"acme",...}: whatever the
 * event, the tenant and the site it names are evicted, so the next
 * request reads the record as it now is. session-revoke is about a
 * session, not a tenant record, and goes to the session service.
 */
static void on_event(void *owner, const char *msg, size_t len)
{
    size_t elen = 0, tlen = 0, slen = 0, n = 0;
    const char *event, *tenant, *site;
    te_tcs *t = owner;
    json_error_t jerr;
    json_t *root;

    root = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root)) {
        te_log(TE_LOG_WARN,
               "tenant event ignored, not a JSON object, "
               "redis=%s worker=%u",
               t->redis_name, t->worker_id);
        goto done;
    }

    event = member(root, "event", &elen);
    tenant = member(root, "tenant", &tlen);
    site = member(root, "site", &slen);
    if (event == NULL) {
        te_log(TE_LOG_WARN,
               "tenant event ignored, no \"event\", redis=%s "
               "worker=%u",
               t->redis_name, t->worker_id);
        goto done;
    }
    if (strcmp(event, "session-revoke") == 0) {
        on_session_revoke(t, root);
        goto done;
    }

    if (tenant != NULL && te_tcs_id_valid(tenant, tlen))
        n += te_tcs_cache_evict_tenant(t->cache, tenant, tlen);
    else
        tenant = NULL;
    if (site != NULL && te_tcs_site_valid(site, slen))
        n += te_tcs_cache_evict_site(t->cache, site, slen);
    else
        site = NULL;

    if (tenant == NULL && site == NULL)
        te_log(TE_LOG_WARN,
               "tenant event ignored, it names no valid tenant or site, "
               "redis=%s worker=%u",
               t->redis_name, t->worker_id);
    else if (te_log_enabled(TE_LOG_DEBUG))
        te_log(TE_LOG_DEBUG,
               "tenant event %.32s, evicted=%zu tenant=%s site=%s worker=%u",
               event, n, tenant ? tenant : "-", site ? site : "-",
               t->worker_id);

done:
    json_decref(root);
}

static void on_subscribed(void *owner)
{
    te_tcs *t = owner;

    te_tcs_cache_mark_all_stale(t->cache, now_ms());
    te_sessions_flush(t->sessions);
}

/* ---- create and destroy ---- */

static int create_redis(te_tcs *t, struct event_base *base, const te_config *cf)
{
    te_tcs_cache_conf cc = {
        .max_entries = cf->tcs_cache,
        .ttl_ms = cf->tcs_ttl,
        .stale_ms = cf->tcs_stale,
        .negative_ttl_ms = cf->tcs_negative_ttl,
    };
    te_redis_conf rc = {
        .host = cf->redis_host,
        .port = (int)cf->redis_port,
        .password = cf->redis_password,
        .database = cf->redis_database,
        .timeout_ms = cf->redis_timeout,
        .connect_timeout_ms = cf->redis_connect_timeout,
        .heartbeat_ms = cf->redis_heartbeat,
        .prefix = cf->tcs_prefix,
        .worker_id = t->worker_id,
        .on_event = on_event,
        .on_subscribed = on_subscribed,
        .owner = t,
    };
    te_sessions_conf sc = {0};

    t->prefix = cf->tcs_prefix;
    t->prefix_len = strlen(cf->tcs_prefix);
    t->redis_name = cf->redis_name;
    if (t->prefix_len > PREFIX_MAX || cf->redis_host == NULL) {
        te_log(TE_LOG_ERROR,
               "store redis without a redis address or with "
               "a prefix over %d bytes, worker=%u",
               PREFIX_MAX, t->worker_id);
        return -1;
    }

    t->cache = te_tcs_cache_create(&cc);
    if (t->cache == NULL) {
        te_log(TE_LOG_ERROR,
               "cannot create the tenant cache, entries=%zu "
               "worker=%u",
               cf->tcs_cache, t->worker_id);
        return -1;
    }
    t->redis = te_redis_create(base, &rc);
    if (t->redis == NULL)
        return -1;

    /* Sessions: the same client, bounds and negative time as tenants;
     * never stale (session_cache.h). */
    sc.redis = t->redis;
    sc.prefix = t->prefix;
    sc.redis_name = t->redis_name;
    sc.worker_id = t->worker_id;
    sc.cache.max_entries = cf->tcs_cache;
    sc.cache.ttl_ms = cf->tcs_ttl;
    sc.cache.negative_ttl_ms = cf->tcs_negative_ttl;
    t->sessions = te_sessions_create(&sc);
    return t->sessions != NULL ? 0 : -1;
}

te_tcs *te_tcs_create(struct event_base *base, const te_config *cf,
                      unsigned worker_id)
{
    char err[256];
    te_tcs *t;

    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        te_log(TE_LOG_ERROR,
               "out of memory creating the tenant service, "
               "worker=%u",
               worker_id);
        return NULL;
    }
    t->store = cf->tcs_store;
    t->worker_id = worker_id;
    LIST_INIT(&t->waits);

    switch (t->store) {
    case TE_TCS_STORE_REDIS:
        if (create_redis(t, base, cf) < 0)
            goto fail;
        break;

    case TE_TCS_STORE_FILE:
        t->table = te_tcs_table_from_file(cf->tcs_file_text, cf->tcs_file_len,
                                          err, sizeof(err));
        if (t->table == NULL) {
            te_log(TE_LOG_ERROR,
                   "cannot load the tenants file: %s, file=%s "
                   "worker=%u",
                   err, cf->tcs_file, worker_id);
            goto fail;
        }
        break;

    default:
        t->table = te_tcs_table_from_sites(cf);
        if (t->table == NULL) {
            te_log(TE_LOG_ERROR,
                   "out of memory building the site table, "
                   "worker=%u",
                   worker_id);
            goto fail;
        }
        break;
    }
    return t;

fail:
    te_tcs_destroy(t);
    return NULL;
}

void te_tcs_destroy(te_tcs *t)
{
    te_tcs_wait *w;

    if (t == NULL)
        return;
    t->destroying = 1;

    /* Fetches in flight end here, freed by their callbacks unheard. */
    te_sessions_closing(t->sessions);
    te_redis_destroy(t->redis);
    te_sessions_destroy(t->sessions);
    te_tcs_cache_destroy(t->cache);

    /* Bounded: each pass frees one wait. */
    while ((w = LIST_FIRST(&t->waits)) != NULL) {
        LIST_REMOVE(w, link);
        free(w);
    }
    te_tcs_table_free(t->table);
    free(t);
}
