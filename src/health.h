/*
 * health.h: the passive health of one backend as one worker sees it.
 *
 * Nothing is sent to a backend to check it: the requests it serves are
 * the evidence. A backend is marked down by a failed connect, or by
 * upstream_max_fails failures in a row before a response head (reset or
 * EOF, an invalid head, a timeout), for upstream_fail_timeout. Then one
 * request at a time probes it (half-open): a response head brings it
 * back, a failure keeps it down twice as long, up to
 * TE_HEALTH_MAX_BACKOFF times upstream_fail_timeout. The status of a
 * response does not count: a 503 is an answer.
 *
 * Each worker keeps its own te_health per backend, next to its pool
 * (upstream.h), and only that worker's thread touches it: no lock. This
 * file is the state machine alone, on a clock the caller passes in; the
 * caller logs the transitions it reports.
 */
#ifndef TE_HEALTH_H
#define TE_HEALTH_H

#include <stdint.h>

#include "config.h"

/* The longest down period, in upstream_fail_timeouts. */
#define TE_HEALTH_MAX_BACKOFF 8

typedef struct te_health {
    uint64_t down_since; /* ms, while down */
    uint64_t down_until; /* ms: a probe may go from then on */
    uint64_t backoff;    /* ms of the current down period */
    unsigned fails;      /* failures in a row */
    unsigned down : 1;
    unsigned probing : 1; /* a probe is in flight */
} te_health;

/* What a verdict changed, for the caller's log line. */
enum te_health_change {
    TE_HEALTH_SAME = 0,
    TE_HEALTH_DOWN,       /* it was up: now down for h->backoff */
    TE_HEALTH_STILL_DOWN, /* a probe failed: down for h->backoff again */
    TE_HEALTH_UP          /* a probe got an answer */
};

/* Monotonic milliseconds: down periods must not move with the clock. */
uint64_t te_health_now(void);

/* May the backend take a request at now: up, or down with its time over
 * and no probe out yet? */
int te_health_usable(const te_health *h, uint64_t now);

/* A request goes to the backend. Returns 1 when that request probes it
 * (the backend is down; other requests then keep off it until the
 * probe's verdict or te_health_abandon), else 0. */
int te_health_begin(te_health *h);

/* A probe ends without a verdict (the client went away, a local error):
 * another request may probe. */
void te_health_abandon(te_health *h);

/*
 * The backend failed a request before a response head; probe says
 * whether that request was a probe (te_health_begin), connect whether
 * the connect itself failed (that marks it down at once). Failures of
 * requests sent before it went down change nothing. Returns the change.
 */
int te_health_failed(te_health *h, const te_config *cf, int probe, int connect,
                     uint64_t now);

/* The backend sent a response head: its run of failures ends, and a
 * probe's answer brings it back. An answer to a request sent before it
 * went down does not. Returns the change. */
int te_health_ok(te_health *h, int probe);

#endif
