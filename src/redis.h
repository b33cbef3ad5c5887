/*
 * redis.h: a worker's Redis client, on hiredis's async API and the
 * worker's own event_base.
 *
 * hiredis 0.14 has no timeouts of any kind and treats a stray reply on a
 * subscribed connection as fatal (LIBRARIES.md, section 4), so this layer
 * adds what the tenant context service needs around it: a command
 * timeout and a connect timeout that force the connection closed,
 * reconnection with backoff, AUTH and SELECT, a second connection for
 * the lifecycle events, a heartbeat that proves that connection alive,
 * bounded replies, and one log line per outage instead of one per
 * request.
 *
 * Everything here belongs to one worker thread; nothing is locked.
 */
#ifndef TE_REDIS_H
#define TE_REDIS_H

#include <stddef.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "tenantedge/status.h"

/* A string in a reply longer than this is refused (hiredis buffers bulk
 * strings whole and has no limit of its own). */
#define TE_REDIS_MAX_BULK (64 * 1024)

/* Reconnection backoff bounds, milliseconds. */
#define TE_REDIS_BACKOFF_MIN 50
#define TE_REDIS_BACKOFF_MAX 5000

typedef struct te_redis te_redis;

typedef enum te_redis_result {
    TE_REDIS_REPLY = 0, /* <reply> is the answer, maybe an error reply */
    TE_REDIS_TIMEOUT,   /* no answer within the command timeout */
    TE_REDIS_LOST,      /* the connection went before the answer came */
    TE_REDIS_TOO_LARGE  /* a string of the answer is over the limit */
} te_redis_result;

/* The end of one command. <reply> is borrowed for the call and NULL
 * unless <res> is TE_REDIS_REPLY. */
typedef void (*te_redis_reply_fn)(void *arg, te_redis_result res,
                                  const redisReply *reply);

typedef struct te_redis_conf {
    const char *host; /* numeric IPv4 or IPv6 address, no name */
    int port;
    const char *password;        /* NULL: no AUTH */
    unsigned database;           /* SELECTed when not 0 */
    unsigned timeout_ms;         /* per command */
    unsigned connect_timeout_ms; /* connect, AUTH, SELECT, SUBSCRIBE */
    unsigned heartbeat_ms;       /* the subscriber is dead after 3 */
    const char *prefix;          /* channels <prefix>events and, for this
                                    client alone, <prefix>heartbeat:<token> */
    unsigned worker_id;          /* worker 0 logs the outages */

    /* A message on <prefix>events (payload bounded by MAX_BULK). */
    void (*on_event)(void *owner, const char *msg, size_t len);
    /* The subscriber is (again) subscribed: events sent while it was
     * not may have been lost. */
    void (*on_subscribed)(void *owner);
    void *owner;
} te_redis_conf;

/*
 * A client on <base> that starts connecting at once (both connections)
 * and keeps reconnecting until destroyed. The strings of <conf> are
 * copied. NULL on error (not a numeric address, out of memory), logged.
 */
te_redis *te_redis_create(struct event_base *base, const te_redis_conf *conf);

/*
 * Closes both connections. Commands still pending get TE_REDIS_LOST,
 * synchronously, before this returns. Never call it from a callback of
 * this client. NULL is a no-op.
 */
void te_redis_destroy(te_redis *r);

/* 1 when commands are accepted: the command connection is up and has
 * passed AUTH and SELECT. */
int te_redis_ready(const te_redis *r);

/* 1 when the subscriber hears the events channel. */
int te_redis_subscribed(const te_redis *r);

/*
 * Sends one command, formatted as for redisAsyncCommand (use %b for any
 * bytes that came from outside). TE_OK: <cb> runs exactly once, later,
 * from the event loop or from te_redis_destroy. TE_ERROR: not ready or
 * not sent, and <cb> never runs; the caller fails fast and does not
 * queue (nothing is logged here: the outage already was).
 */
te_status te_redis_command(te_redis *r, te_redis_reply_fn cb, void *arg,
                           const char *fmt, ...);

#endif
