/*
 * h2_conn.c: an HTTP/2 client connection: nghttp2's server session on a
 * te_sock, from the preface to the close. Streams are h2_stream.c's;
 * this file moves bytes, runs the streams' work outside nghttp2's
 * callbacks (h2_stream.h says why), reports to the abuse limits nghttp2
 * 1.52 leaves to us (h2_abuse.c) and drains with GOAWAY.
 *
 * Output: frames go into the te_sock output, which coalesces them (and
 * the TLS layer groups them into records). Response DATA is not copied:
 * nghttp2 hands us the frame header and we move the payload from the
 * stream's buffer (NGHTTP2_DATA_FLAG_NO_COPY, te_h2_send_data). Frames
 * are pulled from nghttp2 only while that output holds less than
 * buffer_size; the te_sock write callback pulls more once it drains, so
 * a client that does not read cannot make us buffer more than that per
 * connection, beyond what each stream holds (about buffer_size).
 *
 * Abuse: the callbacks report client resets, control frames and
 * glitches to h2_abuse.c, whose buckets end the connection with GOAWAY
 * ENHANCE_YOUR_CALM. nghttp2's own rapid-reset limiter stays, set well
 * above ours, as a backstop.
 */
#include "h2_conn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "h2_abuse.h"
#include "h2_stream.h"
#include "log.h"

/* Rounds of work and sending per run: more waits for the next loop turn,
 * so one busy connection cannot hold the worker. */
#define TE_H2_RUN_ROUNDS 8

/* The connection window: room for every stream's window, within this. */
#define TE_H2_CONN_WINDOW_MAX (16 << 20)

/* nghttp2's own rapid-reset bucket, a backstop above ours
 * (LIBRARIES.md 3: its default, burst 1000 and 33 per second). */
#define TE_H2_LIB_RESET_BURST 1000
#define TE_H2_LIB_RESET_RATE  33

/* Between the shutdown notice and the GOAWAY with the last stream: time
 * for requests the client sent before it saw the notice. */
#define TE_H2_DRAIN_NOTICE_MS 1000

/* The period of the stream tick (timeouts of streams). */
#define TE_H2_TICK_MS 1000

/* WINDOW_UPDATE frames owed to the client for the DATA frames we sent
 * (two each: stream and connection), at most this many saved up;
 * beyond them a WINDOW_UPDATE counts as a control frame. */
#define TE_H2_WU_CREDIT_MAX 4096

static void conn_run(te_h2_conn *c);
static void conn_free(te_h2_conn *c);

