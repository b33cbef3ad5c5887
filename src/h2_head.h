/*
 * h2_head.h: heads between HTTP/2 and the HTTP/1.1 model the rest of the
 * edge works in. A request's header list, as nghttp2's on_header calls
 * deliver it, becomes a te_request; a backend's response head, or an
 * answer of the edge, becomes an HTTP/2 header list.
 *
 * These are pure functions over the caller's memory (a request arena),
 * so they are unit-tested without a connection (tests/unit/
 * test_h2_head.c). The rules that nghttp2 1.52 leaves to us live here
 * (LIBRARIES.md 3): our own header list budget, host against
 * :authority, the same host and path rules as HTTP/1.1, split cookies
 * joined.
 */
#ifndef TE_H2_HEAD_H
#define TE_H2_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

#include "arena.h"
#include "http1_parser.h"
#include "request.h"

/* RFC 9113 6.5.2: each field counts its name, its value and 32. */
#define TE_H2_FIELD_OVERHEAD 32

/* A piece of a cookie field, kept until the block ends (RFC 9113
 * 8.2.3: a client may split cookie into one field per pair). */
typedef struct te_h2_crumb {
    struct te_h2_crumb *next;
    const char *s;
    size_t len;
} te_h2_crumb;

/* A request's header block while it arrives. Strings are arena copies:
 * nghttp2's buffers live only for the callback. */
typedef struct te_h2_head {
    const char *method, *path, *authority, *host;
    size_t method_len, path_len, authority_len, host_len;

    te_h1_field *fields; /* the caller's array: regular fields */
    unsigned nfields;
    unsigned cap;
    te_h2_crumb *cookies, **cookie_tail;
    size_t cookie_len; /* the joined value's length */

    size_t size;     /* the list's size so far (TE_H2_FIELD_OVERHEAD) */
    size_t max_size; /* http2_max_header_list_size */

    uint64_t content_length;
    unsigned has_content_length : 1;
    unsigned has_host : 1;
    int status; /* the first failure: 400 or 431; 0 while none */
} te_h2_head;

/* Ready for a new block; fields[0..cap) receives the regular fields
 * (the joined cookie takes one of them). */
void te_h2_head_init(te_h2_head *h, te_h1_field *fields, unsigned cap,
                     size_t max_size);

/*
 * One field of the block, whose bytes nghttp2 has checked (lower-case
 * names, no CR/LF/NUL, pseudo-fields first and once). Copied into a.
 * Over the budget or the field count, h->status becomes 431 and nothing
 * more is kept (the block is still read to its end: HPACK state must
 * follow it). Returns 0, or -1 when out of memory.
 */
int te_h2_head_add(te_h2_head *h, te_arena *a, const char *name, size_t nlen,
                   const char *value, size_t vlen);

/*
 * The block is complete: check it and fill r's method, method id,
 * path, host (the :authority, or host when there is none), fields (the
 * regular ones, cookies joined into one) and Content-Length. The
 * method, :path and authority pass the HTTP/1.1 parser's own rules (a
 * request line and Host built from them), so both protocols accept the
 * same requests: dot segments or '#' in the path, userinfo or a bad
 * port in the authority are 400, a path over max_line 414, CONNECT 501.
 * A host field that differs from :authority is 400 (RFC 9113 8.3.1).
 * Returns 0, or the status to answer.
 */
int te_h2_head_finish(te_h2_head *h, te_arena *a, size_t max_line,
                      te_request *r);

/*
 * The header list for an HTTP/2 client from a backend's response head:
 * :status, the backend's fields minus hop-by-hop ones (RFC 9113 8.2.2:
 * Connection and what it names, Keep-Alive, Proxy-Connection, TE,
 * Transfer-Encoding, Upgrade) and its X-Request-Id, names lower-cased;
 * then x-request-id (ours), the fields modules added for the response,
 * and strict-transport-security when hsts is not NULL. The array and
 * the lower-cased names are in a; values may point into res, which must
 * live until nghttp2_submit_response has copied them. NULL when out of
 * memory; *n is the count.
 */
nghttp2_nv *te_h2_response_nv(te_arena *a, const te_h1_response *res,
                              const te_request *r, const char *hsts, size_t *n);

/*
 * The header list of an answer from the edge or a module: :status,
 * content-type when type is not NULL, content-length (not for 204 and
 * 304, RFC 9110 8.6), x-request-id, with added the fields modules added
 * (r->resp_add), and strict-transport-security when hsts is not NULL.
 */
nghttp2_nv *te_h2_answer_nv(te_arena *a, const te_request *r, int status,
                            const char *type, size_t body_len, int added,
                            const char *hsts, size_t *n);

#endif
