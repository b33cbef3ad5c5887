/*
 * handshake.h: the start of an accepted connection, before its protocol
 * is known: the TLS handshake on a tls listener (ALPN then says h2 or
 * HTTP/1.1), or on a cleartext listener with h2c on, a look at the
 * first bytes for the HTTP/2 preface. Plain listeners without h2c skip
 * this and go to HTTP/1.1 at once.
 *
 * A handshake that fails or times out is counted and logged at debug:
 * scanners and broken clients are no error of ours.
 */
#ifndef TE_HANDSHAKE_H
#define TE_HANDSHAKE_H

#include <sys/socket.h>

#include <event2/util.h>

#include "config.h"
#include "core.h"

/* A connection accepted on listener l of w's config. Takes over fd. */
void te_conn_accept(te_worker *w, const te_listen *l, evutil_socket_t fd,
                    struct sockaddr *sa, int socklen);

/* Drain or exit: close every connection still in its handshake. */
void te_handshakes_close(te_worker *w);

#endif
