/*
 * http1_conn.c: an HTTP/1.1 client connection from accept to close.
 *
 * Requests are handled one at a time, in order: the next head stays in
 * the input buffer until the response before it is complete, which is
 * all pipelining needs. A request whose head or body framing is wrong is
 * answered here and the connection closes: nothing of it reaches a
 * backend, and nothing after it is read as a request. Everything else
 * goes through the module chain (chain.c), which answers it, or routes
 * it to an upstream leg (upstream.c) that calls back through conn_ops.
 * While a module waits (a Redis lookup), the connection reads nothing
 * more of the client's; if the client goes away meanwhile, the request
 * ends there and its cleanups withdraw the module's work.
 *
 * The connection, its field arrays and its request state are one
 * allocation, reused across keep-alive requests; the request's module
 * memory is an arena kept with it.
 *
 * Over TLS (the handshake is done in handshake.c, ALPN chose http/1.1)
 * the only differences are the te_sock's ops, X-Forwarded-Proto https
 * and the Strict-Transport-Security field on responses.
 */
#include "http1_conn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "arena.h"
#include "body.h"
#include "chain.h"
#include "http1_head.h"
#include "http1_parser.h"
#include "log.h"
#include "request.h"
#include "sock.h"
#include "tls.h"
#include "upstream.h"
#include "worker.h"

/* Heads up to this size need no buffer beyond the connection's own. */
#define TE_HEAD_INLINE 1024

/* Chunked body bytes checked before a request is admitted, if the client
 * sent them with the head (conn_admit). */
#define TE_ADMIT_CHUNKED (2 * TE_H1_MAX_CHUNK_EXT)

enum conn_state {
    C_IDLE,   /* between requests, nothing buffered */
    C_HEAD,   /* reading a head (header timeout runs) */
    C_CHAIN,  /* a module suspended the request; input waits */
    C_BODY,   /* request routed, its body still coming */
    C_WAIT,   /* body complete, the response pending or going out */
    C_FLUSH,  /* last bytes going out, then shut down */
    C_LINGER, /* shut down; input discarded until EOF or timeout */
    C_DEAD    /* to be freed from the resume event */
};

struct te_h1_conn {
    te_worker *w;
    te_sock sock;
    TAILQ_ENTRY(te_h1_conn) link;
    struct event timer;  /* keep-alive, header, linger */
    struct event resume; /* continue outside the current stack */

    int state;               /* enum conn_state */
    unsigned keep_alive : 1; /* another request may follow this one */
    unsigned client_eof : 1; /* the client will send nothing more */
    unsigned expect : 1;     /* 100 Continue still owed */
    unsigned head_sent : 1;  /* a response head went out */
    unsigned in_request : 1; /* a request is being handled */
    unsigned logged : 1;     /* its access line is written */
    unsigned linger : 1;     /* the client may still be sending */

    te_h1_scan scan;
    te_h1_request h1;
    te_request req;
    te_body body;
    te_proxy proxy;
    te_arena arena; /* the request's module memory */

    char *head; /* head_inline, or head_heap when big */
    char *head_heap;
    size_t head_have; /* bytes copied from the input */
    size_t head_cap;
    te_h1_field *fields; /* max_headers, the request's */
    char addr[INET6_ADDRSTRLEN];
    char head_inline[TE_HEAD_INLINE];
    te_h1_field field_store[]; /* 2 * max_headers: request, response */
};

static void conn_read_head(te_h1_conn *c);
static void conn_close_after_flush(te_h1_conn *c);
static void conn_finish_request(te_h1_conn *c);

/* -------------------------------------------------------- lifecycle -- */

static void conn_log(te_h1_conn *c)
{
    struct timeval now;

    if (c->logged || !c->in_request)
        return;
    c->logged = 1;
    if (c->req.status == 0)
        c->req.status = 499; /* the client left before an answer */
    te_chain_log(&c->req);
    event_base_gettimeofday_cached(c->w->base, &now);
    te_request_access_log(&c->req, &now);
    te_request_end(&c->req);
}

