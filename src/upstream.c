/*
 * upstream.c: backend connections (pooled per worker and backend), the
 * passive health of backends (per worker, next to the pools) and the
 * backend leg of a request: pick a backend, connect or reuse, send the
 * head, stream the body, read the response head, stream the response
 * back, and on a failure before the answer, go on where that is safe.
 * See upstream.h for the contract with the client side.
 */
#include "upstream.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http1_head.h"
#include "log.h"
#include "route.h"
#include "sock.h"
#include "worker.h"

/* A pooled connection idle for less than this is taken without a peek
 * when a dead one would cost only a resend (pool_take). */
#define TE_POOL_PEEK_MS 50

struct te_upconn {
    te_sock sock;
    te_pool *pool;
    te_proxy *proxy; /* the leg using it; NULL while idle */
    TAILQ_ENTRY(te_upconn) link;
    struct timeval idle_since; /* when it went into the pool */
    unsigned idle : 1;         /* in pool->idle */
    unsigned connecting : 1;
    unsigned reused : 1;
};

static void leg_read_cb(te_sock *s, void *arg);
static void leg_write_cb(te_sock *s, void *arg);
static void leg_event_cb(te_sock *s, short what, void *arg);

/* ------------------------------------------------------------ pool -- */

void te_pool_init(te_pool *pool, te_worker *w, const te_backend *b)
{
    memset(pool, 0, sizeof(*pool));
    pool->w = w;
    pool->backend = b;
    TAILQ_INIT(&pool->idle);
}

static void upconn_free(te_upconn *up)
{
    if (up->idle) {
        TAILQ_REMOVE(&up->pool->idle, up, link);
        up->pool->nidle--;
    }
    te_sock_close(&up->sock);
    free(up);
}

void te_pool_close(te_pool *pool)
{
    te_upconn *up;

    while ((up = TAILQ_FIRST(&pool->idle)) != NULL)
        upconn_free(up);
}

/* An idle backend connection says something: EOF, an error, bytes
 * nobody asked for, or the idle timeout. In each case it is done. */
static void idle_read_cb(te_sock *s, void *arg)
{
    upconn_free(arg);
}

static void idle_event_cb(te_sock *s, short what, void *arg)
{
    upconn_free(arg);
}

static void pool_put(te_upconn *up)
{
    te_pool *pool = up->pool;
    te_worker *w = pool->w;

    up->proxy = NULL;
    if (w->cf->upstream_keepalive == 0 || w->draining) {
        upconn_free(up);
        return;
    }
    if (pool->nidle >= w->cf->upstream_keepalive)
        upconn_free(TAILQ_FIRST(&pool->idle));

    /* The read event stays registered from the leg: no system call. */
    te_sock_setcb(&up->sock, idle_read_cb, NULL, idle_event_cb, up);
    te_sock_set_timeouts(&up->sock, w->tmo.up_idle, w->tmo.up_send);
    te_sock_read_enable(&up->sock);
    TAILQ_INSERT_TAIL(&pool->idle, up, link);
    pool->nidle++;
    up->idle = 1;
    event_base_gettimeofday_cached(w->base, &up->idle_since);
}

/* An idle connection that the backend closed, or wrote to, since it was
 * pooled: its event may not have been handled yet when a request wants
 * it. Peeking costs one system call and saves sending a request into a
 * dead connection. */
static int upconn_stale(te_upconn *up)
{
    char c;
    ssize_t n;

    if (evbuffer_get_length(te_sock_in(&up->sock)) > 0)
        return 1;
    n = recv(te_sock_fd(&up->sock), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0)
        return 1;
    return errno != EAGAIN && errno != EWOULDBLOCK;
}

/* Could the request go again on a fresh connection to the same backend
 * if a pooled one turns out dead before any answer (see leg_next)? */
static int leg_can_resend(const te_proxy *p)
{
    const te_request *r = p->req;

    return !p->retried && !p->body_sent &&
           (te_request_has_body(r) || te_request_idempotent(r));
}

