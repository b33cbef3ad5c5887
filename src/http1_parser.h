/*
 * http1_parser.h: a strict HTTP/1.1 message-head parser and the chunked
 * body decoder (RFC 9112), for both the client side (requests) and the
 * upstream side (responses).
 *
 * The parser never allocates and never copies: fields point into the
 * caller's buffer, which must hold the whole head once the parser says it
 * is complete. Feeding is incremental: call again with the same buffer
 * grown by the new bytes; te_h1_scan remembers how far it has looked, so
 * a head fed one byte at a time costs O(n), not O(n^2).
 *
 * Everything ambiguous is refused rather than guessed: that is what keeps
 * a request from meaning one thing here and another at the backend
 * (request smuggling).
 */
#ifndef TE_HTTP1_PARSER_H
#define TE_HTTP1_PARSER_H

#include <stddef.h>
#include <stdint.h>

/*
 * Results of te_h1_parse_request and te_h1_parse_response:
 *   > 0  the head is complete and valid; the value is its length in bytes
 *        (including leading empty lines and the final CRLF);
 *   0    (TE_H1_INCOMPLETE) no complete head yet and no error so far;
 *   < 0  the head is invalid: the value is minus the HTTP status to
 *        answer with (-400, -414, -417, -431, -501, -505).
 */
#define TE_H1_INCOMPLETE 0

typedef struct te_h1_limits {
    size_t max_request_line;    /* request line with CRLF; past it: 414 */
    size_t max_head;            /* whole head with CRLFs; past it: 431 */
    unsigned max_fields;        /* field lines; past it: 431 */
} te_h1_limits;

typedef struct te_h1_field {
    const char *name;
    size_t name_len;
    const char *value;          /* without leading and trailing OWS */
    size_t value_len;
} te_h1_field;

enum te_h1_method {
    TE_H1_OTHER = 0,
    TE_H1_GET,
    TE_H1_HEAD,
    TE_H1_POST,
    TE_H1_PUT,
    TE_H1_DELETE,
    TE_H1_OPTIONS,
    TE_H1_PATCH,
    TE_H1_CONNECT,
    TE_H1_TRACE
};

/* Incremental scan state; zero it (te_h1_scan_reset) before each head. */
typedef struct te_h1_scan {
    size_t scanned;             /* bytes already checked for the end */
    size_t line_start;          /* offset of the line being scanned */
    size_t lines;               /* complete lines seen so far */
    size_t skipped;             /* leading empty lines (requests only) */
} te_h1_scan;

typedef struct te_h1_request {
    const char *method;
    size_t method_len;
    int method_id;              /* enum te_h1_method */

    const char *target;         /* the request-target as sent */
    size_t target_len;
    const char *path;           /* origin-form: path and query only */
    size_t path_len;

    int version_minor;          /* 0 or 1 (HTTP/1.0 or HTTP/1.1) */

    const char *host;           /* Host value; without Host (1.0), the
                                   absolute-form authority, else NULL */
    size_t host_len;

    te_h1_field *fields;        /* the caller's array */
    unsigned nfields;

    uint64_t content_length;    /* valid when has_content_length */
    unsigned has_content_length:1;
    unsigned chunked:1;         /* Transfer-Encoding: chunked (final) */
    unsigned keep_alive:1;      /* connection persists after this one */
    unsigned expect_continue:1; /* Expect: 100-continue */
    unsigned upgrade:1;         /* an Upgrade field was present */

    size_t head_len;
} te_h1_request;

typedef struct te_h1_response {
    int status;
    int version_minor;
    const char *reason;
    size_t reason_len;

    te_h1_field *fields;
    unsigned nfields;

    uint64_t content_length;
    unsigned has_content_length:1;
    unsigned chunked:1;
    unsigned keep_alive:1;      /* the backend keeps the connection */

    size_t head_len;
} te_h1_response;

void te_h1_scan_reset(te_h1_scan *scan);

/*
 * Parse a request head from buf[0..len). fields/cap is the array that
 * receives the field lines (cap >= lim->max_fields is not required: more
 * lines than min(cap, max_fields) is 431). On success req->fields points
 * at fields. Semantic checks done here (RFC 9112/9110): Host presence and
 * uniqueness on HTTP/1.1, absolute-form host agreeing with Host,
 * Content-Length syntax and agreement, Transfer-Encoding with a final
 * chunked only (and never with Content-Length, never on HTTP/1.0),
 * whitespace before colons, obs-fold, bare CR/LF and NUL, token syntax of
 * method and field names, HTTP version (505 for anything but 1.0/1.1),
 * at most TE_H1_MAX_CONN_OPTIONS connection options, and a path that
 * passes te_path_is_safe (path.h: no dot segments, no "%00").
 */
