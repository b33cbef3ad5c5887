/*
 * request.h: the request as routing (and later the module chain) sees it.
 *
 * A te_request is protocol-independent: the HTTP/1.1 connection fills it
 * from its parsed head today, an HTTP/2 stream will tomorrow. Its strings
 * are borrowed from the protocol side (the head buffer of the connection)
 * and stay valid until the request ends; only the request id is owned.
 */
#ifndef TE_REQUEST_H
#define TE_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "config.h"
#include "http1_parser.h"

#define TE_REQUEST_ID_MAX 64

/* Per-worker source of request ids: a random seed read once, then a
 * counter, so making an id costs no system call. */
typedef struct te_reqid_gen {
    uint64_t seed[2];
    uint64_t counter;
} te_reqid_gen;

typedef struct te_request {
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

    /* framing of the request body, from the protocol side */
    uint64_t content_length;
    unsigned has_content_length : 1;
    unsigned chunked : 1;

    char id[TE_REQUEST_ID_MAX + 1];
    size_t id_len;

    /* routing results */
    const te_site *site;
    const char *tenant_id;
    const te_shard *shard;
    const te_backend *backend; /* the one that answered, if any */

    /* for the access log */
    int status;
    uint64_t bytes_out;
    struct timeval start;
} te_request;

void te_reqid_init(te_reqid_gen *g);

/* Clears everything but the borrowed client address. */
void te_request_reset(te_request *r);

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

/* One info line: method path status bytes duration req= site= backend= */
void te_request_log(const te_request *r, const struct timeval *now);

#endif
