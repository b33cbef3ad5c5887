/*
 * h2_abuse.h: the abuse limits of an HTTP/2 connection and the
 * process-wide HTTP/2 counters (h2_abuse.c), for h2_conn.c, whose
 * nghttp2 callbacks report what the client did. Internal to those two
 * files; te_h2_stats_get, the counters' reader, is in h2_conn.h.
 */
#ifndef TE_H2_ABUSE_H
#define TE_H2_ABUSE_H

#include "h2_conn.h"
#include "h2_stream.h"

/* ---- h2_abuse.c, for h2_conn.c ---- */

/* One more of a counter (enum te_h2_stat). */
void te_h2_count(int which);

/* Full buckets for a new connection (its session is set up). */
void te_h2_abuse_init(te_h2_conn *c);

/* End c for abuse: GOAWAY ENHANCE_YOUR_CALM, once, logged at info with
 * what there was too much of, and counted as which (enum te_h2_stat).
 * Nothing when c is no longer open. */
void te_h2_abuse_calm(te_h2_conn *c, int which, const char *what);

/* A glitch (our RST_STREAM, an invalid frame, an empty DATA frame);
 * what names it for the log should it end the connection. */
void te_h2_abuse_glitch(te_h2_conn *c, const char *what);

/* A control frame (SETTINGS, PING, PRIORITY, or a WINDOW_UPDATE beyond
 * what our DATA frames earned). */
void te_h2_abuse_control(te_h2_conn *c);

/* A client RST_STREAM of st (NULL: a stream we no longer hold). */
void te_h2_abuse_reset(te_h2_conn *c, te_h2_stream *st);

/* ---- h2_conn.c, for h2_abuse.c ---- */

/* No more input is looked at; what nghttp2 still has (a GOAWAY) goes
 * out, and the write callback comes once the output is empty. */
void te_h2_conn_closing(te_h2_conn *c);

#endif
