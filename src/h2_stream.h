/*
 * h2_stream.h: what the two halves of the HTTP/2 front end share:
 * h2_conn.c (the connection, nghttp2's session, I/O, drain; the abuse
 * limits in h2_abuse.c) and h2_stream.c (one stream: its te_request
 * through the chain, its upstream leg, its two bodies). Internal to
 * those files.
 *
 * The rule that keeps them safe: nghttp2 is only ever entered
 * (mem_recv, mem_send) from the connection's own events, and a stream
 * is freed only from inside those calls (on_stream_close) or when the
 * connection goes. Everything that reaches a stream from elsewhere (the
 * leg's te_proxy_ops, a module's wake) only flags the stream, queues it
 * on the connection's work list and schedules the run event; that event
 * does the work, then sends.
 */
#ifndef TE_H2_STREAM_H
#define TE_H2_STREAM_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <nghttp2/nghttp2.h>

#include "arena.h"
#include "body.h"
#include "h2_head.h"
#include "request.h"
#include "sock.h"
#include "upstream.h"
#include "worker.h"

typedef struct te_h2_conn te_h2_conn;
typedef struct te_h2_stream te_h2_stream;

enum te_h2_state {
    TE_H2_OPEN,    /* frames are read and streams served */
    TE_H2_CLOSING, /* no more input; what nghttp2 has left goes out */
    TE_H2_LINGER   /* all out, write side shut; input discarded */
};

/* An abuse limit: n events, refilled at n per 10 s (config.h). Kept in
 * units of 1/10000 of an event, so the refill is exact per ms. */
typedef struct te_h2_bucket {
    uint64_t units;
    uint64_t at_ms;
} te_h2_bucket;

struct te_h2_conn {
    te_worker *w;
    te_sock sock;
    TAILQ_ENTRY(te_h2_conn) link; /* in w->h2conns */
    nghttp2_session *session;

    struct event run;   /* the work list, then sending */
    struct event timer; /* idle timeout, or the 1 s stream tick */
    struct event drain; /* the GOAWAY that follows the shutdown notice */
    const struct timeval *idle_tmo;
    const struct timeval *tick_tmo;

    int state; /* enum te_h2_state */
    unsigned tls : 1;
    unsigned run_pending : 1;
    unsigned ticking : 1;  /* timer is the tick, not the idle timeout */
    unsigned draining : 1; /* shutdown notice sent */
    unsigned had_stream : 1; /* the header timeout is over */

    TAILQ_HEAD(, te_h2_stream) streams; /* every stream we hold */
    TAILQ_HEAD(, te_h2_stream) work;    /* streams with something to do */
    unsigned nstreams;
    unsigned nwork;
    te_h2_stream *spare; /* freed streams kept for reuse */
    unsigned nspare;
    size_t consume_later; /* connection window to credit, outside a
                             callback (closed streams' bytes) */

    te_h2_bucket resets;   /* client RST_STREAM */
    te_h2_bucket control;  /* SETTINGS, PING, PRIORITY, and WINDOW_UPDATE
                              beyond wu_credit */
    unsigned wu_credit;    /* WINDOW_UPDATEs our DATA frames earned */
    te_h2_bucket glitches; /* our RST_STREAM, invalid frames, empty DATA */

    char addr[INET6_ADDRSTRLEN];
};

struct te_h2_stream {
    te_h2_conn *c;
    int32_t id;
    TAILQ_ENTRY(te_h2_stream) link;  /* in c->streams */
    TAILQ_ENTRY(te_h2_stream) wlink; /* in c->work */
    te_h2_stream *next_spare;

    unsigned in_work : 1;
    unsigned head_done : 1;   /* END_HEADERS of the request */
    unsigned client_done : 1; /* END_STREAM from the client */
    unsigned started : 1;     /* checked and given to the chain */
    unsigned woken : 1;       /* the chain's wake came */
    unsigned forwarded : 1;   /* the leg was started */
    unsigned body_done : 1;   /* the whole request body is with the leg */
    unsigned resp_sent : 1;   /* a response head was submitted */
    unsigned resp_ended : 1;  /* our END_STREAM went out */
    unsigned up_done : 1;     /* the response body is all in resbuf */
    unsigned deferred : 1;    /* the data provider said DEFERRED */
    unsigned want_more : 1;   /* resbuf drained: the leg may move more */
    unsigned reset_sent : 1;  /* we submitted RST_STREAM ourselves */
    unsigned refused : 1;     /* nghttp2 reset it as malformed */

    uint64_t born_ms, rx_ms, tx_ms; /* created, last DATA in, last out */

    te_request req;
    te_arena arena;
    te_proxy proxy;
    te_body body;
    te_h2_head head;
    struct evbuffer *reqbuf; /* request DATA not yet with the leg */
    struct evbuffer *resbuf; /* response body not yet sent */
    struct evbuffer_cb_entry *rescb;
    te_h1_field fields[]; /* 2 * max_headers: request, response */
};

/* ---- h2_conn.c, for h2_stream.c ---- */

/* Queue st on its connection's work list and schedule the run. */
void te_h2_conn_work(te_h2_stream *st);

/* Schedule the run event (sending), e.g. after new response bytes. */
void te_h2_conn_kick(te_h2_conn *c);

/* The loop's cached time in milliseconds. */
uint64_t te_h2_now_ms(const te_h2_conn *c);

/* ---- h2_stream.c, for h2_conn.c ---- */

/* A new stream on HEADERS (NULL when out of memory, logged). */
te_h2_stream *te_h2_stream_new(te_h2_conn *c, int32_t id);

/* One field of its header block; -1 when out of memory. Trailers
 * (fields after END_HEADERS) are not forwarded. */
int te_h2_stream_header(te_h2_stream *st, const uint8_t *name, size_t nlen,
                        const uint8_t *value, size_t vlen);

/* The header block ended (its END_STREAM flag in end). */
void te_h2_stream_headers(te_h2_stream *st, int end);

/* Request DATA; -1 when out of memory (the caller credits the bytes). */
int te_h2_stream_data(te_h2_stream *st, const uint8_t *data, size_t len);

/* END_STREAM from the client (on DATA or trailers). */
void te_h2_stream_end(te_h2_stream *st);

/* Our END_STREAM went out on a HEADERS or DATA frame. */
void te_h2_stream_sent_end(te_h2_stream *st);

/* Whatever the stream has to do now (from the run event only). */
void te_h2_stream_run(te_h2_stream *st);

/* The periodic check of a stream's timeouts (from the tick only). 1:
 * its header block is overdue, which only closing the connection ends
 * (HPACK state). */
int te_h2_stream_tick(te_h2_stream *st, uint64_t now);

/* nghttp2 closed the stream: the leg stops, the access line is written,
 * bytes left unconsumed are credited (c->consume_later), st is freed. */
void te_h2_stream_close(te_h2_stream *st);

/* The connection goes: like te_h2_stream_close, without nghttp2. */
void te_h2_stream_abandon(te_h2_stream *st);

/* Free the spare streams of c. */
void te_h2_stream_free_spares(te_h2_conn *c);

/* nghttp2_send_data_callback for the NO_COPY response DATA. */
int te_h2_send_data(nghttp2_session *s, nghttp2_frame *frame,
                    const uint8_t *framehd, size_t length,
                    nghttp2_data_source *source, void *user_data);

#endif
