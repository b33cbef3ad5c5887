/*
 * upstream.c: backend connections (pooled per worker and backend) and the
 * backend leg of a request: connect or reuse, send the head, stream the
 * body, read the response head, stream the response back. See upstream.h
 * for the contract with the client side.
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
#include "worker.h"

struct te_upconn {
    struct bufferevent *bev;
    te_pool *pool;
    te_proxy *proxy; /* the leg using it; NULL while idle */
    TAILQ_ENTRY(te_upconn) link;
    unsigned idle : 1; /* in pool->idle */
    unsigned connecting : 1;
    unsigned in_connect : 1; /* inside bufferevent_socket_connect */
    unsigned connect_failed : 1;
    unsigned reused : 1;
};

static void leg_read_cb(struct bufferevent *bev, void *arg);
static void leg_write_cb(struct bufferevent *bev, void *arg);
static void leg_event_cb(struct bufferevent *bev, short what, void *arg);

/* ------------------------------------------------------------ pool -- */

void te_pool_init(te_pool *pool, te_worker *w, const te_backend *b)
{
    pool->w = w;
    pool->backend = b;
    TAILQ_INIT(&pool->idle);
    pool->nidle = 0;
}

static void upconn_free(te_upconn *up)
{
    if (up->idle) {
        TAILQ_REMOVE(&up->pool->idle, up, link);
        up->pool->nidle--;
    }
    bufferevent_free(up->bev);
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
static void idle_read_cb(struct bufferevent *bev, void *arg)
{
    upconn_free(arg);
}

static void idle_event_cb(struct bufferevent *bev, short what, void *arg)
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

    bufferevent_setcb(up->bev, idle_read_cb, NULL, idle_event_cb, up);
    bufferevent_set_timeouts(up->bev, w->tmo.up_idle, w->tmo.up_send);
    bufferevent_enable(up->bev, EV_READ);
    TAILQ_INSERT_TAIL(&pool->idle, up, link);
    pool->nidle++;
    up->idle = 1;
}