static void conn_free(te_h1_conn *c)
{
    te_worker *w = c->w;

    te_proxy_abort(&c->proxy);
    conn_log(c);
    event_del(&c->timer);
    event_del(&c->resume);
    te_sock_close(&c->sock);
    TAILQ_REMOVE(&w->conns, c, link);
    te_arena_free(&c->arena);
    free(c->head_heap);
    free(c);
    te_worker_conn_removed(w);
}

/* Free from the resume event: safe from inside the upstream leg. */
static void conn_close_soon(te_h1_conn *c)
{
    te_proxy_abort(&c->proxy);
    c->state = C_DEAD;
    event_del(&c->timer);
    te_sock_stop(&c->sock);
    event_active(&c->resume, EV_TIMEOUT, 0);
}

/* Ready for the next head: forget the last request. */
static void conn_reset_request(te_h1_conn *c)
{
    c->head_have = 0;
    te_h1_scan_reset(&c->scan);
    te_request_reset(&c->req);
    c->expect = 0;
    c->head_sent = 0;
    c->in_request = 0;
    c->logged = 0;
}

/* How much input may wait unread: a whole head while one is read, then
 * buffer_size while a body streams (backpressure toward the client). */
static void conn_read_high(te_h1_conn *c, int head)
{
    const te_config *cf = c->w->cf;
    size_t high = cf->buffer_size;

    if (head)
        high = TE_MAX(high, cf->max_header_size + 1);
    te_sock_set_read_high(&c->sock, high);
}

/* Enter C_HEAD: the header timeout runs from the first byte (from the
 * accept for a new connection). arm 0: the caller arms it only if the
 * head turns out incomplete; a head that came whole in one read then
 * costs no timer change (the keep-alive timer is dropped when the
 * request starts). */
static void conn_begin_head(te_h1_conn *c, int arm)
{
    c->state = C_HEAD;
    event_base_gettimeofday_cached(c->w->base, &c->req.start);
    if (arm)
        event_add(&c->timer, c->w->tmo.header);
}

/* Bytes the kernel holds that we have not read yet. */
static int conn_unread(te_h1_conn *c)
{
    int n = 0;

    if (ioctl(te_sock_fd(&c->sock), FIONREAD, &n) < 0)
        return 0;
    return n > 0;
}

static void conn_linger(te_h1_conn *c)
{
    struct evbuffer *in = te_sock_in(&c->sock);

    te_sock_shutdown(&c->sock); /* TLS: close_notify before the FIN */
    if (c->client_eof || (!c->linger && !conn_unread(c))) {
        conn_close_soon(c);
        return;
    }
    c->state = C_LINGER;
    evbuffer_drain(in, evbuffer_get_length(in));
    te_sock_set_timeouts(&c->sock, NULL, NULL);
    te_sock_read_enable(&c->sock);
    event_add(&c->timer, c->w->tmo.linger);
}

/* The last response goes out, then the connection closes. When the
 * client may still be sending (a refused head or body, bytes not read
 * yet) the close lingers: closing with unread input would reset the
 * connection and could destroy our answer before the client reads it. */
static void conn_close_after_flush(te_h1_conn *c)
{
    te_proxy_abort(&c->proxy);
    c->linger = c->state == C_HEAD || c->state == C_BODY ||
                evbuffer_get_length(te_sock_in(&c->sock)) > 0;
    c->state = C_FLUSH;
    event_del(&c->timer);
    te_sock_read_disable(&c->sock);
    te_sock_set_write_low(&c->sock, 0);
    if (evbuffer_get_length(te_sock_out(&c->sock)) == 0)
        conn_linger(c);
}

/* An answer from the edge itself (a refused request, a failed backend):
 * it always closes the connection. */
static void conn_respond_error(te_h1_conn *c, int status)
{
    struct evbuffer *out = te_sock_out(&c->sock);
    te_request *r = &c->req;

    if (r->id_len == 0)
        te_reqid_next(&c->w->ids, r->id, &r->id_len);
    r->status = status;
    r->bytes_out += te_h1_write_error(
        out, status, r->id, r->https ? te_tls_hsts(c->w->tls) : NULL);
    c->head_sent = 1;
    c->in_request = 1;
    conn_log(c);
    conn_close_after_flush(c);
}