/*
 * The most recently used live idle connection, detached from the pool;
 * the stale ones met on the way are closed. Connections go stale when
 * the backend's idle timeout closes them, seconds after their last use;
 * under load they come back within a millisecond. So one pooled for
 * less than TE_POOL_PEEK_MS is not peeked at when the request could be
 * resent if it is dead after all (its idle watch has not fired, and a
 * close that raced with it costs one resend, as a close just after a
 * peek would). Older ones, and any for a request that could not be
 * resent, are peeked at.
 */
static te_upconn *pool_take(te_pool *pool, const te_proxy *p)
{
    int trust_recent = leg_can_resend(p);
    struct timeval now;
    te_upconn *up;

    event_base_gettimeofday_cached(pool->w->base, &now);
    while ((up = TAILQ_LAST(&pool->idle, te_upconn_list)) != NULL) {
        int recent = te_tv_ms_since(&up->idle_since, &now) < TE_POOL_PEEK_MS;

        TAILQ_REMOVE(&pool->idle, up, link);
        pool->nidle--;
        up->idle = 0;
        if (evbuffer_get_length(te_sock_in(&up->sock)) == 0 &&
            ((trust_recent && recent) || !upconn_stale(up))) {
            up->reused = 1;
            return up;
        }
        upconn_free(up);
    }
    return NULL;
}

/* ---------------------------------------------------------- connect -- */

static int new_socket(const te_backend *b)
{
    int fd, one = 1;

    fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0);
    if (fd < 0)
        return -1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
        /* not fatal: only latency suffers */
    }
    return fd;
}

/* How much response may wait unread: a whole head until it is parsed,
 * then the leg's window (backpressure toward the backend); body 0 for
 * the head. */
static void set_read_high(te_worker *w, te_sock *s, size_t body)
{
    const te_config *cf = w->cf;

    if (body == 0)
        body = TE_MAX(cf->buffer_size, cf->max_header_size + 1);
    te_sock_set_read_high(s, body);
}

static void setup_sock(te_worker *w, te_sock *s)
{
    set_read_high(w, s, 0);
    te_sock_set_write_low(s, w->cf->buffer_size / 2);
}

/*
 * A new connection to b for leg p. NULL when it failed at once: then
 * *refused is 1 when the connect itself failed (the backend's fault,
 * errno says why), 0 for a local shortage (logged here). A refusal
 * found later comes to leg_event_cb.
 */
static te_upconn *upconn_connect(te_proxy *p, const te_backend *b, int *refused)
{
    te_worker *w = p->w;
    te_upconn *up;
    int fd, err;

    *refused = 0;
    up = calloc(1, sizeof(*up));
    if (up == NULL)
        goto fail;
    fd = new_socket(b);
    if (fd < 0)
        goto fail;
    if (te_sock_init(&up->sock, w->base, fd) < 0) {
        close(fd);
        goto fail;
    }
    up->pool = &w->pools[b->index];
    up->proxy = p;
    setup_sock(w, &up->sock);
    te_sock_setcb(&up->sock, leg_read_cb, leg_write_cb, leg_event_cb, up);
    te_sock_set_timeouts(&up->sock, NULL, w->tmo.up_connect);

    up->connecting = 1;
    if (te_sock_connect(&up->sock, (const struct sockaddr *)&b->addr,
                        (socklen_t)b->addrlen) < 0) {
        err = errno;
        upconn_free(up);
        errno = err;
        *refused = 1;
        return NULL;
    }
    return up;

fail:
    te_log_errno(TE_LOG_ERROR,
                 "cannot open upstream socket req=%s shard=%s backend=%s",
                 p->req->id, b->shard->name, b->name);
    free(up); /* its socket was never set up */
    return NULL;
}

/* ----------------------------------------------------------- health -- */

/* "10s", "1500ms": a duration for a log line. */
static const char *fmt_ms(uint64_t ms, char *buf, size_t len)
{
    if (ms % 1000 == 0)
        snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
    else
        snprintf(buf, len, "%llums", (unsigned long long)ms);
    return buf;
}

/*
 * A verdict changed the backend's health (enum te_health_change): one
 * line says so (down at warn, a failed probe at info, up at notice), and
 * a backend that is down loses its idle connections, which would most
 * likely fail the probe for a reason that is not the backend's.
 */
