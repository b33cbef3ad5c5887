/*
 * h2_stream.c: one HTTP/2 stream as one request: its head checked and
 * turned into a te_request (h2_head.c), the module chain, then an
 * answer or the upstream leg (te_proxy) that a HTTP/1.1 connection would
 * start; the request body moved toward the backend, the response body
 * handed to nghttp2. See h2_stream.h for when each function may run.
 *
 * Flow control is the backpressure: request DATA is consumed (the
 * client's window reopened) only once te_proxy_send_body has moved it
 * into the backend's buffer, so a slow backend stalls the client and
 * never our memory; response bytes wait in resbuf (about twice
 * TE_H2_RESPONSE_WINDOW at most: the leg stops moving there, and reads
 * no more than that from the backend) until the client's window lets
 * nghttp2 send them. The window is smaller than HTTP/1.1's buffer_size:
 * a connection has up to 100 streams, and a client that never reads
 * must not hold 100 times buffer_size per connection.
 */
#include "h2_stream.h"

#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "h2_head.h"
#include "http1_head.h"
#include "log.h"
#include "tls.h"

/* Response bytes a stream holds toward the client, and leaves unread
 * at the backend, each: one full DATA frame. */
#define TE_H2_RESPONSE_WINDOW (16 * 1024)

/* Freed streams kept per connection for the next ones. */
#define TE_H2_SPARE 4

static ssize_t data_read(nghttp2_session *s, int32_t id, uint8_t *buf,
                         size_t length, uint32_t *flags,
                         nghttp2_data_source *source, void *user_data);

/* ------------------------------------------------------------ helpers -- */

static const te_config *cf_of(const te_h2_stream *st)
{
    return st->c->w->cf;
}

static const char *hsts_of(const te_h2_stream *st)
{
    return st->c->tls ? te_tls_hsts(st->c->w->tls) : NULL;
}

/* Credit n bytes of the stream's DATA: they left our buffer. */
static void consume(te_h2_stream *st, size_t n)
{
    if (n > 0)
        nghttp2_session_consume(st->c->session, st->id, n);
}

/* Drop the request body we hold (nobody takes it any more) and reopen
 * the client's window for it, so it can finish sending. */
static void discard_body(te_h2_stream *st)
{
    size_t n = evbuffer_get_length(st->reqbuf);

    evbuffer_drain(st->reqbuf, n);
    consume(st, n);
}

/* RST_STREAM of our own choosing (not counted as a glitch). The leg, if
 * still running, stops when the stream closes: this may run inside the
 * leg's ops->head, where te_proxy_abort may not. */
static void reset(te_h2_stream *st, uint32_t code)
{
    if (st->reset_sent)
        return;
    st->reset_sent = 1;
    nghttp2_submit_rst_stream(st->c->session, NGHTTP2_FLAG_NONE, st->id, code);
    te_h2_conn_kick(st->c);
}

/* The leg stops at once, and the stream is reset. Not from the leg's
 * callbacks. */
static void cancel(te_h2_stream *st, uint32_t code)
{
    te_proxy_abort(&st->proxy);
    reset(st, code);
}

/* ---------------------------------------------------------- responses -- */

