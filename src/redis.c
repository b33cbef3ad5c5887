/*
 * redis.c: a worker's Redis client (see redis.h).
 *
 * Two connections, each a small state machine: IDLE (waiting for the
 * next attempt), CONNECTING (TCP, then AUTH if configured, then SELECT
 * or PING on the command connection, SUBSCRIBE on the other), READY,
 * and CLOSING while we free it ourselves. Whatever ends a
 * connection (refused, closed by the server, a timeout, a failed AUTH)
 * ends in conn_gone, which schedules the next attempt with backoff.
 *
 * hiredis rules this file lives by (LIBRARIES.md, section 4):
 *   - a context is only ever freed from our own timer or event
 *     callbacks, never from inside a hiredis callback; a hiredis callback
 *     that wants the connection gone activates the connection's kill
 *     event instead;
 *   - redisAsyncFree runs every pending callback with a NULL reply, then
 *     the disconnect callback with REDIS_OK whatever the reason, so the
 *     reason is recorded beforehand in conn.dying and conn.why;
 *   - a failed connect calls the connect callback only, and hiredis
 *     frees the context itself right after it returns.
 *
 * Command timeouts: replies come back in the order commands were sent,
 * so the pending commands form a FIFO and one timer, set for the oldest
 * one's deadline, is enough. When it fires the command connection is
 * freed: a server that does not answer one command answers none.
 */
#include "redis.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <time.h>

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>

#include "core.h"
#include "log.h"

/* A subscriber that heard no heartbeat for this many periods is dead. */
#define HEARTBEAT_MISSES 3

/* The two channels the subscriber listens to. */
#define NCHANNELS 2

enum conn_state { C_IDLE = 0, C_CONNECTING, C_READY, C_CLOSING };

struct conn {
    te_redis *r;
    const char *what; /* "command" or "subscriber", for logs */
    redisAsyncContext *ac;
    enum conn_state state;
    unsigned attempts;      /* failures since the last success */
    unsigned subscribed;    /* subscriber: channels confirmed */
    unsigned gen;           /* bumped by every attempt */
    unsigned kill_gen;      /* the attempt the kill event is for */
    te_redis_result dying;  /* what pending commands get on a free */
    struct event *retry;    /* the next attempt */
    struct event *deadline; /* connect timeout, until READY */
    struct event *kill;     /* frees the context outside hiredis */
    char why[160];          /* why the last connection ended */
};

struct cmd {
    TAILQ_ENTRY(cmd) link;
    te_redis *r;
    te_redis_reply_fn cb;
    void *arg;
    int64_t deadline;
};

TAILQ_HEAD(cmd_fifo, cmd);

struct te_redis {
    struct event_base *base;
    char *host, *password, *name;
    char *ch_events, *ch_heartbeat;
    int port;
    unsigned database;
    unsigned timeout_ms, connect_timeout_ms, heartbeat_ms;
    unsigned worker_id;
    void (*on_event)(void *owner, const char *msg, size_t len);
    void (*on_subscribed)(void *owner);
    void *owner;

    struct conn cmd, sub;
    struct cmd_fifo pending; /* on the command connection, oldest first */
    struct event *cmd_timer; /* at the oldest pending deadline */
    struct event *beat;      /* heartbeat: publish, and check */
    int64_t last_beat;       /* heard by the subscriber, or reset */
    uint64_t rng;            /* backoff jitter */
    int down;                /* an outage is under way (and logged) */
    int destroying;
};

static void conn_start(struct conn *c);
static void conn_gone(struct conn *c);

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void add_ms(struct event *ev, int64_t ms)
{
    struct timeval tv = te_ms_to_tv(ms < 0 ? 0 : (unsigned)ms);

    event_add(ev, &tv);
}

/* xorshift64: jitter needs no quality, only no lockstep between
 * workers that lost Redis at the same instant. */
static uint64_t rng_next(te_redis *r)
{
    uint64_t x = r->rng;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r->rng = x;
    return x;
}

/* Only worker 0 reports outages at warn and notice, so an outage is one
 * line however many workers there are; the others say it at debug. */