static void pool_health_changed(te_pool *pool, int change)
{
    const te_backend *b = pool->backend;
    const te_health *h = &pool->health;
    char dur[32], tail[64];
    const char *what;
    int level;

    switch (change) {
    case TE_HEALTH_DOWN:
        level = TE_LOG_WARN;
        what = "down";
        snprintf(tail, sizeof(tail), "fails=%u for=%s", h->fails,
                 fmt_ms(h->backoff, dur, sizeof(dur)));
        break;
    case TE_HEALTH_STILL_DOWN:
        level = TE_LOG_INFO;
        what = "still down";
        snprintf(tail, sizeof(tail), "for=%s",
                 fmt_ms(h->backoff, dur, sizeof(dur)));
        break;
    case TE_HEALTH_UP:
        level = TE_LOG_NOTICE;
        what = "up";
        snprintf(tail, sizeof(tail), "after=%s",
                 fmt_ms(te_health_now() - h->down_since, dur, sizeof(dur)));
        break;
    default:
        return;
    }

    if (h->down)
        te_pool_close(pool);
    te_log(level, "backend %s, backend=%s shard=%s zone=%s worker=%u %s", what,
           b->name, b->shard->name, b->zone ? b->zone : "-", pool->w->id, tail);
}

static te_pool *leg_pool(const te_proxy *p)
{
    return &p->w->pools[p->req->backend->index];
}

/* The leg ends, or moves on, without a verdict on the backend it was
 * probing: another request may probe it. */
static void leg_unprobe(te_proxy *p)
{
    if (!p->probe)
        return;
    p->probe = 0;
    te_health_abandon(&leg_pool(p)->health);
}

/* The leg's backend failed before a response head; connect: the
 * connect itself failed. */
static void leg_health_failed(te_proxy *p, int connect)
{
    te_pool *pool = leg_pool(p);
    int change;

    change = te_health_failed(&pool->health, p->w->cf, p->probe, connect,
                              te_health_now());
    p->probe = 0;
    pool_health_changed(pool, change);
}

/* The leg's backend sent a response head. */
static void leg_health_ok(te_proxy *p)
{
    te_pool *pool = leg_pool(p);
    int change = te_health_ok(&pool->health, p->probe);

    p->probe = 0;
    pool_health_changed(pool, change);
}

/* --------------------------------------------------------------- leg -- */

void te_proxy_init(te_proxy *p, te_worker *w, te_h1_field *fields, unsigned cap,
                   const te_proxy_ops *ops, void *ctx)
{
    memset(p, 0, sizeof(*p));
    p->w = w;
    p->fields = fields;
    p->cap = cap;
    p->ops = ops;
    p->ctx = ctx;
    p->window = w->cf->buffer_size;
}

int te_proxy_ready(const te_proxy *p)
{
    return p->active && p->ready;
}

/* One line about the leg, with its context; err (an errno) is appended
 * when not 0. */
static void log_leg(te_proxy *p, int level, const char *what, int err)
{
    const te_request *r = p->req;
    const te_backend *b = r->backend;

    errno = err;
    (err ? te_log_errno : te_log)(
        level,
        "upstream %s req=%s tenant=%s shard=%s backend=%s zone=%s try=%u", what,
        r->id, r->tenant_id ? r->tenant_id : "-",
        r->shard ? r->shard->name : "-", b ? b->name : "-",
        b && b->zone ? b->zone : "-", p->tries);
}

/* The read timeout runs once the whole request is queued or the answer
 * has begun: before, the backend may rightly wait for the body. */
static void leg_set_timeouts(te_proxy *p)
{
    te_worker *w = p->w;
    int reading = p->body_done || p->head_done;

    te_sock_set_timeouts(&p->up->sock, reading ? w->tmo.up_read : NULL,
                         w->tmo.up_send);
}

/* The connection is usable: queue the head, start reading. */
static void leg_ready(te_proxy *p)
{
    p->ready = 1;
    leg_set_timeouts(p);
    te_h1_head_request(te_sock_out(&p->up->sock), p->req);
    te_sock_read_enable(&p->up->sock);
}

