/*
 * upstream.h: the backend side: per-worker keep-alive pools of backend
 * connections, and the backend leg of one request (te_proxy).
 *
 * The leg sends the request head and body to a backend chosen among the
 * request's shard, reads the response head and moves the response body
 * toward the client with backpressure both ways. It talks to the client
 * side only through te_proxy_ops, so an HTTP/2 stream can stand where the
 * HTTP/1.1 connection stands today.
 */
#ifndef TE_UPSTREAM_H
#define TE_UPSTREAM_H

#include <stdint.h>
#include <sys/queue.h>

#include <event2/buffer.h>

#include "body.h"
#include "config.h"
#include "core.h"
#include "health.h"
#include "http1_parser.h"
#include "request.h"

typedef struct te_upconn te_upconn;

TAILQ_HEAD(te_upconn_list, te_upconn);

/* Idle keep-alive connections to one backend, in one worker, and what
 * that worker knows of the backend's health (health.h). */
struct te_pool {
    te_worker *w;
    const te_backend *backend;
    struct te_upconn_list idle; /* most recently used last */
    unsigned nidle;

    te_health health;
    uint64_t tried;  /* serial of the last request that tried it */
    uint64_t placed; /* at a shard's first backend: requests placed in the
                        shard, the source of request serials */
};

/*
 * Calls from the leg into the client side. None of them may free the
 * client connection or the te_proxy before returning: the leg may still
 * be on the stack. They may call te_proxy_abort only where noted.
 */
typedef struct te_proxy_ops {
    /* The backend can take body bytes now (connected, or its output
     * drained below the low mark): push more with te_proxy_send_body.
     * May call te_proxy_abort; the leg does nothing after it. */
    void (*writable)(void *ctx);

    /* The final response head arrived: write it toward the client and
     * say how its body leaves (enum te_body_out). Returns the buffer the
     * body goes to. res and its fields are valid during the call only. */
    struct evbuffer *(*head)(void *ctx, const te_h1_response *res,
                             int *out_mode);

    /* The exchange is over. result 0: the response is complete; > 0: no
     * response head was sent, answer with this status (502, 504); < 0:
     * the response broke off midway, close the client connection. */
    void (*done)(void *ctx, int result);
} te_proxy_ops;

/* The backend leg of one request; lives inside the client connection
 * and is reused across its requests. */
typedef struct te_proxy {
    te_worker *w;
    te_request *req;
    const te_proxy_ops *ops;
    void *ctx;

    te_upconn *up;
    size_t window;   /* response bytes held toward the client, and
                        unread from the backend, each at most (about):
                        buffer_size, less for an HTTP/2 stream */
    unsigned rr;     /* round-robin start for this request */
    unsigned tries;  /* backends tried so far */
    uint64_t serial; /* marks the backends it tried (te_pool.tried) */
    int fail_status; /* 502 or 504 for the last failure */

    unsigned active : 1;
    unsigned ready : 1;     /* connected, head queued */
    unsigned body_done : 1; /* whole request body queued */
    unsigned body_sent : 1; /* some body byte left the client side */
    unsigned retried : 1;   /* the one retry on a fresh connection */
    unsigned replayed : 1;  /* the one retry on another backend */
    unsigned probe : 1;     /* its backend is down: this tests it */
    unsigned got_bytes : 1; /* some response byte arrived */
    unsigned head_done : 1; /* final response head passed on */
    unsigned up_eof : 1;

    /* response */
    te_h1_scan scan;
    te_h1_response res;
    te_h1_field *fields; /* the connection's array, cap fields */
    unsigned cap;
    te_body body;
    struct evbuffer *client_out;
} te_proxy;

void te_pool_init(te_pool *pool, te_worker *w, const te_backend *b);
void te_pool_close(te_pool *pool);

/* Once per client connection (or HTTP/2 stream): the response field
 * array it owns. The window starts at buffer_size. */
void te_proxy_init(te_proxy *p, te_worker *w, te_h1_field *fields, unsigned cap,
                   const te_proxy_ops *ops, void *ctx);

/*
 * Start the leg for a routed request: a pooled connection to the backend
 * of r->shard that te_route_backend picks among the healthy ones (or,
 * when all are down, the one due back first), or a new connection. A
 * request that could not be sent moves on to the next backend, each
 * backend of the shard tried once at most. TE_OK: the leg runs and will
 * call ops (te_proxy_ready says whether body bytes can go now); TE_ERROR:
 * no backend could be connected to (logged), answer p->fail_status.
 */
te_status te_proxy_start(te_proxy *p, te_request *r);

/* Can the request body be pushed now? */
int te_proxy_ready(const te_proxy *p);

/*
 * Move request body bytes from in, framed by b, to the backend. Returns
 * te_body_move's result; on TE_DONE the leg starts its read timeout.
 * Call only when te_proxy_ready.
 */
te_status te_proxy_send_body(te_proxy *p, te_body *b, struct evbuffer *in);

/* The request has no body (or it is all queued already). */
void te_proxy_body_done(te_proxy *p);

/* The client's output drained below its low mark: move more response. */
void te_proxy_client_writable(te_proxy *p);

/* Drop the leg now (client gone, bad request body, drain timeout): the
 * backend connection is closed, never pooled. No ops are called. */
void te_proxy_abort(te_proxy *p);

#endif