static int outage_level(const te_redis *r, int level)
{
    return r->worker_id == 0 ? level : TE_LOG_DEBUG;
}

/* ---- the command FIFO and its timer ---- */

static void cmd_timer_arm(te_redis *r)
{
    struct cmd *oldest = TAILQ_FIRST(&r->pending);

    if (oldest == NULL) {
        event_del(r->cmd_timer);
        return;
    }
    add_ms(r->cmd_timer, oldest->deadline - now_ms());
}

/* Frees <c>'s context from outside hiredis. Pending commands get
 * <dying>; the disconnect callback (if it was ever connected) or this
 * function then ends the connection. */
static void conn_force_free(struct conn *c, te_redis_result dying,
                            const char *why)
{
    redisAsyncContext *ac = c->ac;

    if (ac == NULL)
        return;
    if (why != NULL)
        snprintf(c->why, sizeof(c->why), "%s", why);
    c->dying = dying;
    c->state = C_CLOSING;
    redisAsyncFree(ac);

    /* Never connected: hiredis did not call the disconnect callback. */
    if (c->ac == ac)
        conn_gone(c);
}

static void cmd_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    te_redis *r = arg;
    struct cmd *oldest = TAILQ_FIRST(&r->pending);
    char why[64];

    if (oldest == NULL)
        return;
    if (oldest->deadline > now_ms()) {
        cmd_timer_arm(r);
        return;
    }

    snprintf(why, sizeof(why), "no reply within %ums", r->timeout_ms);
    conn_force_free(&r->cmd, TE_REDIS_TIMEOUT, why);
}

/* 1 when every string of <reply> is within TE_REDIS_MAX_BULK. hiredis
 * nests replies 7 deep at most, so the recursion is bounded. */
static int reply_fits(const redisReply *reply)
{
    switch (reply->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        return reply->len <= TE_REDIS_MAX_BULK;
    case REDIS_REPLY_ARRAY:
        for (size_t i = 0; i < reply->elements; i++) {
            if (!reply_fits(reply->element[i]))
                return 0;
        }
        return 1;
    default:
        return 1;
    }
}

/* hiredis's callback for every command of the command connection. */
static void cmd_reply_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct cmd *k = privdata;
    te_redis *r = k->r;
    te_redis_result res = TE_REDIS_REPLY;

    TAILQ_REMOVE(&r->pending, k, link);
    cmd_timer_arm(r);

    if (reply == NULL)
        res = r->cmd.dying;
    else if (!reply_fits(reply))
        res = TE_REDIS_TOO_LARGE;

    k->cb(k->arg, res, res == TE_REDIS_REPLY ? reply : NULL);
    free(k);
}

/* Queues a command on the command connection whatever its state (the
 * handshake runs before READY). */
static te_status cmd_send(te_redis *r, te_redis_reply_fn cb, void *arg,
                          const char *fmt, va_list ap)
{
    struct cmd *k;

    if (r->cmd.ac == NULL || r->cmd.state == C_CLOSING)
        return TE_ERROR;
    k = malloc(sizeof(*k));
    if (k == NULL)
        return TE_ERROR;
    k->r = r;
    k->cb = cb;
    k->arg = arg;
    k->deadline = now_ms() + r->timeout_ms;

    if (redisvAsyncCommand(r->cmd.ac, cmd_reply_cb, k, fmt, ap) != REDIS_OK) {
        free(k);
        return TE_ERROR;
    }
    TAILQ_INSERT_TAIL(&r->pending, k, link);
    if (TAILQ_FIRST(&r->pending) == k)
        cmd_timer_arm(r);
    return TE_OK;
}

static te_status cmd_send_internal(te_redis *r, te_redis_reply_fn cb,
                                   const char *fmt, ...)
{
    te_status rc;
    va_list ap;

    va_start(ap, fmt);
    rc = cmd_send(r, cb, r, fmt, ap);
    va_end(ap);
    return rc;
}

