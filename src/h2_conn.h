/*
 * h2_conn.h: an HTTP/2 client connection (nghttp2's server session),
 * from the connection preface to GOAWAY.
 *
 * Each stream is one te_request through the same module chain and the
 * same upstream leg (te_proxy) as an HTTP/1.1 request; backends stay
 * HTTP/1.1. What nghttp2 lets through or leaves to us (LIBRARIES.md 3)
 * is enforced here: host against :authority, our header list budget,
 * flow control tied to the backend taking the body, and the abuse
 * counters that end a connection with GOAWAY ENHANCE_YOUR_CALM.
 */
#ifndef TE_H2_CONN_H
#define TE_H2_CONN_H

#include <sys/socket.h>

#include <event2/util.h>
#include <openssl/ssl.h>

#include "core.h"

/*
 * Take over fd, a connection whose client speaks HTTP/2: after TLS with
 * ALPN h2 (ssl, whose handshake is done), or with prior knowledge on a
 * cleartext listener with h2c on (ssl NULL; the preface is still in the
 * socket). Closes fd (and frees ssl) on failure.
 */
void te_h2_conn_accept(te_worker *w, evutil_socket_t fd,
                       const struct sockaddr *sa, int socklen, SSL *ssl);

/* Drain: GOAWAY to every connection (a shutdown notice, then the last
 * stream id); each closes once its streams are done. */
void te_h2_conns_drain(te_worker *w);

/* Reload: the same graceful GOAWAY to every TLS connection, whose
 * clients then open new ones on the new certificates; streams in flight
 * finish, the worker goes on. */
void te_h2_conns_retire_tls(te_worker *w);

/* Close every connection of the worker at once (drain timeout, exit). */
void te_h2_conns_close(te_worker *w);

/* Process-wide counters (relaxed atomics): connections and streams
 * served, and the connections ended with ENHANCE_YOUR_CALM, by limit. */
enum te_h2_stat {
    TE_H2_CONNECTIONS = 0,
    TE_H2_STREAMS,
    TE_H2_CALM_RESETS,        /* http2_max_resets */
    TE_H2_CALM_CONTROL,       /* http2_max_control_frames */
    TE_H2_CALM_GLITCHES,      /* http2_max_glitches */
    TE_H2_CALM_CONTINUATIONS, /* nghttp2's CONTINUATION limit */
    TE_H2_CALM_FLOOD,         /* nghttp2's queue of frames to ack */
    TE_H2_BUSY_RESETS,        /* client resets of a stream whose backend
                                 leg was busy (each aborted at once) */
    TE_H2_NSTATS
};

void te_h2_stats_get(uint64_t out[TE_H2_NSTATS]);

#endif