/* ------------------------------------------------------------- body -- */

static void conn_body_failed(te_h1_conn *c)
{
    te_log(TE_LOG_INFO, "refused request body status=%d req=%s tenant=%s",
           c->body.status, c->req.id,
           c->req.tenant_id ? c->req.tenant_id : "-");
    te_proxy_abort(&c->proxy);
    if (!c->head_sent) {
        conn_respond_error(c, c->body.status);
        return;
    }
    conn_close_soon(c);
}

/* Move what the client sent of the body toward the backend, as far as
 * the backend's buffer allows; more comes from the leg's writable call. */
static void conn_pump_body(te_h1_conn *c)
{
    struct evbuffer *in = te_sock_in(&c->sock);
    te_status rc;

    if (c->state != C_BODY || !te_proxy_ready(&c->proxy))
        return;

    if (c->expect) {
        c->expect = 0;
        evbuffer_add(te_sock_out(&c->sock), "HTTP/1.1 100 Continue\r\n\r\n",
                     25);
    }

    rc = te_proxy_send_body(&c->proxy, &c->body, in);
    if (rc == TE_DONE) {
        c->state = C_WAIT;
        te_sock_set_timeouts(&c->sock, NULL, c->w->tmo.send);
    } else if (rc == TE_ERROR) {
        conn_body_failed(c);
    }
}

/* ---------------------------------------------------------- request -- */

static void conn_fill_request(te_h1_conn *c)
{
    te_request *r = &c->req;
    const te_h1_request *h = &c->h1;

    r->method = h->method;
    r->method_len = h->method_len;
    r->method_id = h->method_id;
    r->path = h->path;
    r->path_len = h->path_len;
    r->host = h->host;
    r->host_len = h->host_len;
    r->fields = h->fields;
    r->nfields = h->nfields;
    r->content_length = h->content_length;
    r->has_content_length = h->has_content_length;
    r->chunked = h->chunked;
    te_request_set_id(r, &c->w->ids);
}

/* Check what the protocol alone can check, before any module or backend
 * sees the request; 0 when it may go on, else the status to answer. */
static int conn_admit(te_h1_conn *c)
{
    const te_config *cf = c->w->cf;
    te_request *r = &c->req;
    int mode = TE_BODY_NONE, out = TE_OUT_SAME;

    if (c->h1.method_id == TE_H1_CONNECT)
        return 501;
    /* client_max_body_size 0 is no limit, for both framings: te_body
     * reads max 0 the same way for a chunked body. */
    if (r->has_content_length && cf->max_body_size != 0 &&
        r->content_length > cf->max_body_size)
        return 413;

    if (r->chunked) {
        mode = TE_BODY_CHUNKED;
        out = TE_OUT_RECHUNK;
    } else if (te_request_has_body(r)) {
        mode = TE_BODY_LENGTH;
    }
    te_body_init(&c->body, mode, r->content_length, cf->max_body_size, out);

    /* Smuggling: a bad chunk that came with the head must be refused
     * before the head goes anywhere. What came with it may still be in
     * the kernel (one read takes what its size allows), so take that
     * too: enough for a whole chunk line at its limit and then some. */
    if (mode == TE_BODY_CHUNKED)
        te_sock_fill(&c->sock, TE_ADMIT_CHUNKED);
    if (te_body_check(&c->body, te_sock_in(&c->sock)) != TE_OK)
        return c->body.status;
    return 0;
}

/* A module answered (te_respond): the answer goes out, and the
 * connection stays open when nothing of the request is left unread. */