uint64_t te_h2_now_ms(const te_h2_conn *c)
{
    struct timeval tv;

    event_base_gettimeofday_cached(c->w->base, &tv);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

void te_h2_conn_kick(te_h2_conn *c)
{
    if (c->run_pending)
        return;
    c->run_pending = 1;
    event_active(&c->run, EV_TIMEOUT, 0);
}

void te_h2_conn_work(te_h2_stream *st)
{
    te_h2_conn *c = st->c;

    if (!st->in_work) {
        st->in_work = 1;
        TAILQ_INSERT_TAIL(&c->work, st, wlink);
        c->nwork++;
    }
    te_h2_conn_kick(c);
}

/* No more input is looked at; what nghttp2 still has (a GOAWAY) goes
 * out, and the write callback comes once the output is empty. */
void te_h2_conn_closing(te_h2_conn *c)
{
    c->state = TE_H2_CLOSING;
    te_sock_set_write_low(&c->sock, 0);
}

/* ---------------------------------------------------------- callbacks -- */

static te_h2_stream *stream_of(te_h2_conn *c, int32_t id)
{
    return nghttp2_session_get_stream_user_data(c->session, id);
}

/* Once the connection is ending, the rest of the input is not looked
 * at: the callback failure makes mem_recv stop at once. */
#define STOP_IF_CLOSING(c)                                                     \
    do {                                                                       \
        if ((c)->state != TE_H2_OPEN)                                          \
            return NGHTTP2_ERR_CALLBACK_FAILURE;                               \
    } while (0)

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f,
                            void *arg)
{
    te_h2_conn *c = arg;
    te_h2_stream *st;

    STOP_IF_CLOSING(c);
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    st = te_h2_stream_new(c, f->hd.stream_id);
    if (st == NULL)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    nghttp2_session_set_stream_user_data(s, f->hd.stream_id, st);
    te_h2_count(TE_H2_STREAMS);
    return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f,
                     const uint8_t *name, size_t nlen, const uint8_t *value,
                     size_t vlen, uint8_t flags, void *arg)
{
    te_h2_conn *c = arg;
    te_h2_stream *st;

    STOP_IF_CLOSING(c);
    st = stream_of(c, f->hd.stream_id);
    if (st == NULL || f->hd.type != NGHTTP2_HEADERS)
        return 0;
    if (te_h2_stream_header(st, name, nlen, value, vlen) < 0) {
        te_log(TE_LOG_ERROR, "out of memory reading http2 headers client=%s",
               c->addr);
        st->reset_sent = 1; /* nghttp2 resets it: no glitch of theirs */
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
    te_h2_conn *c = arg;
    te_h2_stream *st = f->hd.stream_id ? stream_of(c, f->hd.stream_id) : NULL;
    int end = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

    STOP_IF_CLOSING(c);
    switch (f->hd.type) {
    case NGHTTP2_DATA:
        /* an empty DATA frame that ends nothing does nothing but cost */
        if (f->hd.length == 0 && !end)
            te_h2_abuse_glitch(c, "empty DATA frames");
        if (st != NULL && end)
            te_h2_stream_end(st);
        break;
    case NGHTTP2_HEADERS:
        if (st != NULL)
            te_h2_stream_headers(st, end);
        break;
    case NGHTTP2_SETTINGS:
    case NGHTTP2_PING:
        if (!(f->hd.flags & NGHTTP2_FLAG_ACK))
            te_h2_abuse_control(c);
        break;
    case NGHTTP2_WINDOW_UPDATE:
        /* a client sends about one per DATA frame it got, for the
         * stream and the connection; more is a flood of its own */
        if (c->wu_credit > 0)
            c->wu_credit--;
        else
            te_h2_abuse_control(c);
        break;
    case NGHTTP2_RST_STREAM:
        te_h2_abuse_reset(c, st);
        break;
    case NGHTTP2_GOAWAY:
        te_log(TE_LOG_DEBUG, "http2 GOAWAY from the client code=%u client=%s",
               f->goaway.error_code, c->addr);
        break;
    default:
        break;
    }
    return 0;
}

/* PRIORITY frames are counted as they begin: with
 * NO_RFC7540_PRIORITIES nghttp2 drops them without on_frame_recv. */
static int on_begin_frame(nghttp2_session *s, const nghttp2_frame_hd *hd,
                          void *arg)
{
    te_h2_conn *c = arg;

    STOP_IF_CLOSING(c);
    if (hd->type == NGHTTP2_PRIORITY || hd->type == NGHTTP2_PRIORITY_UPDATE)
        te_h2_abuse_control(c);
    return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id,
                         const uint8_t *data, size_t len, void *arg)
{
    te_h2_conn *c = arg;
    te_h2_stream *st = stream_of(c, id);

    /* bytes delivered and not kept are consumed here, or the
     * connection window would shrink for good */
    if (c->state != TE_H2_OPEN || st == NULL) {
        c->consume_later += len;
        STOP_IF_CLOSING(c);
        return 0;
    }
    if (te_h2_stream_data(st, data, len) < 0) {
        te_log(TE_LOG_ERROR, "out of memory reading http2 data client=%s",
               c->addr);
        c->consume_later += len;
        st->reset_sent = 1;
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t code,
                           void *arg)
{
    te_h2_conn *c = arg;
    te_h2_stream *st = stream_of(c, id);

    if (st != NULL)
        te_h2_stream_close(st);
    return 0;
}

static int on_frame_send(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
    te_h2_conn *c = arg;
    te_h2_stream *st = f->hd.stream_id ? stream_of(c, f->hd.stream_id) : NULL;

    switch (f->hd.type) {
    case NGHTTP2_RST_STREAM:
        /* MadeYouReset (CVE-2025-8671): resets the client provokes are
         * counted here, which nghttp2 1.52 does not do */
        if (st == NULL || !st->reset_sent) {
            if (st != NULL)
                st->refused = 1; /* malformed: nghttp2 reset it */
            te_h2_abuse_glitch(c, "streams reset by the edge");
        }
        break;
    case NGHTTP2_GOAWAY:
        te_log(TE_LOG_DEBUG,
               "http2 GOAWAY sent code=%u last_stream=%d client=%s",
               f->goaway.error_code, f->goaway.last_stream_id, c->addr);
        break;
    case NGHTTP2_DATA:
        if (c->wu_credit < TE_H2_WU_CREDIT_MAX)
            c->wu_credit += 2;
        /* fall through */
    case NGHTTP2_HEADERS:
        if (st != NULL && (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
            te_h2_stream_sent_end(st);
        break;
    default:
        break;
    }
    return 0;
}

static int on_invalid_frame(nghttp2_session *s, const nghttp2_frame *f,
                            int lib_error, void *arg)
{
    te_h2_conn *c = arg;

    te_log(TE_LOG_DEBUG, "http2 invalid frame type=%u: %s client=%s",
           f->hd.type, nghttp2_strerror(lib_error), c->addr);
    te_h2_abuse_glitch(c, "invalid frames");
    return 0;
}

static int on_error(nghttp2_session *s, int lib_error, const char *msg,
                    size_t len, void *arg)
{
    te_h2_conn *c = arg;

    te_log(TE_LOG_DEBUG, "http2 %.*s client=%s", (int)TE_MIN(len, 256), msg,
           c->addr);
    return 0;
}

/* ----------------------------------------------------------------- I/O -- */

/* mem_recv failed: every failure is fatal (LIBRARIES.md 3). */
static void conn_recv_failed(te_h2_conn *c, ssize_t rv)
{
    if (c->state != TE_H2_OPEN)
        return; /* we stopped it: conn_calm or a closing callback */

    switch (rv) {
    case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
        te_h2_abuse_calm(c, TE_H2_CALM_CONTINUATIONS, "CONTINUATION frames");
        return;
    case NGHTTP2_ERR_FLOODED:
        te_h2_abuse_calm(c, TE_H2_CALM_FLOOD, "frames to acknowledge");
        return;
    case NGHTTP2_ERR_BAD_CLIENT_MAGIC:
        te_log(TE_LOG_DEBUG, "no http2 preface client=%s", c->addr);
        break;
    default:
        te_log(TE_LOG_INFO, "http2 session failed while reading: %s client=%s",
               nghttp2_strerror((int)rv), c->addr);
        nghttp2_session_terminate_session(c->session, NGHTTP2_INTERNAL_ERROR);
        break;
    }
    te_h2_conn_closing(c);
}

/* Hand the input to nghttp2, span by span (no copy). */
static void conn_recv(te_h2_conn *c)
{
    struct evbuffer *in = te_sock_in(&c->sock);
    struct evbuffer_iovec v[16];
    size_t used = 0;
    int n;

    /* Bounded: the input is at most the read high mark, 16 spans per
     * peek, and each turn uses up what it peeked or stops. */
    while (c->state == TE_H2_OPEN &&
           (n = evbuffer_peek(in, -1, NULL, v, 16)) > 0) {
        used = 0;
        for (int i = 0; i < n && i < 16; i++) {
            ssize_t rv = nghttp2_session_mem_recv(c->session, v[i].iov_base,
                                                  v[i].iov_len);

            if (rv < 0) {
                conn_recv_failed(c, rv);
                break;
            }
            used += v[i].iov_len;
        }
        evbuffer_drain(in, used);
    }
    if (c->state != TE_H2_OPEN)
        evbuffer_drain(in, evbuffer_get_length(in));
}

/* Pull frames from nghttp2 into the output while it holds less than
 * buffer_size (te_h2_send_data pauses mem_send there too). 0, or -1
 * when the session failed. */
static int conn_send(te_h2_conn *c)
{
    struct evbuffer *out = te_sock_out(&c->sock);
    size_t limit = c->w->cf->buffer_size;

    if (c->consume_later > 0) {
        nghttp2_session_consume_connection(c->session, c->consume_later);
        c->consume_later = 0;
    }

    /* Bounded: every turn adds output toward the limit, or ends. */
    while (evbuffer_get_length(out) < limit) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->session, &data);

        if (n < 0) {
            te_log(TE_LOG_INFO,
                   "http2 session failed while sending: %s client=%s",
                   nghttp2_strerror((int)n), c->addr);
            return -1;
        }
        if (n == 0)
            break;
        if (evbuffer_add(out, data, (size_t)n) < 0) {
            te_log_errno(TE_LOG_ERROR, "cannot buffer http2 output client=%s",
                         c->addr);
            return -1;
        }
    }
    return 0;
}

/* All sent: shut the write side and read what the client still sends,
 * for a while: closing with unread input would reset the connection and
 * could destroy a GOAWAY before the client reads it. */
static void conn_linger(te_h2_conn *c)
{
    struct evbuffer *in = te_sock_in(&c->sock);

    c->state = TE_H2_LINGER;
    te_sock_shutdown(&c->sock); /* TLS: close_notify, then the FIN */
    evbuffer_drain(in, evbuffer_get_length(in));
    event_del(&c->drain);
    te_sock_set_timeouts(&c->sock, NULL, NULL);
    te_sock_read_enable(&c->sock);
    event_add(&c->timer, c->w->tmo.linger);
}

/* The idle timeout while no stream is open, the tick while some are. */
static void conn_arm_timer(te_h2_conn *c)
{
    int tick = c->nstreams > 0;

    if (c->state != TE_H2_OPEN || tick == (int)c->ticking)
        return;
    c->ticking = tick;
    c->had_stream |= tick;
    event_add(&c->timer, tick ? c->tick_tmo : c->idle_tmo);
}

/* Whether the connection is over: nghttp2 wants nothing more (GOAWAY
 * both ways and no stream left, or a connection error), or we ended
 * it. Then the rest goes out and it lingers. */
static void conn_check(te_h2_conn *c)
{
    nghttp2_session *s = c->session;

    if (c->state == TE_H2_OPEN &&
        (nghttp2_session_want_read(s) || nghttp2_session_want_write(s))) {
        conn_arm_timer(c);
        return;
    }
    if (c->state == TE_H2_OPEN)
        te_h2_conn_closing(c);
    if (c->state == TE_H2_CLOSING && !nghttp2_session_want_write(s) &&
        evbuffer_get_length(te_sock_out(&c->sock)) == 0)
        conn_linger(c);
}

/*
 * The streams' work, then sending, a few rounds (work may produce
 * output and sending may make room for more work); then the end check.
 * May free c: callers return at once.
 */
static void conn_run(te_h2_conn *c)
{
    if (c->state == TE_H2_LINGER)
        return;
    for (unsigned round = 0; round < TE_H2_RUN_ROUNDS; round++) {
        unsigned n = c->nwork;
        te_h2_stream *st;

        /* Bounded: the streams queued when the round began; work they
         * queue again waits for the next round. */
        while (c->state == TE_H2_OPEN && n-- > 0 &&
               (st = TAILQ_FIRST(&c->work)) != NULL) {
            TAILQ_REMOVE(&c->work, st, wlink);
            st->in_work = 0;
            c->nwork--;
            te_h2_stream_run(st);
        }
        if (conn_send(c) < 0) {
            conn_free(c);
            return;
        }
        if ((c->nwork == 0 && c->consume_later == 0) || c->state != TE_H2_OPEN)
            break;
    }
    if (c->nwork > 0 && c->state == TE_H2_OPEN)
        te_h2_conn_kick(c);
    conn_check(c);
}

/* ------------------------------------------------------------- events -- */

static void conn_read_cb(te_sock *s, void *arg)
{
    te_h2_conn *c = arg;
    struct evbuffer *in = te_sock_in(s);

    if (c->state != TE_H2_OPEN) {
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    conn_recv(c);
    conn_run(c);
}

/* The output drained (to the low mark): pull more frames. */
static void conn_write_cb(te_sock *s, void *arg)
{
    conn_run(arg);
}

static void conn_event_cb(te_sock *s, short what, void *arg)
{
    te_h2_conn *c = arg;

    if ((what & TE_SOCK_TIMEOUT) && c->state != TE_H2_LINGER)
        te_log(TE_LOG_INFO,
               "http2 client timed out while receiving "
               "client=%s streams=%u",
               c->addr, c->nstreams);
    else if ((what & TE_SOCK_ERROR) && c->state == TE_H2_OPEN)
        te_log_errno(TE_LOG_DEBUG, "http2 connection failed client=%s",
                     c->addr);
    conn_free(c);
}

static void conn_run_cb(evutil_socket_t fd, short what, void *arg)
{
    te_h2_conn *c = arg;

    c->run_pending = 0;
    conn_run(c);
}

/* The stream timeouts; the idle timeout; the end of the linger. */
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    te_h2_conn *c = arg;
    uint64_t now = te_h2_now_ms(c);
    te_h2_stream *st, *next;

    if (c->state == TE_H2_LINGER) {
        conn_free(c);
        return;
    }
    if (c->state != TE_H2_OPEN)
        return; /* closing: send_timeout bounds it */

    if (!c->ticking) {
        te_log(TE_LOG_DEBUG, "http2 connection %s, closing client=%s",
               c->had_stream ? "idle" : "sent no request in time", c->addr);
        nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
        te_h2_conn_closing(c);
        conn_run(c);
        return;
    }

    /* Bounded: the streams held, each looked at once. */
    for (st = TAILQ_FIRST(&c->streams); st != NULL; st = next) {
        next = TAILQ_NEXT(st, link);
        if (te_h2_stream_tick(st, now)) {
            te_log(TE_LOG_INFO,
                   "http2 client timed out while sending the head "
                   "client=%s",
                   c->addr);
            nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
            te_h2_conn_closing(c);
            break;
        }
    }
    event_add(&c->timer, c->tick_tmo);
    conn_run(c);
}

/* The GOAWAY that follows the shutdown notice: streams above the last
 * one processed are refused, the rest finish (RFC 9113 6.8). */
static void conn_drain_cb(evutil_socket_t fd, short what, void *arg)
{
    te_h2_conn *c = arg;

    if (c->state != TE_H2_OPEN)
        return;
    nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(c->session),
                          NGHTTP2_NO_ERROR, NULL, 0);
    conn_run(c);
}

/* ----------------------------------------------------------- lifecycle -- */

static void conn_free(te_h2_conn *c)
{
    te_worker *w = c->w;
    te_h2_stream *st;

    /* Bounded: each turn frees one stream. */
    while ((st = TAILQ_FIRST(&c->streams)) != NULL)
        te_h2_stream_abandon(st);
    te_h2_stream_free_spares(c);
    nghttp2_session_del(c->session);
    event_del(&c->run);
    event_del(&c->timer);
    event_del(&c->drain);
    te_sock_close(&c->sock);
    TAILQ_REMOVE(&w->h2conns, c, link);
    free(c);
    te_worker_conn_removed(w);
}

static nghttp2_session_callbacks *callbacks_new(void)
{
    nghttp2_session_callbacks *cb;

    if (nghttp2_session_callbacks_new(&cb) != 0)
        return NULL;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb,
                                                            on_begin_headers);
    nghttp2_session_callbacks_set_on_begin_frame_callback(cb, on_begin_frame);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb,
                                                              on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(
        cb, on_invalid_frame);
    nghttp2_session_callbacks_set_error_callback2(cb, on_error);
    nghttp2_session_callbacks_set_send_data_callback(cb, te_h2_send_data);
    /* no on_invalid_header_callback: it would drop bad fields silently
     * instead of resetting the stream (LIBRARIES.md 3) */
    return cb;
}