te_status te_redis_command(te_redis *r, te_redis_reply_fn cb, void *arg,
                           const char *fmt, ...)
{
    te_status rc;
    va_list ap;

    if (r->cmd.state != C_READY)
        return TE_ERROR;
    va_start(ap, fmt);
    rc = cmd_send(r, cb, arg, fmt, ap);
    va_end(ap);
    return rc;
}

int te_redis_ready(const te_redis *r)
{
    return r->cmd.state == C_READY;
}

int te_redis_subscribed(const te_redis *r)
{
    return r->sub.state == C_READY;
}

/* ---- connection life ---- */

/* The connection is over, whatever ended it: note the outage once and
 * schedule the next attempt. */
static void conn_gone(struct conn *c)
{
    te_redis *r = c->r;
    unsigned delay, shift;

    c->ac = NULL;
    c->state = C_IDLE;
    c->subscribed = 0;
    event_del(c->deadline);
    if (r->destroying)
        return;

    if (c == &r->cmd && !r->down) {
        r->down = 1;
        te_log(outage_level(r, TE_LOG_WARN),
               "redis unreachable, serving cached tenants, redis=%s "
               "worker=%u reason=\"%s\"",
               r->name, r->worker_id, c->why);
    } else if (c == &r->sub) {
        te_log(TE_LOG_DEBUG,
               "redis %s connection lost, redis=%s worker=%u reason=\"%s\"",
               c->what, r->name, r->worker_id, c->why);
    }

    /* 50, 100, 200 ... ms, plus up to half again, within 5 s. */
    shift = TE_MIN(c->attempts, 7u);
    delay = (unsigned)TE_REDIS_BACKOFF_MIN << shift;
    delay += (unsigned)(rng_next(r) % (delay / 2 + 1));
    delay = TE_MIN(delay, (unsigned)TE_REDIS_BACKOFF_MAX);
    if (c->attempts < UINT32_MAX)
        c->attempts++;
    add_ms(c->retry, delay);
}

static void conn_ready(struct conn *c)
{
    te_redis *r = c->r;

    c->state = C_READY;
    c->attempts = 0;
    event_del(c->deadline);
    r->last_beat = now_ms();

    if (c == &r->cmd && r->down) {
        r->down = 0;
        te_log(outage_level(r, TE_LOG_NOTICE),
               "redis reachable again, redis=%s worker=%u", r->name,
               r->worker_id);
    } else if (c == &r->cmd) {
        te_log(outage_level(r, TE_LOG_INFO),
               "redis connected, redis=%s worker=%u", r->name, r->worker_id);
    }
}

static void disconnect_cb(const redisAsyncContext *ac, int status)
{
    struct conn *c = ac->data;

    if (c == NULL || c->ac != ac)
        return;
    if (c->state != C_CLOSING)
        snprintf(c->why, sizeof(c->why), "%s",
                 status == REDIS_OK ? "closed"
                 : ac->errstr[0]    ? ac->errstr
                                    : "connection lost");
    conn_gone(c);
}

/* A hiredis callback asked for the connection to go. */
static void kill_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    if (c->gen == c->kill_gen)
        conn_force_free(c, TE_REDIS_LOST, NULL);
}

static void conn_kill_later(struct conn *c, const char *why)
{
    snprintf(c->why, sizeof(c->why), "%s", why);
    c->kill_gen = c->gen;
    event_active(c->kill, 0, 0);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    char why[64];

    snprintf(why, sizeof(why), "not ready within %ums",
             c->r->connect_timeout_ms);
    conn_force_free(c, TE_REDIS_TIMEOUT, why);
}

/* A handshake reply: anything but a status (+OK, +PONG) ends the
 * connection. */
static int handshake_ok(struct conn *c, const char *step, te_redis_result res,
                        const redisReply *reply)
{
    char why[160];

    if (res == TE_REDIS_REPLY && reply->type == REDIS_REPLY_STATUS)
        return 1;
    if (res == TE_REDIS_TOO_LARGE)
        conn_kill_later(c, "handshake reply too large");
    if (res != TE_REDIS_REPLY)
        return 0; /* the connection is going */

    snprintf(why, sizeof(why), "%s refused: %.*s", step,
             reply->type == REDIS_REPLY_ERROR ? (int)TE_MIN(reply->len, 100)
                                              : 10,
             reply->type == REDIS_REPLY_ERROR ? reply->str : "bad reply");
    conn_kill_later(c, why);
    return 0;
}

