/*
 * http1_conn.h: the client side of HTTP/1.1: one te_h1_conn per accepted
 * connection, reading heads and bodies, answering in order (keep-alive
 * and pipelining), and handing each routed request to an upstream leg.
 */
#ifndef TE_HTTP1_CONN_H
#define TE_HTTP1_CONN_H

#include <sys/socket.h>

#include <event2/util.h>
#include <openssl/ssl.h>

#include "core.h"

/*
 * Takes over fd and ssl (closes and frees them on failure). ssl NULL: a
 * cleartext connection; else its TLS handshake is done (handshake.c)
 * and ALPN chose HTTP/1.1 or nothing: requests are marked https
 * (X-Forwarded-Proto) and responses carry the configured
 * Strict-Transport-Security.
 */
void te_h1_conn_accept(te_worker *w, evutil_socket_t fd,
                       const struct sockaddr *sa, int socklen, SSL *ssl);

/* Drain: close the worker's idle connections now; the others close once
 * their request in flight is answered. */
void te_h1_conns_drain(te_worker *w);

/* Close every connection of the worker at once (drain timeout, exit). */
void te_h1_conns_close(te_worker *w);

#endif
