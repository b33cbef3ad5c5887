/*
 * h2_abuse.c: the abuse limits nghttp2 1.52 leaves to us (LIBRARIES.md
 * 3), and the process-wide HTTP/2 counters. Each limit is a bucket of N
 * events refilled at N per 10 s (config.h): client resets, control
 * frames, and glitches (our resets, invalid frames, empty DATA). Empty,
 * the connection ends with GOAWAY ENHANCE_YOUR_CALM, logged once at
 * info and counted (te_h2_stats_get). Apart from h2_conn.c, which
 * reports to it from its nghttp2 callbacks, because this is a policy
 * with its own arithmetic, not the connection's I/O or life cycle.
 */
#include "h2_abuse.h"

#include <stdatomic.h>

#include "log.h"

/* The bucket unit: 1/10000 of an event, refilled n units per ms. */
#define TE_H2_UNIT 10000

static _Atomic uint64_t stats[TE_H2_NSTATS];

void te_h2_count(int which)
{
    atomic_fetch_add_explicit(&stats[which], 1, memory_order_relaxed);
}

void te_h2_stats_get(uint64_t out[TE_H2_NSTATS])
{
    for (int i = 0; i < TE_H2_NSTATS; i++)
        out[i] = atomic_load_explicit(&stats[i], memory_order_relaxed);
}

static void bucket_init(te_h2_bucket *b, unsigned n, uint64_t now)
{
    b->units = (uint64_t)n * TE_H2_UNIT;
    b->at_ms = now;
}

/* Take cost events from a bucket of n per 10 s; -1 when it is empty. */
static int bucket_take(te_h2_bucket *b, unsigned n, unsigned cost, uint64_t now)
{
    uint64_t cap = (uint64_t)n * TE_H2_UNIT;

    if (now > b->at_ms) {
        b->units += (now - b->at_ms) * n;
        if (b->units > cap)
            b->units = cap;
        b->at_ms = now;
    }
    if (b->units < (uint64_t)cost * TE_H2_UNIT)
        return -1;
    b->units -= (uint64_t)cost * TE_H2_UNIT;
    return 0;
}

void te_h2_abuse_init(te_h2_conn *c)
{
    const te_config *cf = c->w->cf;
    uint64_t now = te_h2_now_ms(c);

    bucket_init(&c->resets, cf->h2_max_resets, now);
    bucket_init(&c->control, cf->h2_max_control, now);
    bucket_init(&c->glitches, cf->h2_max_glitches, now);
}

/* End the connection for abuse: GOAWAY ENHANCE_YOUR_CALM, once. */
void te_h2_abuse_calm(te_h2_conn *c, int which, const char *what)
{
    if (c->state != TE_H2_OPEN)
        return;
    te_log(TE_LOG_INFO,
           "http2 connection ended with ENHANCE_YOUR_CALM: too many %s "
           "client=%s",
           what, c->addr);
    te_h2_count(which);
    nghttp2_session_terminate_session(c->session, NGHTTP2_ENHANCE_YOUR_CALM);
    te_h2_conn_closing(c);
}

void te_h2_abuse_glitch(te_h2_conn *c, const char *what)
{
    if (bucket_take(&c->glitches, c->w->cf->h2_max_glitches, 1,
                    te_h2_now_ms(c)) < 0)
        te_h2_abuse_calm(c, TE_H2_CALM_GLITCHES, what);
}

void te_h2_abuse_control(te_h2_conn *c)
{
    if (bucket_take(&c->control, c->w->cf->h2_max_control, 1, te_h2_now_ms(c)) <
        0)
        te_h2_abuse_calm(c, TE_H2_CALM_CONTROL,
                         "control frames (SETTINGS, PING, PRIORITY, "
                         "WINDOW_UPDATE)");
}

/* A client RST_STREAM. One whose stream still had a backend leg busy
 * costs twice: its backend work was started for nothing (the leg is
 * aborted at once, in h2_conn.c's on_stream_close). */
void te_h2_abuse_reset(te_h2_conn *c, te_h2_stream *st)
{
    unsigned cost = 1;

    if (st != NULL && st->proxy.active) {
        te_h2_count(TE_H2_BUSY_RESETS);
        cost = 2;
    }
    if (bucket_take(&c->resets, c->w->cf->h2_max_resets, cost,
                    te_h2_now_ms(c)) < 0)
        te_h2_abuse_calm(c, TE_H2_CALM_RESETS, "streams reset by the client");
}