static void leg_attach(te_proxy *p, te_upconn *up)
{
    p->up = up;
    up->proxy = p;
    if (up->reused)
        set_read_high(p->w, &up->sock, 0);
    te_sock_setcb(&up->sock, leg_read_cb, leg_write_cb, leg_event_cb, up);
}

/* Detach the backend connection: back to the pool, or closed. */
static void leg_release(te_proxy *p, int reuse)
{
    te_upconn *up = p->up;

    p->up = NULL;
    p->active = 0;
    if (up == NULL)
        return;
    if (reuse)
        pool_put(up);
    else
        upconn_free(up);
}

/* --------------------------------------------------------- selection -- */

/* Requests placed in a shard by this worker are numbered from 1 at the
 * shard's first backend, so that te_pool.tried can say "tried by this
 * request" without a per-request set. */
static uint64_t leg_serial(te_proxy *p)
{
    const te_shard *sh = p->req->shard;

    if (sh == NULL || sh->nbackends == 0)
        return 0;
    return ++p->w->pools[sh->backends[0]->index].placed;
}

static int leg_tried(const te_proxy *p, const te_backend *b)
{
    return p->w->pools[b->index].tried == p->serial;
}

/* Is there a backend of the shard the request has not tried yet? */
static int leg_untried_left(const te_proxy *p)
{
    const te_shard *sh = p->req->shard;

    for (unsigned i = 0; sh != NULL && i < sh->nbackends; i++)
        if (!leg_tried(p, sh->backends[i]))
            return 1;
    return 0;
}

struct pick {
    te_proxy *p;
    uint64_t now;
};

/* te_route_usable_fn: not tried by this request, and up or due for a
 * probe. */
static int backend_usable(const te_backend *b, void *arg)
{
    const struct pick *pk = arg;

    if (leg_tried(pk->p, b))
        return 0;
    return te_health_usable(&pk->p->w->pools[b->index].health, pk->now);
}

/* Every backend the request has not tried is down: the one due back
 * first, so that no request is refused without trying one. NULL when
 * it tried them all. */
static const te_backend *soonest_back(const te_proxy *p)
{
    const te_shard *sh = p->req->shard;
    const te_backend *best = NULL;
    uint64_t until = 0;

    for (unsigned i = 0; sh != NULL && i < sh->nbackends; i++) {
        const te_backend *b = sh->backends[i];
        uint64_t t = p->w->pools[b->index].health.down_until;

        if (leg_tried(p, b) || (best != NULL && t >= until))
            continue;
        best = b;
        until = t;
    }
    return best;
}

/* The next backend for the request, marked as tried by it (and as
 * probed, when it is down); NULL when it tried them all. */
static const te_backend *leg_pick(te_proxy *p)
{
    te_worker *w = p->w;
    struct pick pk = {p, te_health_now()};
    const te_backend *b;
    te_pool *pool;

    leg_unprobe(p);
    b = te_route_backend(p->req->shard, w->cf->zone, p->rr, backend_usable,
                         &pk);
    if (b == NULL)
        b = soonest_back(p);
    if (b == NULL)
        return NULL;

    pool = &w->pools[b->index];
    pool->tried = p->serial;
    p->tries++;
    p->probe = te_health_begin(&pool->health);
    return b;
}

/* Try backends, each once, until one connection is under way: a live
 * pooled one, or a new one. TE_ERROR when none is left; the last
 * failure was logged and p->fail_status says what to answer. */
static te_status leg_try(te_proxy *p)
{
    te_worker *w = p->w;
    te_request *r = p->req;

    /* Bounded: each turn marks one more backend of the shard tried. */
    for (;;) {
        const te_backend *b;
        te_upconn *up;
        int refused;

        b = leg_pick(p);
        if (b == NULL)
            return TE_ERROR;
        r->backend = b;

        up = pool_take(&w->pools[b->index], p);
        if (up != NULL) {
            leg_attach(p, up);
            leg_ready(p);
            return TE_OK;
        }

        up = upconn_connect(p, b, &refused);
        if (up != NULL) {
            leg_attach(p, up);
            return TE_OK;
        }
        if (refused) {
            int err = errno;

            leg_health_failed(p, 1);
            log_leg(p, leg_untried_left(p) ? TE_LOG_INFO : TE_LOG_WARN,
                    "connect failed", err);
        }
        p->fail_status = 502;
    }
}