int te_h1_parse_request(te_h1_scan *scan, const char *buf, size_t len,
                        const te_h1_limits *lim, te_h1_request *req,
                        te_h1_field *fields, unsigned cap);

/*
 * Parse a response head from an upstream. Errors (-502 is never returned;
 * any negative value) mean the backend answered garbage. 1xx heads are
 * returned as complete heads: the caller decides what to do with them.
 * request_method is the method the response answers (HEAD has no body).
 */
int te_h1_parse_response(te_h1_scan *scan, const char *buf, size_t len,
                         const te_h1_limits *lim, int request_method,
                         te_h1_response *res, te_h1_field *fields,
                         unsigned cap);

/* Does the response to request_method with this status carry a body?
 * (RFC 9112 6.3: HEAD, 1xx, 204 and 304 never do.) */
int te_h1_response_has_body(int request_method, int status);

/* Case-insensitive field lookup; returns the first match or NULL. */
const te_h1_field *te_h1_find(const te_h1_field *fields, unsigned n,
                              const char *name);

/*
 * RFC 9110 7.6.1: the connection options of one message, at most this
 * many over all its Connection fields, repeats included; the parser
 * refuses more (400 for a request, an invalid answer from a backend), so
 * that stripping hop-by-hop fields stays linear in the head's size.
 */
#define TE_H1_MAX_CONN_OPTIONS 32

/*
 * The hop-by-hop names of one message, gathered once per message by
 * te_h1_hop_init and then asked once per field by te_h1_hop_match
 * (rescanning Connection for each field would cost fields x options).
 * Borrows the fields' bytes.
 */
typedef struct te_h1_hop {
    const char *opt[TE_H1_MAX_CONN_OPTIONS]; /* the Connection options */
    size_t opt_len[TE_H1_MAX_CONN_OPTIONS];
    unsigned nopt;
    unsigned fold : 1; /* '_' matches '-' (a client's fields) */
} te_h1_hop;

/* Gathers the options of the Connection fields among fields[0..n) of a
 * parsed message. fold: match names as te_field_name_eq does with fold,
 * for a client's fields that a CGI-style backend would read. */
void te_h1_hop_init(te_h1_hop *hop, const te_h1_field *fields, unsigned n,
                    int fold);

/* Is the field name[0..len) hop-by-hop (RFC 9110 7.6.1), either by its
 * fixed name or because a Connection option names it? Host and
 * Content-Length never are. */
int te_h1_hop_match(const te_h1_hop *hop, const char *name, size_t len);

/*
 * Chunked body decoder (RFC 9112 7.1). Feed it the bytes that follow the
 * head; each call walks framing (chunk-size lines, CRLFs, trailers) and
 * stops at the next span of payload:
 *
 *   rc = te_h1_chunked_step(&c, p, len, &framing, &data);
 *
 * The first *framing bytes at p were framing (drop or forward them as the
 * caller wishes); the *data bytes after them are payload. Advance by
 * framing + data and call again. Returns TE_H1_CHUNK_MORE when everything
 * given was used and more input is needed (framing + data == len), or a
 * payload span ended the input; TE_H1_CHUNK_DONE when the last chunk and
 * the trailer section ended (framing counts them; bytes after belong to
 * the next message); -400 on bad framing: a size that is not hex, has no
 * digits or overflows 64 bits, a bare LF, data not followed by CRLF, a
 * chunk extension or trailer section larger than the limits below.
 */
#define TE_H1_CHUNK_MORE 0
#define TE_H1_CHUNK_DONE 1
#define TE_H1_MAX_CHUNK_EXT 4096

typedef struct te_h1_chunked {
    int state;
    uint64_t remaining;         /* payload bytes left in this chunk */
    size_t line_len;            /* bytes in the current size/trailer line */
    size_t trailer_len;         /* bytes in the trailer section so far */
    size_t max_trailer;         /* 0: TE_H1_MAX_CHUNK_EXT * 4 */
    uint64_t total;             /* payload bytes so far */
} te_h1_chunked;

void te_h1_chunked_init(te_h1_chunked *c, size_t max_trailer);
int te_h1_chunked_step(te_h1_chunked *c, const char *p, size_t len,
                       size_t *framing, size_t *data);

#endif