static nghttp2_option *options_new(const te_config *cf)
{
    nghttp2_option *opt;

    if (nghttp2_option_new(&opt) != 0)
        return NULL;
    /* windows reopen as the backend takes the body (h2_stream.c) */
    nghttp2_option_set_no_auto_window_update(opt, 1);
    nghttp2_option_set_max_send_header_block_length(
        opt, TE_MAX((size_t)65536, 2 * cf->max_header_size));
    nghttp2_option_set_stream_reset_rate_limit(opt, TE_H2_LIB_RESET_BURST,
                                               TE_H2_LIB_RESET_RATE);
    return opt;
}

/* The session with our SETTINGS and connection window queued. */
static int session_new(te_h2_conn *c)
{
    const te_config *cf = c->w->cf;
    nghttp2_session_callbacks *cb = callbacks_new();
    nghttp2_option *opt = options_new(cf);
    uint64_t win = (uint64_t)cf->h2_max_streams * cf->h2_stream_window;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, cf->h2_max_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (uint32_t)cf->h2_stream_window},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, (uint32_t)cf->h2_max_frame_size},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
         (uint32_t)cf->h2_max_header_list},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
    };
    int rv = -1;

    if (cb == NULL || opt == NULL ||
        nghttp2_session_server_new2(&c->session, cb, c, opt) != 0)
        goto done;
    win = TE_MAX(TE_MIN(win, (uint64_t)TE_H2_CONN_WINDOW_MAX),
                 (uint64_t)cf->h2_stream_window);
    if (nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv,
                                sizeof(iv) / sizeof(iv[0])) != 0 ||
        nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0,
                                              (int32_t)win) != 0) {
        nghttp2_session_del(c->session);
        c->session = NULL;
        goto done;
    }
    rv = 0;