te_status te_proxy_start(te_proxy *p, te_request *r)
{
    p->req = r;
    p->up = NULL;
    p->active = 1;
    p->ready = 0;
    p->body_done = !te_request_has_body(r);
    p->body_sent = 0;
    p->retried = 0;
    p->replayed = 0;
    p->probe = 0;
    p->got_bytes = 0;
    p->head_done = 0;
    p->up_eof = 0;
    p->tries = 0;
    p->fail_status = 502;
    p->client_out = NULL;
    te_h1_scan_reset(&p->scan);
    p->rr = te_worker_next_rr(p->w, r->shard);
    p->serial = leg_serial(p);

    if (leg_try(p) != TE_OK) {
        p->active = 0;
        return TE_ERROR;
    }
    return TE_OK;
}

te_status te_proxy_send_body(te_proxy *p, te_body *b, struct evbuffer *in)
{
    size_t before = evbuffer_get_length(in);
    te_status rc;

    rc = te_body_move(b, in, te_sock_out(&p->up->sock), p->w->cf->buffer_size);
    if (evbuffer_get_length(in) != before)
        p->body_sent = 1;
    if (rc == TE_DONE) {
        p->body_done = 1;
        leg_set_timeouts(p);
    }
    return rc;
}

void te_proxy_abort(te_proxy *p)
{
    if (!p->active)
        return;
    leg_unprobe(p);
    leg_release(p, 0);
}

/* Ends the leg before any response head: the client answers status. */
static void leg_fail(te_proxy *p, int status)
{
    leg_unprobe(p);
    leg_release(p, 0);
    p->ops->done(p->ctx, status);
}

/* Ends the leg after the head went out: the client connection closes. */
static void leg_broken(te_proxy *p)
{
    leg_release(p, 0);
    p->ops->done(p->ctx, -1);
}

static void leg_complete(te_proxy *p)
{
    struct evbuffer *in = te_sock_in(&p->up->sock);
    int reuse = p->res.keep_alive && p->body.mode != TE_BODY_EOF &&
                p->body_done && !p->up_eof && evbuffer_get_length(in) == 0;

    leg_release(p, reuse);
    p->ops->done(p->ctx, 0);
}

/* ---------------------------------------------------------- failures -- */

/* How a backend failed a request before any response head. */
enum leg_fault {
    F_CONNECT, /* no connection: nothing was sent */
    F_RESET,   /* reset or EOF before any response byte */
    F_TIMEOUT, /* no response head in time */
    F_INVALID  /* bytes that are no response head */
};

/* Where a failed request goes next. */
enum leg_next {
    NEXT_NONE, /* nowhere: the client gets the failure */
    NEXT_SAME, /* a fresh connection to the same backend */
    NEXT_OTHER /* another backend of the shard */
};

/*
 * Where the request may go after fault without being acted on twice.
 * Not sent at all (connect failed): the next backend. No answer at all:
 * on a pooled connection the backend most likely closed it as it went
 * idle, so once a fresh connection to it, when the body never left or
 * the method is idempotent; otherwise once another backend, for an
 * idempotent method (RFC 9110 9.2.2) whose body has not left yet. A
 * timeout or a bad answer may mean the backend is working on it: never.
 */
static int leg_next(const te_proxy *p, int fault)
{
    const te_request *r = p->req;
    int next = NEXT_NONE;

    if (fault == F_CONNECT) {
        next = NEXT_OTHER;
    } else if (fault == F_RESET && p->up != NULL && p->up->reused &&
               leg_can_resend(p)) {
        next = NEXT_SAME;
    } else if (fault == F_RESET && !p->replayed && !p->body_sent &&
               te_request_idempotent(r)) {
        next = NEXT_OTHER;
    }

    if (next == NEXT_OTHER && !leg_untried_left(p))
        next = NEXT_NONE;
    return next;
}