static void conn_answer(te_h1_conn *c)
{
    struct evbuffer *out = te_sock_out(&c->sock);
    te_request *r = &c->req;
    int keep = c->keep_alive && !te_request_has_body(r) && !c->w->draining;
    unsigned flags = 0;

    te_chain_response(r);
    if (!keep)
        flags |= TE_H1_HEAD_CLOSE;
    else if (c->h1.version_minor == 0)
        flags |= TE_H1_HEAD_KEEP_ALIVE;
    c->keep_alive = keep;
    c->head_sent = 1;
    r->status = r->answer_status;
    r->bytes_out +=
        te_h1_write_answer(out, r, flags, r->method_id == TE_H1_HEAD);

    /* an unread body makes the close linger (conn_close_after_flush) */
    c->state = te_request_has_body(r) ? C_BODY : C_WAIT;
    if (!keep) {
        conn_log(c);
        conn_close_after_flush(c);
        return;
    }
    conn_finish_request(c);
}

/* The chain let the request through: on to the shard it chose. */
static void conn_forward(te_h1_conn *c)
{
    te_worker *w = c->w;
    te_request *r = &c->req;

    if (r->broken || r->shard == NULL) {
        if (r->broken)
            te_request_log(r, TE_MLOG_ERROR,
                           "out of memory preparing the request");
        te_respond_error(r, r->broken ? 503 : 404,
                         r->broken ? "service unavailable" : "no route");
        conn_answer(c);
        return;
    }

    if (te_request_has_body(r)) {
        c->state = C_BODY;
        conn_read_high(c, 0);
        c->expect = c->h1.expect_continue && c->h1.version_minor == 1;
        te_sock_set_timeouts(&c->sock, w->tmo.body, w->tmo.send);
    } else {
        c->state = C_WAIT;
    }

    if (te_proxy_start(&c->proxy, r) != TE_OK) {
        conn_respond_error(c, c->proxy.fail_status);
        return;
    }
    conn_pump_body(c);
}

/* Where a run of the chain leaves the request (see te_chain_run). */
static void conn_after_chain(te_h1_conn *c, te_status rc)
{
    if (rc == TE_AGAIN) {
        c->state = C_CHAIN; /* req_wake comes, or the client leaves */
        return;
    }
    if (rc == TE_DONE)
        conn_answer(c);
    else
        conn_forward(c);
}

/* te_request_resume came: go on from the event loop, not from inside
 * the module's callback. */
static void req_wake(void *ctx)
{
    te_h1_conn *c = ctx;

    event_active(&c->resume, EV_TIMEOUT, 0);
}

static const te_request_ops req_ops = {
    .wake = req_wake,
};

/* RFC 6797 7.1: over TLS every response carries the configured
 * Strict-Transport-Security, proxied answers and module answers alike
 * (the response fields of the request). -1 when out of memory. */
static int conn_add_hsts(te_h1_conn *c)
{
    const char *hsts;

    if (!c->req.https || c->w->tls == NULL)
        return 0;
    hsts = te_tls_hsts(c->w->tls);
    if (hsts == NULL)
        return 0;
    return te_response_add_header(&c->req, "Strict-Transport-Security", hsts);
}

static void conn_start_request(te_h1_conn *c)
{
    te_worker *w = c->w;
    int status;

    event_del(&c->timer);
    c->in_request = 1;
    conn_fill_request(c);
    c->keep_alive = c->h1.keep_alive && !w->draining;

    status = conn_admit(c);
    if (status == 0 &&
        (te_request_begin(&c->req) < 0 || conn_add_hsts(c) < 0)) {
        te_log(TE_LOG_ERROR, "out of memory starting a request req=%s",
               c->req.id);
        status = 503;
    }
    if (status != 0) {
        conn_respond_error(c, status);
        return;
    }

    c->state = C_CHAIN;
    conn_after_chain(c, te_chain_run(&c->req));
}

/* ------------------------------------------------------------- head -- */

/* Room for want head bytes; the big buffer is taken once, at the limit,
 * and kept for the connection's life. */
static int conn_head_reserve(te_h1_conn *c, size_t want)
{
    size_t limit = c->w->cf->max_header_size + 1;

    if (want <= c->head_cap)
        return 0;
    if (c->head_heap == NULL) {
        c->head_heap = malloc(limit);
        if (c->head_heap == NULL)
            return -1;
    }
    memcpy(c->head_heap, c->head, c->head_have);
    c->head = c->head_heap;
    c->head_cap = limit;
    return 0;
}

