/*
 * body.c: body framing while moving bytes between evbuffers; see body.h.
 */
#include "body.h"

#include <string.h>

void te_body_init(te_body *b, int mode, uint64_t length, uint64_t max, int out)
{
    memset(b, 0, sizeof(*b));
    b->mode = mode;
    b->out = out;
    b->left = length;
    b->max = max;
    if (mode == TE_BODY_CHUNKED)
        te_h1_chunked_init(&b->chunk, 0);
}

/* "<hex size>\r\n" ahead of a chunk we write ourselves. */
static void add_chunk_size(struct evbuffer *out, uint64_t n)
{
    static const char digits[] = "0123456789abcdef";
    char buf[20];
    size_t i = sizeof(buf);

    buf[--i] = '\n';
    buf[--i] = '\r';
    do {
        buf[--i] = digits[n & 0xf];
        n >>= 4;
    } while (n != 0);
    evbuffer_add(out, buf + i, sizeof(buf) - i);
}

static te_status fail(te_body *b, int status)
{
    b->status = status;
    return TE_ERROR;
}

/* One segment's worth of framing and payload, written as b->out says. */
static void emit_chunk_span(te_body *b, struct evbuffer *in,
                            struct evbuffer *out, size_t framing, size_t data)
{
    if (b->out == TE_OUT_SAME) {
        evbuffer_remove_buffer(in, out, framing + data);
        b->moved += framing + data;
        return;
    }

    evbuffer_drain(in, framing);
    if (data == 0)
        return;

    if (b->out == TE_OUT_RECHUNK)
        add_chunk_size(out, data);
    evbuffer_remove_buffer(in, out, data);
    if (b->out == TE_OUT_RECHUNK)
        evbuffer_add(out, "\r\n", 2);
    b->moved += data;
}

static te_status move_chunked(te_body *b, struct evbuffer *in,
                              struct evbuffer *out, size_t limit)
{
    while (evbuffer_get_length(out) < limit) {
        struct evbuffer_iovec v;
        size_t framing, data;
        int rc;

        if (evbuffer_get_length(in) == 0 ||
            evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
            return TE_AGAIN;

        rc = te_h1_chunked_step(&b->chunk, v.iov_base, v.iov_len, &framing,
                                &data);
        if (rc < 0)
            return fail(b, 400);
        if (b->max != 0 && b->chunk.total > b->max)
            return fail(b, 413);
        if (framing + data == 0)
            return fail(b, 400); /* no progress: never loop on it */

        emit_chunk_span(b, in, out, framing, data);

        if (rc == TE_H1_CHUNK_DONE) {
            if (b->out == TE_OUT_RECHUNK)
                evbuffer_add(out, "0\r\n\r\n", 5);
            return TE_DONE;
        }
    }
    return TE_AGAIN;
}

/* Until the sender closes, or says it is done (te_body_end); rechunked,
 * each move of payload is one chunk. */
static te_status move_eof(te_body *b, struct evbuffer *in,
                          struct evbuffer *out, size_t limit)
{
    size_t n = evbuffer_get_length(in);

    if (n > 0 && evbuffer_get_length(out) >= limit)
        return TE_AGAIN;
    if (b->max != 0 && b->moved + n > b->max)
        return fail(b, 413);

    if (n > 0) {
        if (b->out == TE_OUT_RECHUNK)
            add_chunk_size(out, n);
        evbuffer_remove_buffer(in, out, n);
        if (b->out == TE_OUT_RECHUNK)
            evbuffer_add(out, "\r\n", 2);
        b->moved += n;
    }
    if (!b->ended)
        return TE_AGAIN;
    if (b->out == TE_OUT_RECHUNK)
        evbuffer_add(out, "0\r\n\r\n", 5);
    return TE_DONE;
}

void te_body_end(te_body *b)
{
    b->ended = 1;
}

te_status te_body_move(te_body *b, struct evbuffer *in, struct evbuffer *out,
                       size_t limit)
{
    size_t n;

    switch (b->mode) {
    case TE_BODY_NONE:
        return TE_DONE;

    case TE_BODY_LENGTH:
        if (b->left == 0)
            return TE_DONE;
        if (evbuffer_get_length(out) >= limit)
            return TE_AGAIN;
        n = evbuffer_get_length(in);
        if (n > b->left)
            n = (size_t)b->left;
        evbuffer_remove_buffer(in, out, n);
        b->left -= n;
        b->moved += n;
        return b->left == 0 ? TE_DONE : TE_AGAIN;

    case TE_BODY_CHUNKED:
        return move_chunked(b, in, out, limit);

    case TE_BODY_EOF:
    default:
        return move_eof(b, in, out, limit);
    }
}

/* Walk one contiguous span with a scratch decoder: TE_DONE at the last
 * chunk, TE_AGAIN when the span is used up, TE_ERROR on bad framing. */
static te_status check_span(te_body *b, te_h1_chunked *c, const char *p,
                            size_t len)
{
    while (len > 0) {
        size_t framing, data;
        int rc = te_h1_chunked_step(c, p, len, &framing, &data);

        if (rc < 0)
            return fail(b, 400);
        if (b->max != 0 && c->total > b->max)
            return fail(b, 413);
        if (rc == TE_H1_CHUNK_DONE)
            return TE_DONE;
        if (framing + data == 0)
            return fail(b, 400);
        p += framing + data;
        len -= framing + data;
    }
    return TE_AGAIN;
}

te_status te_body_check(te_body *b, struct evbuffer *in)
{
    te_h1_chunked scratch = b->chunk;
    struct evbuffer_ptr pos;
    struct evbuffer_iovec v;

    if (b->mode != TE_BODY_CHUNKED)
        return TE_OK;

    evbuffer_ptr_set(in, &pos, 0, EVBUFFER_PTR_SET);
    while (evbuffer_peek(in, -1, &pos, &v, 1) >= 1 && v.iov_len > 0) {
        te_status rc = check_span(b, &scratch, v.iov_base, v.iov_len);

        if (rc == TE_ERROR)
            return TE_ERROR;
        if (rc == TE_DONE)
            break;
        if (evbuffer_ptr_set(in, &pos, v.iov_len, EVBUFFER_PTR_ADD) < 0)
            break;
    }
    return TE_OK;
}