done:
    if (cb != NULL)
        nghttp2_session_callbacks_del(cb);
    if (opt != NULL)
        nghttp2_option_del(opt);
    return rv;
}

static const struct timeval *common(te_worker *w, unsigned ms)
{
    struct timeval tv = te_ms_to_tv(ms);

    return event_base_init_common_timeout(w->base, &tv);
}

void te_h2_conn_accept(te_worker *w, evutil_socket_t fd,
                       const struct sockaddr *sa, int socklen, SSL *ssl)
{
    const te_config *cf = w->cf;
    te_h2_conn *c;
    int one = 1;

    c = calloc(1, sizeof(*c));
    if (c == NULL || te_sock_init(&c->sock, w->base, fd) < 0) {
        te_log_errno(TE_LOG_ERROR, "cannot set up an http2 connection");
        free(c);
        SSL_free(ssl);
        close(fd);
        return;
    }
    c->w = w;
    c->tls = ssl != NULL;
    if (ssl != NULL)
        te_sock_set_tls(&c->sock, ssl); /* te_sock_close frees it */
    TAILQ_INIT(&c->streams);
    TAILQ_INIT(&c->work);
    te_addr_text(sa, c->addr, sizeof(c->addr));
    event_assign(&c->run, w->base, -1, 0, conn_run_cb, c);
    event_assign(&c->timer, w->base, -1, 0, conn_timer_cb, c);
    event_assign(&c->drain, w->base, -1, 0, conn_drain_cb, c);
    TAILQ_INSERT_TAIL(&w->h2conns, c, link);
    te_worker_conn_added(w);
    te_h2_count(TE_H2_CONNECTIONS);

    c->idle_tmo = common(w, cf->h2_idle_timeout);
    c->tick_tmo = common(w, TE_H2_TICK_MS);
    if (c->idle_tmo == NULL || c->tick_tmo == NULL || session_new(c) < 0) {
        te_log(TE_LOG_ERROR, "cannot set up an http2 session client=%s",
               c->addr);
        conn_free(c);
        return;
    }
    te_h2_abuse_init(c);

    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
        /* not fatal: only latency suffers */
    }
    te_sock_set_read_high(&c->sock, cf->buffer_size);
    te_sock_set_write_low(&c->sock, cf->buffer_size / 2);
    te_sock_set_timeouts(&c->sock, NULL, w->tmo.send);
    te_sock_setcb(&c->sock, conn_read_cb, conn_write_cb, conn_event_cb, c);
    /* Until its first stream, a connection gets the header timeout, as
     * an HTTP/1.1 one does: silence after the preface (or before it)
     * must not hold a connection for the idle timeout. */
    event_add(&c->timer, w->tmo.header);

    if (w->draining)
        nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE, 0,
                              NGHTTP2_NO_ERROR, NULL, 0);
    te_sock_read_enable(&c->sock);
    te_h2_conn_kick(c); /* our SETTINGS go out at once */
}