/* A response from memory: an answer of a module or of the edge. */
static void submit_answer(te_h2_stream *st, int status, const char *type,
                          const char *body, size_t len, int added)
{
    te_request *r = &st->req;
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = data_read};
    int has_body = len > 0 && te_h1_response_has_body(r->method_id, status);
    nghttp2_nv *nv;
    size_t n;

    if (st->reset_sent)
        return;
    nv = te_h2_answer_nv(&st->arena, r, status, type, len, added, hsts_of(st),
                         &n);
    if (nv == NULL || (has_body && evbuffer_add(st->resbuf, body, len) < 0)) {
        te_request_log(r, TE_MLOG_ERROR, "out of memory answering %d", status);
        reset(st, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    r->status = status;
    st->resp_sent = 1;
    st->up_done = 1;
    st->tx_ms = te_h2_now_ms(st->c);
    if (has_body)
        r->bytes_out += len;
    if (nghttp2_submit_response(st->c->session, st->id, nv, n,
                                has_body ? &prd : NULL) != 0)
        reset(st, NGHTTP2_INTERNAL_ERROR);
    te_h2_conn_kick(st->c);
}

/* An answer of the edge itself: the status with the JSON error body of
 * the HTTP/1.1 side. After a response head, only a reset is left. */
static void answer_error(te_h2_stream *st, int status)
{
    te_request *r = &st->req;
    char body[TE_ERROR_JSON_MAX];
    size_t n;

    te_proxy_abort(&st->proxy);
    if (st->resp_sent) {
        reset(st, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    if (r->id_len == 0)
        te_reqid_next(&st->c->w->ids, r->id, &r->id_len);
    n = te_error_json(status, r->id, body, sizeof(body));
    submit_answer(st, status, "application/json", body, n, 0);
}

/* A module answered (te_respond). */
static void answer_module(te_h2_stream *st)
{
    te_request *r = &st->req;

    te_chain_response(r);
    submit_answer(st, r->answer_status, r->answer_type, r->answer_body,
                  r->answer_len, 1);
}

/*
 * nghttp2's data source for every response body: the bytes in resbuf,
 * sent without a copy (te_h2_send_data moves them). DEFERRED while the
 * leg has not delivered more; the resbuf callback resumes it.
 */
static ssize_t data_read(nghttp2_session *s, int32_t id, uint8_t *buf,
                         size_t length, uint32_t *flags,
                         nghttp2_data_source *source, void *user_data)
{
    te_h2_stream *st = source->ptr;
    size_t avail = evbuffer_get_length(st->resbuf);
    size_t n = TE_MIN(length, avail);

    if (avail == 0 && !st->up_done) {
        st->deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    if (n > 0)
        *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (st->up_done && n == avail)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

int te_h2_send_data(nghttp2_session *s, nghttp2_frame *frame,
                    const uint8_t *framehd, size_t length,
                    nghttp2_data_source *source, void *user_data)
{
    te_h2_stream *st = source->ptr;
    te_h2_conn *c = user_data;
    struct evbuffer *out = te_sock_out(&c->sock);

    /* no padding: we set no select_padding callback */
    if (evbuffer_add(out, framehd, 9) < 0 ||
        evbuffer_remove_buffer(st->resbuf, out, length) != (int)length)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    st->tx_ms = te_h2_now_ms(c);

    /* the leg stopped moving at its window: let it go on (later, from
     * the work list: it may not run inside nghttp2) */
    if (st->proxy.active && !st->want_more &&
        evbuffer_get_length(st->resbuf) < st->proxy.window) {
        st->want_more = 1;
        te_h2_conn_work(st);
    }

    /* our output is full: mem_send stops here (see conn_send) */
    if (evbuffer_get_length(out) >= c->w->cf->buffer_size)
        return NGHTTP2_ERR_PAUSE;
    return 0;
}

/* Bytes came into resbuf (from the leg, outside nghttp2): a deferred
 * data source goes on. */
static void resbuf_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
                      void *arg)
{
    te_h2_stream *st = arg;

    if (info->n_added == 0)
        return;
    if (st->deferred) {
        st->deferred = 0;
        nghttp2_session_resume_data(st->c->session, st->id);
    }
    te_h2_conn_kick(st->c);
}

/* ------------------------------------------------- calls from the leg -- */

static void ops_writable(void *ctx)
{
    te_h2_conn_work(ctx);
}

static struct evbuffer *ops_head(void *ctx, const te_h1_response *res,
                                 int *out_mode)
{
    te_h2_stream *st = ctx;
    te_request *r = &st->req;
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = data_read};
    int has_body = te_h1_response_has_body(r->method_id, res->status);
    nghttp2_nv *nv;
    size_t n;

    /* RFC 9113 8.1: DATA frames carry the payload; chunk framing goes */
    *out_mode = res->chunked ? TE_OUT_PAYLOAD : TE_OUT_SAME;
    r->status = res->status;
    te_chain_response(r);

    nv = te_h2_response_nv(&st->arena, res, r, hsts_of(st), &n);
    if (nv == NULL) {
        te_request_log(r, TE_MLOG_ERROR,
                       "out of memory writing the response head");
        reset(st, NGHTTP2_INTERNAL_ERROR);
        return st->resbuf;
    }
    st->resp_sent = 1;
    st->tx_ms = te_h2_now_ms(st->c);
    if (nghttp2_submit_response(st->c->session, st->id, nv, n,
                                has_body ? &prd : NULL) != 0)
        reset(st, NGHTTP2_INTERNAL_ERROR);
    te_h2_conn_kick(st->c);
    return st->resbuf;
}

static void ops_done(void *ctx, int result)
{
    te_h2_stream *st = ctx;

    if (result > 0) {
        answer_error(st, result); /* logged by the leg */
        return;
    }
    if (result < 0) {
        /* a body cut short must not look complete: reset, never EOF */
        reset(st, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    st->up_done = 1;
    if (st->deferred) {
        st->deferred = 0;
        nghttp2_session_resume_data(st->c->session, st->id);
    }
    te_h2_conn_work(st); /* the rest of the request body is dropped */
}

static const te_proxy_ops proxy_ops = {
    .writable = ops_writable,
    .head = ops_head,
    .done = ops_done,
};

/* te_request_resume came: go on from the run event. */
static void req_wake(void *ctx)
{
    te_h2_stream *st = ctx;

    st->woken = 1;
    te_h2_conn_work(st);
}

static const te_request_ops req_ops = {
    .wake = req_wake,
};

/* -------------------------------------------------------- request body -- */

/* Move the client's DATA toward the backend, as far as its buffer
 * allows, and reopen the client's window by what moved. */
static void pump_body(te_h2_stream *st)
{
    size_t before = evbuffer_get_length(st->reqbuf);
    te_status rc;

    if (st->body_done || !st->proxy.active) {
        discard_body(st);
        return;
    }
    if (!te_proxy_ready(&st->proxy))
        return; /* ops_writable comes once it is */

    rc = te_proxy_send_body(&st->proxy, &st->body, st->reqbuf);
    consume(st, before - evbuffer_get_length(st->reqbuf));
    if (rc == TE_DONE) {
        st->body_done = 1;
        discard_body(st); /* nothing: nghttp2 holds DATA to the length */
    } else if (rc == TE_ERROR) {
        te_request_log(&st->req, TE_MLOG_INFO, "refused request body status=%d",
                       st->body.status);
        answer_error(st, st->body.status);
    }
}

/* ------------------------------------------------------------- request -- */

/* The chain let it through: on to the shard it chose, as http1_conn's
 * conn_forward does. */
static void forward(te_h2_stream *st)
{
    const te_config *cf = cf_of(st);
    te_request *r = &st->req;
    int mode = TE_BODY_NONE, out = TE_OUT_SAME;

    if (r->broken || r->shard == NULL) {
        if (r->broken)
            te_request_log(r, TE_MLOG_ERROR,
                           "out of memory preparing the request");
        te_respond_error(r, r->broken ? 503 : 404,
                         r->broken ? "service unavailable" : "no route");
        answer_module(st);
        return;
    }

    /* A body without a length goes chunked (te_body_end at END_STREAM
     * writes the last chunk); one with a length as it is. */
    if (r->chunked) {
        mode = TE_BODY_EOF;
        out = TE_OUT_RECHUNK;
    } else if (te_request_has_body(r)) {
        mode = TE_BODY_LENGTH;
    }
    te_body_init(&st->body, mode, r->content_length, cf->max_body_size, out);
    if (mode == TE_BODY_EOF && st->client_done)
        te_body_end(&st->body);
    st->body_done = mode == TE_BODY_NONE;
    st->forwarded = 1;

    if (te_proxy_start(&st->proxy, r) != TE_OK) {
        answer_error(st, st->proxy.fail_status);
        return;
    }
    pump_body(st);
}

static void after_chain(te_h2_stream *st, te_status rc)
{
    if (rc == TE_AGAIN)
        return; /* req_wake comes, or the stream closes first */
    if (rc == TE_DONE)
        answer_module(st);
    else
        forward(st);
}

/*
 * The body's framing toward the backend. With END_STREAM already in,
 * the whole body is here: its length is known and it goes with a
 * Content-Length. Otherwise without content-length it goes chunked.
 */
static void set_framing(te_h2_stream *st)
{
    te_request *r = &st->req;
    size_t have = evbuffer_get_length(st->reqbuf);

    if (r->has_content_length)
        return;
    if (st->client_done) {
        r->has_content_length = have > 0;
        r->content_length = have;
    } else {
        r->chunked = 1;
    }
}

/* END_HEADERS came: check the request, then the chain. Nothing reaches
 * a module or a backend before these checks. */
static void start(te_h2_stream *st)
{
    const te_config *cf = cf_of(st);
    te_request *r = &st->req;
    int status;

    st->started = 1;
    status = te_h2_head_finish(&st->head, &st->arena, cf->max_request_line, r);
    if (status != 0) {
        /* for the access line, as far as they came */
        r->method = st->head.method;
        r->method_len = st->head.method ? st->head.method_len : 0;
        r->path = st->head.path;
        r->path_len = st->head.path ? st->head.path_len : 0;
        te_reqid_next(&st->c->w->ids, r->id, &r->id_len);
        te_log(TE_LOG_DEBUG, "refused http2 request status=%d req=%s client=%s",
               status, r->id, st->c->addr);
        answer_error(st, status);
        return;
    }
    te_request_set_id(r, &st->c->w->ids);
    set_framing(st);

    /* client_max_body_size 0 is no limit */
    if (r->has_content_length && cf->max_body_size != 0 &&
        r->content_length > cf->max_body_size) {
        answer_error(st, 413);
        return;
    }
    if (te_request_begin(r) < 0) {
        te_request_log(r, TE_MLOG_ERROR, "out of memory starting a request");
        answer_error(st, 503);
        return;
    }
    after_chain(st, te_chain_run(r));
}

/* ------------------------------------------------------------ the work -- */

void te_h2_stream_run(te_h2_stream *st)
{
    if (!st->started) {
        if (st->head_done)
            start(st);
    } else if (st->woken) {
        st->woken = 0;
        after_chain(st, te_chain_run(&st->req));
    }

    if (st->forwarded)
        pump_body(st);
    else if (st->resp_sent)
        discard_body(st);

    if (st->want_more) {
        st->want_more = 0;
        if (st->proxy.active &&
            evbuffer_get_length(st->resbuf) < st->proxy.window)
            te_proxy_client_writable(&st->proxy);
    }

    /* RFC 9113 8.1: the response is complete while the request is not:
     * ask the client to stop sending, without error */
    if (st->resp_ended && !st->client_done)
        cancel(st, NGHTTP2_NO_ERROR);
}

int te_h2_stream_tick(te_h2_stream *st, uint64_t now)
{
    const te_config *cf = cf_of(st);
    te_request *r = &st->req;

    if (!st->head_done)
        return now - st->born_ms > cf->header_timeout;
    if (st->reset_sent)
        return 0;

    /* The client stopped sending a body the backend waits for. */
    if (st->forwarded && !st->client_done && !st->body_done &&
        st->proxy.active && evbuffer_get_length(st->reqbuf) == 0 &&
        now - st->rx_ms > cf->body_timeout) {
        te_request_log(r, TE_MLOG_INFO,
                       "client timed out while sending the body");
        if (!st->resp_sent)
            answer_error(st, 408);
        else
            cancel(st, NGHTTP2_CANCEL);
        return 0;
    }

    /* The client does not take the response (its window stays shut):
     * the stream ends rather than hold a backend and our buffer. */
    if (evbuffer_get_length(st->resbuf) > 0 &&
        now - st->tx_ms > cf->send_timeout) {
        te_request_log(r, TE_MLOG_INFO,
                       "client timed out while receiving client=%s",
                       st->c->addr);
        cancel(st, NGHTTP2_CANCEL);
    }
    return 0;
}

/* ----------------------------------------------------- from nghttp2 -- */

int te_h2_stream_header(te_h2_stream *st, const uint8_t *name, size_t nlen,
                        const uint8_t *value, size_t vlen)
{
    if (st->head_done)
        return 0; /* trailers: not forwarded (RFC 9110 6.5.1) */
    return te_h2_head_add(&st->head, &st->arena, (const char *)name, nlen,
                          (const char *)value, vlen);
}

void te_h2_stream_headers(te_h2_stream *st, int end)
{
    if (!st->head_done) {
        st->head_done = 1;
        st->rx_ms = te_h2_now_ms(st->c);
        te_h2_conn_work(st);
    }
    if (end)
        te_h2_stream_end(st);
}

int te_h2_stream_data(te_h2_stream *st, const uint8_t *data, size_t len)
{
    if (evbuffer_add(st->reqbuf, data, len) < 0)
        return -1;
    st->rx_ms = te_h2_now_ms(st->c);
    te_h2_conn_work(st);
    return 0;
}

void te_h2_stream_end(te_h2_stream *st)
{
    st->client_done = 1;
    if (st->forwarded && st->body.mode == TE_BODY_EOF)
        te_body_end(&st->body);
    te_h2_conn_work(st);
}

void te_h2_stream_sent_end(te_h2_stream *st)
{
    st->resp_ended = 1;
    if (!st->client_done)
        te_h2_conn_work(st);
}

/* ----------------------------------------------------------- lifecycle -- */

static void stream_destroy(te_h2_stream *st)
{
    evbuffer_remove_cb_entry(st->resbuf, st->rescb);
    evbuffer_free(st->reqbuf);
    evbuffer_free(st->resbuf);
    te_arena_free(&st->arena);
    free(st);
}

/* One allocation for the stream and its two field arrays, plus the two
 * body buffers; the request's fixed links are set once. */
static te_h2_stream *stream_alloc(te_h2_conn *c)
{
    unsigned nf = c->w->cf->max_headers;
    te_h2_stream *st;
    size_t size;

    if (!te_size_mul((size_t)nf, 2 * sizeof(te_h1_field), &size) ||
        !te_size_add(size, sizeof(*st), &size))
        return NULL;
    st = calloc(1, size);
    if (st == NULL)
        return NULL;
    st->reqbuf = evbuffer_new();
    st->resbuf = evbuffer_new();
    if (st->reqbuf == NULL || st->resbuf == NULL)
        goto fail;
    st->rescb = evbuffer_add_cb(st->resbuf, resbuf_cb, st);
    if (st->rescb == NULL)
        goto fail;

    st->c = c;
    te_arena_init(&st->arena);
    st->req.client_addr = c->addr;
    st->req.https = c->tls;
    st->req.http2 = 1;
    st->req.arena = &st->arena;
    st->req.w = c->w;
    st->req.ops = &req_ops;
    st->req.ops_ctx = st;
    te_proxy_init(&st->proxy, c->w, st->fields + nf, nf, &proxy_ops, st);
    st->proxy.window = TE_MIN(c->w->cf->buffer_size, TE_H2_RESPONSE_WINDOW);
    return st;

fail:
    if (st->reqbuf != NULL)
        evbuffer_free(st->reqbuf);
    if (st->resbuf != NULL)
        evbuffer_free(st->resbuf);
    free(st);
    return NULL;
}

te_h2_stream *te_h2_stream_new(te_h2_conn *c, int32_t id)
{
    const te_config *cf = c->w->cf;
    te_h2_stream *st = c->spare;

    if (st != NULL) {
        c->spare = st->next_spare;
        c->nspare--;
    } else {
        st = stream_alloc(c);
        if (st == NULL) {
            te_log_errno(TE_LOG_ERROR,
                         "cannot allocate an http2 stream client=%s", c->addr);
            return NULL;
        }
    }

    st->id = id;
    st->born_ms = st->rx_ms = st->tx_ms = te_h2_now_ms(c);
    event_base_gettimeofday_cached(c->w->base, &st->req.start);
    te_h2_head_init(&st->head, st->fields, cf->max_headers,
                    cf->h2_max_header_list);
    TAILQ_INSERT_TAIL(&c->streams, st, link);
    c->nstreams++;
    return st;
}

/* The access line of a request that was started, then its end. */
static void stream_log(te_h2_stream *st)
{
    te_request *r = &st->req;
    struct timeval now;

    if (st->started) {
        /* logged as 400 when the request broke the protocol (its head
         * may have gone to the backend before its body did), 499 when
         * the client left before an answer */
        if (r->status == 0)
            r->status = st->refused ? 400 : 499;
        te_chain_log(r);
        event_base_gettimeofday_cached(st->c->w->base, &now);
        te_request_access_log(r, &now);
    }
    te_request_end(r);
}

/* Unlink st, end its request and keep it for reuse (or free it). */
static void stream_release(te_h2_stream *st)
{
    te_h2_conn *c = st->c;
    size_t left = evbuffer_get_length(st->reqbuf);

    if (st->in_work) {
        TAILQ_REMOVE(&c->work, st, wlink);
        c->nwork--;
    }
    TAILQ_REMOVE(&c->streams, st, link);
    c->nstreams--;

    /* no backend work goes on for a stream that is gone */
    te_proxy_abort(&st->proxy);
    stream_log(st);

    /* every byte delivered is consumed once, or the connection window
     * shrinks for good (LIBRARIES.md 3) */
    c->consume_later += left;
    evbuffer_drain(st->reqbuf, left);
    evbuffer_drain(st->resbuf, evbuffer_get_length(st->resbuf));

    if (c->nspare >= TE_H2_SPARE) {
        stream_destroy(st);
        return;
    }
    te_request_reset(&st->req);
    st->in_work = st->head_done = st->client_done = st->started = 0;
    st->woken = st->forwarded = st->body_done = st->resp_sent = 0;
    st->resp_ended = st->up_done = st->deferred = st->want_more = 0;
    st->reset_sent = 0;
    st->next_spare = c->spare;
    c->spare = st;
    c->nspare++;
}

void te_h2_stream_close(te_h2_stream *st)
{
    nghttp2_session_set_stream_user_data(st->c->session, st->id, NULL);
    stream_release(st);
}

void te_h2_stream_abandon(te_h2_stream *st)
{
    stream_release(st);
}

void te_h2_stream_free_spares(te_h2_conn *c)
{
    te_h2_stream *st;

    while ((st = c->spare) != NULL) {
        c->spare = st->next_spare;
        stream_destroy(st);
    }
    c->nspare = 0;
}