/* Copy the new input bytes (up to the head limit) after those already
 * copied; the head parser then sees one contiguous buffer that stays put
 * for the request's life, so te_request can point into it. */
static int conn_head_fill(te_h1_conn *c, struct evbuffer *in)
{
    size_t limit = c->w->cf->max_header_size + 1;
    size_t want = TE_MIN(evbuffer_get_length(in), limit);
    struct evbuffer_ptr pos;

    if (want <= c->head_have)
        return 0;
    if (conn_head_reserve(c, want) < 0)
        return -1;
    evbuffer_ptr_set(in, &pos, c->head_have, EVBUFFER_PTR_SET);
    if (evbuffer_copyout_from(in, &pos, c->head + c->head_have,
                              want - c->head_have) < 0)
        return -1;
    c->head_have = want;
    return 0;
}

static void conn_read_head(te_h1_conn *c)
{
    const te_config *cf = c->w->cf;
    struct evbuffer *in = te_sock_in(&c->sock);
    te_h1_limits lim = {cf->max_request_line, cf->max_header_size,
                        cf->max_headers};
    int fresh = 0;
    int rc;

    if (evbuffer_get_length(in) == 0) {
        if (c->client_eof)
            conn_close_after_flush(c);
        return;
    }
    if (c->state == C_IDLE) {
        conn_begin_head(c, 0);
        fresh = 1;
    }

    if (conn_head_fill(c, in) < 0) {
        te_log_errno(TE_LOG_ERROR, "cannot buffer request head client=%s",
                     c->addr);
        conn_respond_error(c, 503);
        return;
    }

    rc = te_h1_parse_request(&c->scan, c->head, c->head_have, &lim, &c->h1,
                             c->fields, cf->max_headers);
    if (rc == TE_H1_INCOMPLETE) {
        if (fresh)
            event_add(&c->timer, c->w->tmo.header);
        if (c->head_have > cf->max_header_size)
            conn_respond_error(c, 431);
        else if (c->client_eof)
            conn_close_after_flush(c);
        return;
    }
    if (rc < 0) {
        conn_respond_error(c, -rc);
        return;
    }

    evbuffer_drain(in, (size_t)rc);
    conn_start_request(c);
}

/* The response is complete: next request, or close. */
static void conn_finish_request(te_h1_conn *c)
{
    struct evbuffer *in = te_sock_in(&c->sock);

    conn_log(c);
    if (c->state == C_BODY || !c->keep_alive || c->w->draining) {
        conn_close_after_flush(c);
        return;
    }

    conn_reset_request(c);
    conn_read_high(c, 1);
    c->state = C_IDLE;
    if (evbuffer_get_length(in) > 0) {
        event_active(&c->resume, EV_TIMEOUT, 0);
        return;
    }
    if (c->client_eof) {
        conn_close_after_flush(c);
        return;
    }
    event_add(&c->timer, c->w->tmo.keepalive);
}

/* --------------------------------------------- calls from the leg -- */

static void ops_writable(void *ctx)
{
    conn_pump_body(ctx);
}

static struct evbuffer *ops_head(void *ctx, const te_h1_response *res,
                                 int *out_mode)
{
    te_h1_conn *c = ctx;
    int has_body = te_h1_response_has_body(c->req.method_id, res->status);
    int keep = c->keep_alive && c->state != C_BODY && !c->w->draining;
    unsigned flags = 0;

    *out_mode = TE_OUT_SAME;
    if (has_body && res->chunked) {
        if (c->h1.version_minor == 1)
            flags |= TE_H1_HEAD_CHUNKED;
        else
            *out_mode = TE_OUT_PAYLOAD; /* HTTP/1.0: close-delimited */
    }
    if (has_body && !(flags & TE_H1_HEAD_CHUNKED) && !res->has_content_length)
        keep = 0;

    if (!keep)
        flags |= TE_H1_HEAD_CLOSE;
    else if (c->h1.version_minor == 0)
        flags |= TE_H1_HEAD_KEEP_ALIVE;

    c->keep_alive = keep;
    c->expect = 0;
    c->head_sent = 1;
    c->req.status = res->status;
    te_chain_response(&c->req);
    c->req.bytes_out +=
        te_h1_head_response(te_sock_out(&c->sock), res, &c->req, flags);
    return te_sock_out(&c->sock);
}