/* ---------------------------------------------------------------- drain -- */

/* A shutdown notice now, the GOAWAY a moment later (conn_drain_cb);
 * the connection closes once its streams are done. */
static void conn_start_drain(te_h2_conn *c)
{
    struct timeval notice = te_ms_to_tv(TE_H2_DRAIN_NOTICE_MS);

    if (c->state != TE_H2_OPEN || c->draining)
        return;
    c->draining = 1;
    nghttp2_submit_shutdown_notice(c->session);
    event_add(&c->drain, &notice);
    te_h2_conn_kick(c);
}

void te_h2_conns_drain(te_worker *w)
{
    te_h2_conn *c;

    TAILQ_FOREACH(c, &w->h2conns, link)
        conn_start_drain(c);
}

void te_h2_conns_retire_tls(te_worker *w)
{
    te_h2_conn *c;

    TAILQ_FOREACH(c, &w->h2conns, link)
        if (c->tls)
            conn_start_drain(c);
}

/* An abortive close (RST), as for HTTP/1.1 (te_h1_conns_close). */
void te_h2_conns_close(te_worker *w)
{
    struct linger rst = {1, 0};
    te_h2_conn *c;

    /* Bounded: each turn frees the first connection. */
    while ((c = TAILQ_FIRST(&w->h2conns)) != NULL) {
        setsockopt(te_sock_fd(&c->sock), SOL_SOCKET, SO_LINGER, &rst,
                   sizeof(rst));
        conn_free(c);
    }
}
