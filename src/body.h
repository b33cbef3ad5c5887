/*
 * body.h: moving a message body from one evbuffer to another without
 * copying it, while reading its framing.
 *
 * Both legs use it: the client side moves a request body toward the
 * backend (a chunked one re-encoded as clean chunks), the upstream leg
 * moves a response body toward the client (chunks kept as they are, or
 * unwrapped for a client that cannot read them). Payload moves with
 * evbuffer_remove_buffer; only chunk framing is ever written.
 */
#ifndef TE_BODY_H
#define TE_BODY_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "http1_parser.h"
#include "tenantedge/status.h"

enum te_body_mode {
    TE_BODY_NONE = 0, /* no body */
    TE_BODY_LENGTH,   /* Content-Length bytes */
    TE_BODY_CHUNKED,  /* chunked, up to the last chunk */
    TE_BODY_EOF       /* until the sender closes */
};

enum te_body_out {
    TE_OUT_SAME = 0, /* framing passes through unchanged */
    TE_OUT_PAYLOAD,  /* chunk framing dropped */
    TE_OUT_RECHUNK   /* chunk framing rewritten: no extensions,
                        no trailers */
};

typedef struct te_body {
    int mode;       /* enum te_body_mode */
    int out;        /* enum te_body_out */
    uint64_t left;  /* TE_BODY_LENGTH: bytes still to come */
    uint64_t max;   /* payload limit, 0 for none */
    uint64_t moved; /* bytes written to the destination */
    int status;     /* after TE_ERROR: 400 or 413 */
    unsigned ended : 1; /* TE_BODY_EOF: the sender is done (te_body_end) */
    te_h1_chunked chunk;
} te_body;

void te_body_init(te_body *b, int mode, uint64_t length, uint64_t max, int out);

/*
 * Move body bytes from in to out, stopping when the body ends, in is
 * empty, or out holds limit bytes or more (a soft bound: one input
 * segment may pass it). Returns TE_DONE once the body is complete (bytes
 * after it stay in in), TE_AGAIN when more input or room is needed, and
 * TE_ERROR on bad chunk framing (status 400) or a payload above max
 * (status 413). TE_BODY_EOF never completes here: the caller ends it
 * when the sender closes.
 */
te_status te_body_move(te_body *b, struct evbuffer *in, struct evbuffer *out,
                       size_t limit);

/*
 * TE_BODY_EOF: the sender has sent everything (an HTTP/2 END_STREAM).
 * The next te_body_move that empties in returns TE_DONE, after writing
 * the last chunk when the output is TE_OUT_RECHUNK. A TE_BODY_EOF body
 * with TE_OUT_RECHUNK is how a request body without a length (HTTP/2
 * DATA frames) goes to an HTTP/1.1 backend: each move one chunk.
 */
void te_body_end(te_body *b);

/*
 * Check the chunked framing of the body bytes already in in, without
 * consuming them, so a bad chunk that came with the head is refused
 * before anything is sent on. TE_OK, or TE_ERROR with status set.
 */
te_status te_body_check(te_body *b, struct evbuffer *in);

#endif