/* The last handshake reply (SELECT, AUTH or PING): a server that
 * answers it is up, not merely accepting connections. */
static void last_step_cb(void *arg, te_redis_result res,
                         const redisReply *reply)
{
    te_redis *r = arg;

    if (handshake_ok(&r->cmd, r->database != 0 ? "SELECT" : "PING", res, reply))
        conn_ready(&r->cmd);
}

/* After AUTH (<authed>) or without it: SELECT when a database is set,
 * else a PING unless AUTH already proved the server answers. */
static void cmd_after_auth(te_redis *r, int authed)
{
    te_status rc;

    if (r->database != 0)
        rc = cmd_send_internal(r, last_step_cb, "SELECT %u", r->database);
    else if (!authed)
        rc = cmd_send_internal(r, last_step_cb, "PING");
    else {
        conn_ready(&r->cmd);
        return;
    }
    if (rc != TE_OK)
        conn_kill_later(&r->cmd, "cannot send the handshake");
}

static void auth_cb(void *arg, te_redis_result res, const redisReply *reply)
{
    te_redis *r = arg;

    if (handshake_ok(&r->cmd, "AUTH", res, reply))
        cmd_after_auth(r, 1);
}

/* ---- the subscriber ---- */

/* Subscription confirmations and messages of both channels; NULL when
 * the context is freed. */
static void sub_message_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct conn *c = privdata;
    te_redis *r = c->r;
    redisReply *m = reply, *kind, *chan, *body;

    if (m == NULL || c->ac != ac || m->type != REDIS_REPLY_ARRAY ||
        m->elements != 3)
        return;
    kind = m->element[0];
    chan = m->element[1];
    body = m->element[2];
    if (kind->type != REDIS_REPLY_STRING || chan->type != REDIS_REPLY_STRING)
        return;

    if (strcmp(kind->str, "subscribe") == 0) {
        if (++c->subscribed == NCHANNELS) {
            conn_ready(c);
            r->on_subscribed(r->owner);
        }
        return;
    }
    if (strcmp(kind->str, "message") != 0 || body->type != REDIS_REPLY_STRING)
        return;

    if (strcmp(chan->str, r->ch_heartbeat) == 0) {
        r->last_beat = now_ms();
        return;
    }
    if (strcmp(chan->str, r->ch_events) == 0) {
        if (body->len > TE_REDIS_MAX_BULK) {
            te_log(TE_LOG_WARN,
                   "redis event of %zu bytes ignored, over the limit, "
                   "redis=%s worker=%u",
                   body->len, r->name, r->worker_id);
            return;
        }
        r->on_event(r->owner, body->str, body->len);
    }
}

static void sub_subscribe(struct conn *c)
{
    te_redis *r = c->r;

    if (redisAsyncCommand(c->ac, sub_message_cb, c, "SUBSCRIBE %s %s",
                          r->ch_events, r->ch_heartbeat) != REDIS_OK)
        conn_kill_later(c, "cannot send SUBSCRIBE");
}

/* The subscriber's AUTH reply: raw hiredis callback, since subscriber
 * commands are not on the command FIFO. */
static void sub_auth_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct conn *c = privdata;

    if (c->ac != ac || reply == NULL)
        return;
    if (handshake_ok(c, "AUTH", TE_REDIS_REPLY, reply))
        sub_subscribe(c);
}

/* ---- connecting ---- */