static void ops_done(void *ctx, int result)
{
    te_h1_conn *c = ctx;

    if (result > 0) {
        conn_respond_error(c, result);
        return;
    }
    if (result < 0) {
        /* What was received goes out, then the connection ends: a short
         * body the client can see is short, never one made complete. */
        conn_log(c);
        conn_close_after_flush(c);
        return;
    }
    conn_finish_request(c);
}

static const te_proxy_ops conn_ops = {
    .writable = ops_writable,
    .head = ops_head,
    .done = ops_done,
};

/* -------------------------------------------------------- callbacks -- */

static void conn_read_cb(te_sock *s, void *arg)
{
    te_h1_conn *c = arg;
    struct evbuffer *in = te_sock_in(s);

    switch (c->state) {
    case C_IDLE:
    case C_HEAD:
        conn_read_head(c);
        break;
    case C_BODY:
        conn_pump_body(c);
        break;
    case C_LINGER:
        evbuffer_drain(in, evbuffer_get_length(in));
        break;
    default:
        break; /* pipelined bytes wait for their turn */
    }
}

static void conn_write_cb(te_sock *s, void *arg)
{
    te_h1_conn *c = arg;

    if (c->state == C_FLUSH) {
        if (evbuffer_get_length(te_sock_out(s)) == 0)
            conn_linger(c);
        return;
    }
    if (c->proxy.active)
        te_proxy_client_writable(&c->proxy);
}

/* The client half-closed. Requests already received are still answered;
 * a body cut short or a partial head ends the connection. */
static void conn_eof(te_h1_conn *c)
{
    c->client_eof = 1;

    switch (c->state) {
    case C_IDLE:
    case C_HEAD:
        conn_read_head(c);
        break;
    case C_BODY:
        te_log(TE_LOG_INFO, "client closed during the body req=%s", c->req.id);
        conn_free(c);
        break;
    case C_CHAIN:
        /* like nginx's 499: nobody is left to answer; the request's
         * cleanups withdraw the module's work */
        te_request_log(&c->req, TE_MLOG_INFO,
                       "client closed while the request waited");
        conn_free(c);
        break;
    case C_LINGER:
        conn_free(c);
        break;
    default:
        break;
    }
}

static void conn_event_cb(te_sock *s, short what, void *arg)
{
    te_h1_conn *c = arg;

    if ((what & TE_SOCK_EOF) && !(what & TE_SOCK_ERROR)) {
        conn_eof(c);
        return;
    }

    if ((what & TE_SOCK_TIMEOUT) && (what & TE_SOCK_READING) &&
        c->state == C_BODY) {
        te_log(TE_LOG_INFO, "client timed out while sending the body req=%s",
               c->req.id);
        te_proxy_abort(&c->proxy);
        if (!c->head_sent) {
            conn_respond_error(c, 408);
            return;
        }
    } else if (what & TE_SOCK_TIMEOUT) {
        te_log(TE_LOG_INFO, "client timed out while %s req=%s client=%s",
               (what & TE_SOCK_WRITING) ? "receiving" : "sending",
               c->req.id_len ? c->req.id : "-", c->addr);
    }
    conn_free(c);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    te_h1_conn *c = arg;
    struct evbuffer *out = te_sock_out(&c->sock);

    switch (c->state) {
    case C_IDLE:
        /* A response may still be going out: send_timeout covers it. */
        if (evbuffer_get_length(out) > 0) {
            event_add(&c->timer, c->w->tmo.keepalive);
            return;
        }
        conn_free(c);
        return;
    case C_HEAD:
        if (c->head_have == 0) {
            conn_free(c);
            return;
        }
        te_log(TE_LOG_INFO,
               "client timed out while sending the head "
               "client=%s",
               c->addr);
        conn_respond_error(c, 408);
        return;
    default:
        conn_free(c);
        return;
    }
}