/* The request goes to another backend (leg_try); when none is left,
 * the client gets p->fail_status. */
static void leg_move_on(te_proxy *p)
{
    p->active = 1;
    p->ready = 0;
    if (leg_try(p) != TE_OK) {
        leg_fail(p, p->fail_status);
        return;
    }
    if (p->ready && !p->body_done)
        p->ops->writable(p->ctx);
}

static void leg_fault(te_proxy *p, int fault, int status, const char *what,
                      int err);

/* The same backend again, on a fresh connection. */
static void leg_reconnect(te_proxy *p)
{
    te_upconn *up;
    int refused;

    p->active = 1;
    p->ready = 0;
    p->retried = 1;
    up = upconn_connect(p, p->req->backend, &refused);
    if (up != NULL) {
        leg_attach(p, up);
        return;
    }
    if (refused) {
        leg_fault(p, F_CONNECT, 502, "connect failed", errno);
        return;
    }
    leg_fail(p, 502);
}

/*
 * The backend failed the request before any response head: count it
 * against the backend's health (unless it only showed that a pooled
 * connection had gone stale), log it once (info when the request goes
 * on, warn when the client gets status), then go on (leg_next).
 */
static void leg_fault(te_proxy *p, int fault, int status, const char *what,
                      int err)
{
    int stale = fault == F_RESET && p->up != NULL && p->up->reused;
    int next = leg_next(p, fault);

    if (!stale)
        leg_health_failed(p, fault == F_CONNECT);
    log_leg(p, next == NEXT_NONE ? TE_LOG_WARN : TE_LOG_INFO, what, err);

    leg_release(p, 0);
    p->fail_status = status;
    if (next == NEXT_SAME) {
        leg_reconnect(p);
    } else if (next == NEXT_OTHER) {
        p->replayed = p->replayed || fault != F_CONNECT;
        leg_move_on(p);
    } else {
        leg_fail(p, status);
    }
}

/* ---------------------------------------------------------- response -- */

static int response_body_mode(const te_proxy *p)
{
    const te_h1_response *res = &p->res;

    if (!te_h1_response_has_body(p->req->method_id, res->status))
        return TE_BODY_NONE;
    if (res->chunked)
        return TE_BODY_CHUNKED;
    if (res->has_content_length)
        return TE_BODY_LENGTH;
    return TE_BODY_EOF;
}

/* The final head is parsed: hand it to the client side, which writes its
 * own head, then drop it from the input. */
static void leg_pass_head(te_proxy *p, size_t head_len)
{
    struct evbuffer *in = te_sock_in(&p->up->sock);
    int mode = response_body_mode(p);
    int out = TE_OUT_SAME;

    p->client_out = p->ops->head(p->ctx, &p->res, &out);
    te_body_init(&p->body, mode, p->res.content_length, 0, out);
    evbuffer_drain(in, head_len);
    p->head_done = 1;
    leg_health_ok(p);
    set_read_high(p->w, &p->up->sock, p->window);
    if (!p->body_done)
        leg_set_timeouts(p);
}

/* Parse response heads until the final one; interim 1xx heads are
 * dropped. TE_OK when the final head was passed on, TE_AGAIN for more
 * input, TE_ERROR when the leg was ended (502). */
static te_status leg_read_head(te_proxy *p)
{
    const te_config *cf = p->w->cf;
    struct evbuffer *in = te_sock_in(&p->up->sock);
    te_h1_limits lim = {cf->max_header_size, cf->max_header_size, p->cap};

    for (;;) {
        size_t n = TE_MIN(evbuffer_get_length(in), cf->max_header_size + 1);
        const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)n);
        int rc;

        if (n == 0)
            return TE_AGAIN;
        rc = te_h1_parse_response(&p->scan, buf, n, &lim, p->req->method_id,
                                  &p->res, p->fields, p->cap);
        if (rc == TE_H1_INCOMPLETE && n <= cf->max_header_size)
            return TE_AGAIN;
        if (rc <= 0)
            break;
        if (p->res.status == 101) {
            leg_health_ok(p);
            log_leg(p, TE_LOG_WARN, "switched protocols, not supported", 0);
            leg_fail(p, 502);
            return TE_ERROR;
        }

        if (p->res.status >= 200) {
            leg_pass_head(p, (size_t)rc);
            return TE_OK;
        }
        evbuffer_drain(in, (size_t)rc);
        te_h1_scan_reset(&p->scan);
    }

    leg_fault(p, F_INVALID, 502, "sent an invalid response head", 0);
    return TE_ERROR;
}