static void connect_cb(const redisAsyncContext *ac, int status)
{
    struct conn *c = ac->data;
    te_redis *r;

    if (c == NULL || c->ac != ac)
        return;
    r = c->r;

    if (status != REDIS_OK) {
        /* hiredis frees the context when this returns. */
        snprintf(c->why, sizeof(c->why), "%s",
                 ac->errstr[0] ? ac->errstr : "connect failed");
        conn_gone(c);
        return;
    }

    if (c == &r->sub) {
        if (r->password == NULL)
            sub_subscribe(c);
        else if (redisAsyncCommand(c->ac, sub_auth_cb, c, "AUTH %s",
                                   r->password) != REDIS_OK)
            conn_kill_later(c, "cannot send AUTH");
        return;
    }

    if (r->password == NULL)
        cmd_after_auth(r, 0);
    else if (cmd_send_internal(r, auth_cb, "AUTH %s", r->password) != TE_OK)
        conn_kill_later(c, "cannot send AUTH");
}

static void conn_start(struct conn *c)
{
    te_redis *r = c->r;
    redisAsyncContext *ac;

    ac = redisAsyncConnect(r->host, r->port);
    if (ac == NULL) {
        snprintf(c->why, sizeof(c->why), "out of memory");
        conn_gone(c);
        return;
    }
    if (ac->err) {
        snprintf(c->why, sizeof(c->why), "%s", ac->errstr);
        redisAsyncFree(ac);
        conn_gone(c);
        return;
    }

    ac->data = c;
    c->ac = ac;
    c->gen++;
    c->state = C_CONNECTING;
    c->dying = TE_REDIS_LOST;
    c->subscribed = 0;
    redisEnableKeepAlive(&ac->c);
    if (redisLibeventAttach(ac, r->base) != REDIS_OK ||
        redisAsyncSetConnectCallback(ac, connect_cb) != REDIS_OK ||
        redisAsyncSetDisconnectCallback(ac, disconnect_cb) != REDIS_OK) {
        conn_force_free(c, TE_REDIS_LOST, "cannot attach to the loop");
        return;
    }
    add_ms(c->deadline, r->connect_timeout_ms);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    if (c->ac == NULL && !c->r->destroying)
        conn_start(c);
}

/* ---- heartbeat ---- */

static void publish_cb(void *arg, te_redis_result res, const redisReply *reply)
{
    /* Nothing to do: a PUBLISH that gets no answer trips the command
     * timeout like any other command. */
}

/*
 * Every heartbeat: the command connection publishes one, which also
 * proves that connection alive when no request uses it, and the
 * subscriber must have heard one of its own lately. It is only
 * judged while the command connection is up: without it nothing is
 * published.
 */
static void beat_cb(evutil_socket_t fd, short what, void *arg)
{
    te_redis *r = arg;
    int64_t now = now_ms();
    char why[64];

    if (r->cmd.state != C_READY) {
        r->last_beat = now;
        return;
    }
    te_redis_command(r, publish_cb, r, "PUBLISH %s %u", r->ch_heartbeat,
                     r->worker_id);

    if (r->sub.state != C_READY ||
        now - r->last_beat <= (int64_t)r->heartbeat_ms * HEARTBEAT_MISSES)
        return;
    snprintf(why, sizeof(why), "no heartbeat for %ums",
             r->heartbeat_ms * HEARTBEAT_MISSES);
    te_log(TE_LOG_WARN,
           "redis subscriber silent, resubscribing, redis=%s worker=%u",
           r->name, r->worker_id);
    conn_force_free(&r->sub, TE_REDIS_LOST, why);
}

/* ---- create and destroy ---- */

static int conn_init(te_redis *r, struct conn *c, const char *what)
{
    c->r = r;
    c->what = what;
    c->state = C_IDLE;
    c->retry = evtimer_new(r->base, retry_cb, c);
    c->deadline = evtimer_new(r->base, deadline_cb, c);
    c->kill = event_new(r->base, -1, 0, kill_cb, c);
    return c->retry && c->deadline && c->kill ? 0 : -1;
}

static void conn_free_events(struct conn *c)
{
    if (c->retry != NULL)
        event_free(c->retry);
    if (c->deadline != NULL)
        event_free(c->deadline);
    if (c->kill != NULL)
        event_free(c->kill);
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);

    if (s == NULL)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