/* The most recently used idle connection, detached from the pool. */
static te_upconn *pool_take(te_pool *pool)
{
    te_upconn *up = TAILQ_LAST(&pool->idle, te_upconn_list);

    if (up == NULL)
        return NULL;
    TAILQ_REMOVE(&pool->idle, up, link);
    pool->nidle--;
    up->idle = 0;
    up->reused = 1;
    return up;
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
 * then buffer_size (backpressure toward the backend). */
static void set_read_high(te_worker *w, struct bufferevent *bev, int head)
{
    const te_config *cf = w->cf;
    size_t high = cf->buffer_size;

    if (head)
        high = TE_MAX(high, cf->max_header_size + 1);
    bufferevent_setwatermark(bev, EV_READ, 0, high);
}

static void setup_bev(te_worker *w, struct bufferevent *bev)
{
    set_read_high(w, bev, 1);
    bufferevent_setwatermark(bev, EV_WRITE, w->cf->buffer_size / 2, 0);
}

/* A new connection to b for leg p; NULL (logged) when it failed at once.
 * A refusal found later comes to leg_event_cb. */
static te_upconn *upconn_connect(te_proxy *p, const te_backend *b)
{
    te_worker *w = p->w;
    te_upconn *up;
    int fd, rc;

    up = calloc(1, sizeof(*up));
    if (up == NULL)
        goto fail;
    fd = new_socket(b);
    if (fd < 0)
        goto fail;
    up->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (up->bev == NULL) {
        close(fd);
        goto fail;
    }
    up->pool = &w->pools[b->index];
    up->proxy = p;
    setup_bev(w, up->bev);
    bufferevent_setcb(up->bev, leg_read_cb, leg_write_cb, leg_event_cb, up);
    bufferevent_set_timeouts(up->bev, NULL, w->tmo.up_connect);

    up->connecting = 1;
    up->in_connect = 1;
    rc = bufferevent_socket_connect(up->bev, (struct sockaddr *)&b->addr,
                                    (int)b->addrlen);
    up->in_connect = 0;
    if (rc < 0 || up->connect_failed) {
        te_log_errno(TE_LOG_WARN,
                     "upstream connect failed req=%s tenant=%s backend=%s",
                     p->req->id, p->req->tenant_id, b->name);
        upconn_free(up);
        return NULL;
    }
    return up;

fail:
    te_log_errno(TE_LOG_ERROR, "cannot open upstream socket req=%s backend=%s",
                 p->req->id, b->name);
    if (up != NULL && up->bev == NULL)
        free(up);
    return NULL;
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
}

int te_proxy_ready(const te_proxy *p)
{
    return p->active && p->ready;
}

/* The read timeout runs once the whole request is queued or the answer
 * has begun: before, the backend may rightly wait for the body. */
static void leg_set_timeouts(te_proxy *p)
{
    te_worker *w = p->w;
    int reading = p->body_done || p->head_done;

    bufferevent_set_timeouts(p->up->bev, reading ? w->tmo.up_read : NULL,
                             w->tmo.up_send);
}

/* The connection is usable: queue the head, start reading. */
static void leg_ready(te_proxy *p)
{
    p->ready = 1;
    leg_set_timeouts(p);
    te_h1_head_request(bufferevent_get_output(p->up->bev), p->req);
    bufferevent_enable(p->up->bev, EV_READ | EV_WRITE);
}

static void leg_attach(te_proxy *p, te_upconn *up)
{
    p->up = up;
    up->proxy = p;
    if (up->reused)
        set_read_high(p->w, up->bev, 1);
    bufferevent_setcb(up->bev, leg_read_cb, leg_write_cb, leg_event_cb, up);
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

/* Try the shard's candidates from p->attempt on until one connection is
 * under way. TE_ERROR when none is left (p->fail_status says why). */
static te_status leg_try(te_proxy *p)
{
    te_worker *w = p->w;
    te_request *r = p->req;

    for (;;) {
        const te_backend *b;
        te_upconn *up;

        b = te_route_backend(r->shard, w->cf->zone, p->rr, p->attempt);
        if (b == NULL)
            return TE_ERROR;
        r->backend = b;

        up = pool_take(&w->pools[b->index]);
        if (up != NULL) {
            leg_attach(p, up);
            leg_ready(p);
            return TE_OK;
        }

        up = upconn_connect(p, b);
        if (up != NULL) {
            leg_attach(p, up);
            return TE_OK;
        }
        p->fail_status = 502;
        p->attempt++;
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
    p->got_bytes = 0;
    p->head_done = 0;
    p->up_eof = 0;
    p->attempt = 0;
    p->fail_status = 502;
    p->client_out = NULL;
    te_h1_scan_reset(&p->scan);
    p->rr = te_worker_next_rr(p->w, r->shard);

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

    rc = te_body_move(b, in, bufferevent_get_output(p->up->bev),
                      p->w->cf->buffer_size);
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
    if (p->active)
        leg_release(p, 0);
}

/* Ends the leg before any response head: the client answers status. */
static void leg_fail(te_proxy *p, int status)
{
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
    struct evbuffer *in = bufferevent_get_input(p->up->bev);
    int reuse = p->res.keep_alive && p->body.mode != TE_BODY_EOF &&
                p->body_done && !p->up_eof && evbuffer_get_length(in) == 0;

    leg_release(p, reuse);
    p->ops->done(p->ctx, 0);
}

/* ---------------------------------------------------------- response -- */

static void log_leg(te_proxy *p, int level, const char *what)
{
    te_log(level, "upstream %s req=%s tenant=%s backend=%s", what, p->req->id,
           p->req->tenant_id ? p->req->tenant_id : "-",
           p->req->backend ? p->req->backend->name : "-");
}

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
    struct evbuffer *in = bufferevent_get_input(p->up->bev);
    int mode = response_body_mode(p);
    int out = TE_OUT_SAME;

    p->client_out = p->ops->head(p->ctx, &p->res, &out);
    te_body_init(&p->body, mode, p->res.content_length, 0, out);
    evbuffer_drain(in, head_len);
    p->head_done = 1;
    set_read_high(p->w, p->up->bev, 0);
    if (!p->body_done)
        leg_set_timeouts(p);
}

/* Parse response heads until the final one; interim 1xx heads are
 * dropped. TE_OK when the final head was passed on, TE_AGAIN for more
 * input, TE_ERROR when the leg was ended (502). */
static te_status leg_read_head(te_proxy *p)
{
    const te_config *cf = p->w->cf;
    struct evbuffer *in = bufferevent_get_input(p->up->bev);
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
        if (rc <= 0 || p->res.status == 101)
            break;

        if (p->res.status >= 200) {
            leg_pass_head(p, (size_t)rc);
            return TE_OK;
        }
        evbuffer_drain(in, (size_t)rc);
        te_h1_scan_reset(&p->scan);
    }

    log_leg(p, TE_LOG_WARN, "sent an invalid response head");
    leg_fail(p, 502);
    return TE_ERROR;
}

/* Move response body toward the client as far as its buffer allows. */
static void leg_pump(te_proxy *p)
{
    struct evbuffer *in = bufferevent_get_input(p->up->bev);
    uint64_t before = p->body.moved;
    te_status rc;

    rc = te_body_move(&p->body, in, p->client_out, p->w->cf->buffer_size);
    p->req->bytes_out += p->body.moved - before;

    if (rc == TE_DONE) {
        leg_complete(p);
        return;
    }
    if (rc == TE_ERROR) {
        log_leg(p, TE_LOG_WARN, "sent an invalid chunked body");
        leg_broken(p);
        return;
    }
    if (!p->up_eof || evbuffer_get_length(in) != 0)
        return;

    if (p->body.mode == TE_BODY_EOF) {
        leg_complete(p);
        return;
    }
    log_leg(p, TE_LOG_WARN, "closed the connection mid-response");
    leg_broken(p);
}

void te_proxy_client_writable(te_proxy *p)
{
    if (p->active && p->head_done)
        leg_pump(p);
}

/* --------------------------------------------------------- callbacks -- */

static void leg_read_cb(struct bufferevent *bev, void *arg)
{
    te_upconn *up = arg;
    te_proxy *p = up->proxy;

    p->got_bytes = 1;
    if (!p->head_done && leg_read_head(p) != TE_OK)
        return;
    leg_pump(p);
}

static void leg_write_cb(struct bufferevent *bev, void *arg)
{
    te_upconn *up = arg;
    te_proxy *p = up->proxy;

    if (p->ready && !p->body_done)
        p->ops->writable(p->ctx);
}

/* A stale pooled connection that failed before any response byte may be
 * replaced once, when the backend cannot have acted on the request: the
 * body never left, or the method is idempotent (RFC 9110 9.2.2). */
static int leg_may_retry(const te_proxy *p)
{
    if (!p->up->reused || p->retried || p->got_bytes || p->body_sent)
        return 0;
    return te_request_has_body(p->req) || te_request_idempotent(p->req);
}

static void leg_retry(te_proxy *p)
{
    te_upconn *up;

    log_leg(p, TE_LOG_DEBUG, "pooled connection failed, retrying");
    leg_release(p, 0);
    p->active = 1;
    p->ready = 0;
    p->retried = 1;

    up = upconn_connect(p, p->req->backend);
    if (up == NULL) {
        leg_fail(p, 502);
        return;
    }
    leg_attach(p, up);
}

/* Connecting failed (refused, unreachable, timed out): next candidate. */
static void leg_connect_failed(te_proxy *p, short what)
{
    int timeout = (what & BEV_EVENT_TIMEOUT) != 0;

    if (timeout)
        log_leg(p, TE_LOG_WARN, "timed out while connecting");
    else
        te_log_errno(TE_LOG_WARN,
                     "upstream connect failed req=%s tenant=%s backend=%s",
                     p->req->id, p->req->tenant_id, p->req->backend->name);

    leg_release(p, 0);
    p->active = 1;
    p->fail_status = timeout ? 504 : 502;
    p->attempt++;
    if (leg_try(p) != TE_OK) {
        leg_fail(p, p->fail_status);
        return;
    }
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

static void leg_event_cb(struct bufferevent *bev, short what, void *arg)
{
    te_upconn *up = arg;
    te_proxy *p = up->proxy;

    if (up->in_connect) {
        up->connect_failed = 1;
        return;
    }
    if (what & BEV_EVENT_CONNECTED) {
        leg_connected(p);
        return;
    }
    if (up->connecting) {
        leg_connect_failed(p, what);
        return;
    }

    if ((what & BEV_EVENT_EOF) && p->head_done) {
        p->up_eof = 1;
        leg_pump(p);
        return;
    }
    if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) && leg_may_retry(p)) {
        leg_retry(p);
        return;
    }

    if (what & BEV_EVENT_TIMEOUT)
        log_leg(p, TE_LOG_WARN,
                (what & BEV_EVENT_READING)
                    ? "timed out while reading the response"
                    : "timed out while sending the request");
    else if (what & BEV_EVENT_EOF)
        log_leg(p, TE_LOG_WARN, "closed the connection before responding");
    else
        te_log_errno(TE_LOG_WARN,
                     "upstream connection failed req=%s "
                     "tenant=%s backend=%s",
                     p->req->id, p->req->tenant_id, p->req->backend->name);

    if (p->head_done)
        leg_broken(p);
    else
        leg_fail(p, (what & BEV_EVENT_TIMEOUT) ? 504 : 502);
}