static void conn_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    te_h1_conn *c = arg;

    if (c->state == C_DEAD) {
        conn_free(c);
        return;
    }
    if (c->state == C_CHAIN) {
        conn_after_chain(c, te_chain_run(&c->req));
        return;
    }
    if (c->state == C_IDLE)
        conn_read_head(c);
}

/* ----------------------------------------------------------- accept -- */

static te_h1_conn *conn_alloc(te_worker *w)
{
    unsigned nf = w->cf->max_headers;
    size_t size;
    te_h1_conn *c;

    if (!te_size_mul((size_t)nf, 2 * sizeof(te_h1_field), &size) ||
        !te_size_add(size, sizeof(*c), &size))
        return NULL;
    c = calloc(1, size);
    if (c == NULL)
        return NULL;

    c->w = w;
    c->head = c->head_inline;
    c->head_cap = sizeof(c->head_inline);
    c->fields = c->field_store;
    te_arena_init(&c->arena);
    c->req.client_addr = c->addr;
    c->req.arena = &c->arena;
    c->req.w = w;
    c->req.ops = &req_ops;
    c->req.ops_ctx = c;
    te_proxy_init(&c->proxy, w, c->field_store + nf, nf, &conn_ops, c);
    return c;
}

static void conn_setup_sock(te_h1_conn *c)
{
    const te_config *cf = c->w->cf;

    conn_read_high(c, 1);
    te_sock_set_write_low(&c->sock, cf->buffer_size / 2);
    te_sock_set_timeouts(&c->sock, NULL, c->w->tmo.send);
    te_sock_setcb(&c->sock, conn_read_cb, conn_write_cb, conn_event_cb, c);
}

void te_h1_conn_accept(te_worker *w, evutil_socket_t fd,
                       const struct sockaddr *sa, int socklen, SSL *ssl)
{
    te_h1_conn *c;
    int one = 1;

    c = conn_alloc(w);
    if (c == NULL) {
        te_log_errno(TE_LOG_ERROR, "cannot allocate a connection");
        goto fail;
    }
    if (te_sock_init(&c->sock, w->base, fd) < 0) {
        te_log_errno(TE_LOG_ERROR, "cannot set up a connection");
        free(c);
        goto fail;
    }
    if (ssl != NULL) {
        te_sock_set_tls(&c->sock, ssl);
        c->req.https = 1; /* te_request_reset keeps it */
    }
    /* A TLS connection has it from its handshake (handshake.c). */
    if (ssl == NULL &&
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
        /* not fatal: only latency suffers */
    }
    te_addr_text(sa, c->addr, sizeof(c->addr));

    conn_setup_sock(c);
    event_assign(&c->timer, w->base, -1, 0, conn_timer_cb, c);
    event_assign(&c->resume, w->base, -1, 0, conn_resume_cb, c);
    TAILQ_INSERT_TAIL(&w->conns, c, link);
    te_worker_conn_added(w);

    conn_begin_head(c, 1);
    te_sock_read_enable(&c->sock);
    return;

fail:
    SSL_free(ssl);
    close(fd);
}

/* ------------------------------------------------------------ drain -- */

void te_h1_conns_drain(te_worker *w)
{
    te_h1_conn *c, *next;

    for (c = TAILQ_FIRST(&w->conns); c != NULL; c = next) {
        next = TAILQ_NEXT(c, link);
        c->keep_alive = 0;

        if (c->state != C_IDLE && (c->state != C_HEAD || c->head_have > 0))
            continue;
        if (evbuffer_get_length(te_sock_out(&c->sock)) == 0)
            conn_free(c);
        else
            conn_close_after_flush(c);
    }
}

/* An abortive close (RST): what the kernel still holds for the client is
 * dropped, so a cut-off response ends now rather than after the client
 * has slowly read whatever was buffered. */
void te_h1_conns_close(te_worker *w)
{
    struct linger rst = {1, 0};
    te_h1_conn *c;

    while ((c = TAILQ_FIRST(&w->conns)) != NULL) {
        setsockopt(te_sock_fd(&c->sock), SOL_SOCKET, SO_LINGER, &rst,
                   sizeof(rst));
        conn_free(c);
    }
}