/* Move response body toward the client as far as its buffer allows. */
static void leg_pump(te_proxy *p)
{
    struct evbuffer *in = te_sock_in(&p->up->sock);
    uint64_t before = p->body.moved;
    te_status rc;

    rc = te_body_move(&p->body, in, p->client_out, p->window);
    p->req->bytes_out += p->body.moved - before;

    if (rc == TE_DONE) {
        leg_complete(p);
        return;
    }
    if (rc == TE_ERROR) {
        log_leg(p, TE_LOG_WARN, "sent an invalid chunked body", 0);
        leg_broken(p);
        return;
    }
    if (!p->up_eof || evbuffer_get_length(in) != 0)
        return;

    if (p->body.mode == TE_BODY_EOF) {
        leg_complete(p);
        return;
    }
    log_leg(p, TE_LOG_WARN, "closed the connection mid-response", 0);
    leg_broken(p);
}

void te_proxy_client_writable(te_proxy *p)
{
    if (p->active && p->head_done)
        leg_pump(p);
}

/* --------------------------------------------------------- callbacks -- */

static void leg_read_cb(te_sock *s, void *arg)
{
    te_upconn *up = arg;
    te_proxy *p = up->proxy;

    p->got_bytes = 1;
    if (!p->head_done && leg_read_head(p) != TE_OK)
        return;
    leg_pump(p);
}

static void leg_write_cb(te_sock *s, void *arg)
{
    te_upconn *up = arg;
    te_proxy *p = up->proxy;

    if (p->ready && !p->body_done)
        p->ops->writable(p->ctx);
}

static void leg_connected(te_proxy *p)
{
    p->up->connecting = 0;
    leg_ready(p);
    if (!p->body_done)
        p->ops->writable(p->ctx);
}

/* The backend failed before the response head: see leg_fault. */
static void leg_event_early(te_proxy *p, short what, int err)
{
    if (p->up->connecting) {
        if (what & TE_SOCK_TIMEOUT)
            leg_fault(p, F_CONNECT, 504, "timed out while connecting", 0);
        else
            leg_fault(p, F_CONNECT, 502, "connect failed", err);
    } else if (what & TE_SOCK_TIMEOUT) {
        leg_fault(p, F_TIMEOUT, 504,
                  (what & TE_SOCK_READING)
                      ? "timed out while reading the response"
                      : "timed out while sending the request",
                  0);
    } else if (p->got_bytes) {
        leg_fault(p, F_INVALID, 502,
                  "closed the connection inside the response head", 0);
    } else if (what & TE_SOCK_ERROR) {
        leg_fault(p, F_RESET, 502, "failed before responding", err);
    } else {
        leg_fault(p, F_RESET, 502, "closed the connection before responding",
                  0);
    }
}

static void leg_event_cb(te_sock *s, short what, void *arg)
{
    te_upconn *up = arg;
    te_proxy *p = up->proxy;
    int err = (what & TE_SOCK_ERROR) ? errno : 0;

    if (what & TE_SOCK_CONNECTED) {
        leg_connected(p);
        return;
    }
    if (!p->head_done) {
        leg_event_early(p, what, err);
        return;
    }

    if (what & TE_SOCK_EOF) {
        p->up_eof = 1;
        leg_pump(p);
        return;
    }
    if (what & TE_SOCK_TIMEOUT)
        log_leg(p, TE_LOG_WARN,
                (what & TE_SOCK_READING)
                    ? "timed out while reading the response"
                    : "timed out while sending the request",
                0);
    else
        log_leg(p, TE_LOG_WARN, "connection failed mid-response", err);
    leg_broken(p);
}
