/*
 * request.h: the request as the module chain and the upstream leg see it.
 *
 * A te_request is protocol-independent: the HTTP/1.1 connection fills it
 * from its parsed head today, an HTTP/2 stream will tomorrow. Its strings
 * are borrowed from the protocol side (the head buffer of the connection)
 * and stay valid until the request ends. What modules add (their
 * storage, fields, the answer, copies) comes from the per-request arena
 * the protocol side lends, reset when the request ends.
 *
 * Life of a request: te_request_begin once its head is parsed, the chain
 * (chain.c), the upstream leg or an answer, then te_request_end, which
 * runs the cleanups and resets the arena; te_request_reset readies the
 * struct for the next request on the connection.
 */
#ifndef TE_REQUEST_H
#define TE_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "arena.h"
#include "config.h"
#include "core.h"
#include "http1_parser.h"
#include "tenantedge/module.h"

#define TE_REQUEST_ID_MAX 64

/* Per-worker source of request ids: a random seed read once, then a
 * counter, so making an id costs no system call. */
typedef struct te_reqid_gen {
    uint64_t seed[2];
    uint64_t counter;
} te_reqid_gen;

/* A field added by a module (upstream or response), or a name removed. */
typedef struct te_field_add {
    struct te_field_add *next;
    const char *name;
    const char *value; /* NULL for a removed name */
    size_t name_len;
    size_t value_len;
} te_field_add;

typedef struct te_cleanup {
    struct te_cleanup *next;
    void (*fn)(void *arg);
    void *arg;
} te_cleanup;

/* How the chain wakes the protocol side when a suspended request is
 * resumed: wake(ctx) from te_request_resume, which must continue later
 * from the event loop (te_chain_run), never inside the call. */
typedef struct te_request_ops {
    void (*wake)(void *ctx);
} te_request_ops;

struct te_request {
    const char *method;
    size_t method_len;
    int method_id;    /* enum te_h1_method */
    const char *path; /* origin-form: path and query */
    size_t path_len;
    const char *host; /* Host as sent (may carry a port) */
    size_t host_len;
    const te_h1_field *fields; /* every field line as received */
    unsigned nfields;
    const char *client_addr; /* text, without port */
    unsigned https : 1;      /* came over TLS: X-Forwarded-Proto https */
    unsigned http2 : 1;      /* an HTTP/2 stream */

    /* framing of the request body, from the protocol side */
    uint64_t content_length;
    unsigned has_content_length : 1;
    unsigned chunked : 1;

    char id[TE_REQUEST_ID_MAX + 1];
    size_t id_len;

    /* Kept by te_request_reset: the protocol side's, for every request
     * of the connection. */
    te_arena *arena;
    te_worker *w;
    const te_request_ops *ops;
    void *ops_ctx;

    /* the chain (chain.c) */
    const struct te_chainconf *cc; /* the worker's snapshot's */
    unsigned phase;                /* enum te_phase running now */
    unsigned hidx;                 /* handler index in that phase */
    te_status resume_rc;
    unsigned begun : 1;     /* te_request_begin ran */
    unsigned in_chain : 1;  /* the chain started: run log handlers */
    unsigned running : 1;   /* te_chain_run is on the stack */
    unsigned suspended : 1; /* a handler returned TE_AGAIN */
    unsigned resumed : 1;   /* ... and te_request_resume came */
    unsigned ended : 1;     /* te_request_end ran */
    unsigned broken : 1;    /* a module's change could not be made (out
                               of memory): never forward it */
    void **mctx; /* per module of cc, te_request_ctx */
    te_cleanup *cleanups;

    /* computed on first use */
    unsigned host_done : 1;
    unsigned product_done : 1;
    const char *host_lc; /* lowercase, no port, NUL-terminated */
    size_t host_lc_len;
    const char *site; /* the label under the domain, NUL-terminated */
    size_t site_len;
    const char *product;

    /* what modules decided */
    te_principal *principal;
    te_tcs_context *tenant; /* holds a reference */
    const char *tenant_id;  /* tenant->id, for logs */
    const te_shard *shard;
    const te_backend *backend; /* the one that answered, if any */
    te_field_add *up_add, **up_add_tail;
    te_field_add *up_remove;
    te_field_add *resp_add, **resp_add_tail;

    /* a module's answer (te_respond) */
    unsigned answered : 1;
    int answer_status;
    const char *answer_type; /* NULL: no Content-Type */
    const char *answer_body;
    size_t answer_len;

    /* for the access log */
    int status;
    uint64_t bytes_out;
    struct timeval start;
};

void te_reqid_init(te_reqid_gen *g);

/* Clears the request for the next one on the connection; keeps the
 * client address, https and http2, the arena, the worker and the ops. */
void te_request_reset(te_request *r);

/* The head is parsed: ready the request for the chain of w's snapshot.
 * -1 when out of memory (answer 503). */
int te_request_begin(te_request *r);

/*
 * The request is over (answered, or the client went away): drops the
 * tenant, runs the cleanups in the reverse order of registration and
 * resets the arena. Once only; the log phase and the access line come
 * before it. Nothing of the request's arena may be used afterwards.
 */
void te_request_end(te_request *r);

/* Results of te_request_field_dropped: non-zero means dropped. */
enum te_field_fate {
    TE_FIELD_KEPT = 0,
    TE_FIELD_DROPPED,   /* a field the edge or a module owns */
    TE_FIELD_UNDERSCORE /* '_' in the name, underscores_in_headers off */
};

/*
 * Whether the client's field of that name (len bytes) may reach the
 * backend, whatever the protocol: TE_FIELD_UNDERSCORE for a name with
 * '_' unless underscores_in_headers is on; TE_FIELD_DROPPED for what the
 * edge sets as the first hop (X-Forwarded-*, Forwarded, X-Real-IP and
 * other client-address fields, X-Request-Id), an internal header of the
 * config, one a module removed or one a module sets itself, '_' matching
 * '-' in each; else TE_FIELD_KEPT. Framing and hop-by-hop fields are the
 * protocol side's to drop.
 */
int te_request_field_dropped(const te_request *r, const char *name,
                             size_t len);

/* Does the request carry a body (a Content-Length above 0 or chunked)? */
int te_request_has_body(const te_request *r);

/* Keeps the incoming X-Request-Id when it is well-formed (1..64 chars of
 * [A-Za-z0-9._:-]), else makes a new 32 hex digit id. */
void te_request_set_id(te_request *r, te_reqid_gen *g);

/* A fresh id for a response that has no parsed request behind it. */
void te_reqid_next(te_reqid_gen *g, char *out, size_t *len);

int te_request_id_valid(const char *s, size_t n);

/* Is the method safe to send twice (RFC 9110 9.2.2)? */
int te_request_idempotent(const te_request *r);

/* One info line: method path status bytes duration req= site= tenant=
 * backend= */
void te_request_access_log(const te_request *r, const struct timeval *now);

#endif
