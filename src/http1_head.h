/*
 * http1_head.h: writing HTTP/1.1 heads: the request head a backend gets,
 * the response head a client gets, and the edge's own short answers.
 *
 * This is where the proxy's header rules live (RFC 9110 7.6.1 hop-by-hop
 * fields, X-Forwarded-*, X-Request-Id), so both legs apply the same ones.
 */
#ifndef TE_HTTP1_HEAD_H
#define TE_HTTP1_HEAD_H

#include <event2/buffer.h>

#include "http1_parser.h"
#include "request.h"

/*
 * The request head for the backend: origin-form request line, the
 * client's fields minus hop-by-hop ones, Content-Length, Expect and
 * those te_request_field_dropped keeps back (X-Forwarded-*, Forwarded,
 * X-Real-IP, X-Request-Id, internal headers, names with '_' unless
 * underscores_in_headers is on), then Host when the client gave it only
 * in an absolute-form target, the X-Forwarded-* and X-Request-Id the
 * edge sets itself, the fields modules added and the framing of the
 * body as it will be sent (Content-Length, or Transfer-Encoding:
 * chunked). A dropped name with '_' is logged at debug, once per call.
 */
void te_h1_head_request(struct evbuffer *out, const te_request *r);

/* Flags for te_h1_head_response. */
#define TE_H1_HEAD_CHUNKED    0x1 /* the body goes out chunked */
#define TE_H1_HEAD_CLOSE      0x2 /* the connection closes after it */
#define TE_H1_HEAD_KEEP_ALIVE 0x4 /* say keep-alive (HTTP/1.0 client) */

/* The response head for the client: the backend's status and fields
 * minus hop-by-hop ones and its X-Request-Id, then ours and the framing
 * and Connection the flags say. Returns the bytes written. */
size_t te_h1_head_response(struct evbuffer *out, const te_h1_response *res,
                           const te_request *r, unsigned flags);

/* Room for any te_error_json body: the longest text and a 64-byte id. */
#define TE_ERROR_JSON_MAX 192

/*
 * The body of the edge's own error answers, for either protocol:
 * {"error":"...","request_id":"..."} and a newline, into out (cap
 * bytes, TE_ERROR_JSON_MAX is always enough). Returns its length.
 */
size_t te_error_json(int status, const char *id, char *out, size_t cap);

/*
 * A complete answer from the edge itself, with Connection: close, the
 * te_error_json body, and Strict-Transport-Security: hsts unless hsts is
 * NULL. Returns the bytes written.
 */
size_t te_h1_write_error(struct evbuffer *out, int status, const char *id,
                         const char *hsts);

/*
 * A module's answer (te_respond): its status, Content-Type, body and the
 * fields modules added for the response, with the Connection the flags
 * say (TE_H1_HEAD_CLOSE, TE_H1_HEAD_KEEP_ALIVE). head_only: a HEAD
 * request, the body is left out. Returns the bytes written.
 */
size_t te_h1_write_answer(struct evbuffer *out, const te_request *r,
                          unsigned flags, int head_only);

/* The reason phrase and the error text for a status the edge sends. */
const char *te_h1_reason(int status);

#endif