/*
 * <prefix>heartbeat:<token>, a channel of this client alone: if every
 * worker of every edge published to one channel, each subscriber would
 * hear the whole fleet's heartbeats, workers times edges per period;
 * this way each hears its own. PSUBSCRIBE <prefix>heartbeat:* shows
 * them all.
 */
static char *heartbeat_channel(const char *prefix, uint64_t token)
{
    char tail[40];

    snprintf(tail, sizeof(tail), "heartbeat:%016llx",
             (unsigned long long)token);
    return join(prefix, tail);
}

/* The address as operators write it: a.b.c.d:port or [v6]:port. */
static char *addr_name(const char *host, int port, int v6)
{
    char buf[INET6_ADDRSTRLEN + 16];

    snprintf(buf, sizeof(buf), v6 ? "[%s]:%d" : "%s:%d", host, port);
    return strdup(buf);
}

te_redis *te_redis_create(struct event_base *base, const te_redis_conf *conf)
{
    unsigned char bin[sizeof(struct in6_addr)];
    struct timeval beat;
    te_redis *r;
    int v6 = 0;

    if (inet_pton(AF_INET, conf->host, bin) != 1) {
        if (inet_pton(AF_INET6, conf->host, bin) != 1) {
            te_log(TE_LOG_ERROR, "redis address is not numeric, redis=%s",
                   conf->host);
            return NULL;
        }
        v6 = 1;
    }

    r = calloc(1, sizeof(*r));
    if (r == NULL)
        goto oom;
    r->base = base;
    r->port = conf->port;
    r->database = conf->database;
    r->timeout_ms = conf->timeout_ms;
    r->connect_timeout_ms = conf->connect_timeout_ms;
    r->heartbeat_ms = conf->heartbeat_ms ? conf->heartbeat_ms : 1000;
    r->worker_id = conf->worker_id;
    r->on_event = conf->on_event;
    r->on_subscribed = conf->on_subscribed;
    r->owner = conf->owner;
    TAILQ_INIT(&r->pending);

    if (getrandom(&r->rng, sizeof(r->rng), 0) != (ssize_t)sizeof(r->rng))
        r->rng = (uint64_t)now_ms();
    r->rng = r->rng * 2654435761u + conf->worker_id;
    if (r->rng == 0)
        r->rng = 1;

    r->host = strdup(conf->host);
    r->name = addr_name(conf->host, conf->port, v6);
    r->ch_events = join(conf->prefix, "events");
    r->ch_heartbeat = heartbeat_channel(conf->prefix, r->rng);
    if (r->host == NULL || r->name == NULL || r->ch_events == NULL ||
        r->ch_heartbeat == NULL)
        goto oom;
    if (conf->password != NULL &&
        (r->password = strdup(conf->password)) == NULL)
        goto oom;

    r->cmd_timer = evtimer_new(base, cmd_timer_cb, r);
    r->beat = event_new(base, -1, EV_PERSIST, beat_cb, r);
    if (r->cmd_timer == NULL || r->beat == NULL ||
        conn_init(r, &r->cmd, "command") < 0 ||
        conn_init(r, &r->sub, "subscriber") < 0)
        goto oom;

    beat = te_ms_to_tv(r->heartbeat_ms);
    event_add(r->beat, &beat);
    r->last_beat = now_ms();
    conn_start(&r->cmd);
    conn_start(&r->sub);
    return r;

oom:
    te_log(TE_LOG_ERROR, "out of memory creating the redis client, redis=%s",
           conf->host);
    te_redis_destroy(r);
    return NULL;
}

void te_redis_destroy(te_redis *r)
{
    if (r == NULL)
        return;
    r->destroying = 1;

    conn_force_free(&r->cmd, TE_REDIS_LOST, "shutting down");
    conn_force_free(&r->sub, TE_REDIS_LOST, "shutting down");

    conn_free_events(&r->cmd);
    conn_free_events(&r->sub);
    if (r->cmd_timer != NULL)
        event_free(r->cmd_timer);
    if (r->beat != NULL)
        event_free(r->beat);
    free(r->host);
    free(r->password);
    free(r->name);
    free(r->ch_events);
    free(r->ch_heartbeat);
    free(r);
}
