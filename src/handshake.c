/*
 * handshake.c: an accepted connection until its protocol is known.
 *
 * Three ways in (handshake.h):
 *   - a cleartext listener without h2c: HTTP/1.1 at once, with no object
 *     and no system call of its own (the benchmark path);
 *   - a cleartext listener with h2c on: a peek (MSG_PEEK) at the first
 *     bytes; the HTTP/2 preface goes to h2_conn.c, anything else to
 *     HTTP/1.1. Nothing is consumed: each side reads the bytes itself;
 *   - a tls listener: the TLS handshake, driven by the readiness
 *     SSL_do_handshake asks for; ALPN then says h2 or HTTP/1.1.
 * The first try is made at once (the client usually spoke already), and
 * only a connection that has to wait becomes a te_handshake: one I/O
 * event, one deadline, in w->handshakes and counted as a connection, so
 * a drain closes it and knows when the worker is empty.
 *
 * Failed and timed-out handshakes are scanners, old clients and broken
 * networks, not faults of ours: counted (te_tls_count) and logged at
 * debug only.
 */
#include "handshake.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "h2_conn.h"
#include "http1_conn.h"
#include "log.h"
#include "sock.h"
#include "tls.h"
#include "worker.h"

/* RFC 9113 3.4: the client connection preface of HTTP/2. */
#define TE_H2_PREFACE     "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define TE_H2_PREFACE_LEN 24

typedef struct te_handshake te_handshake;

struct te_handshake {
    TAILQ_ENTRY(te_handshake) link; /* w->handshakes */
    te_worker *w;
    evutil_socket_t fd;
    SSL *ssl;              /* NULL: the h2c preface check */
    struct event io;       /* what the next step waits for */
    struct event deadline; /* the handshake or header timeout */
    short waiting;         /* io's events; 0: io not assigned */
    int socklen;
    struct sockaddr_storage sa;
};

/* What the first bytes of a cleartext connection say (h2c_sniff). */
enum { SNIFF_CLOSE, SNIFF_WAIT, SNIFF_H1, SNIFF_H2 };

static void hs_io_cb(evutil_socket_t fd, short what, void *arg);
static void hs_deadline_cb(evutil_socket_t fd, short what, void *arg);

/* ------------------------------------------------------- the object -- */

static te_handshake *hs_new(te_worker *w, evutil_socket_t fd,
                            const struct sockaddr *sa, int socklen,
                            const struct timeval *tmo)
{
    te_handshake *h = calloc(1, sizeof(*h));

    if (h == NULL) {
        te_log_errno(TE_LOG_ERROR, "cannot allocate a handshake");
        return NULL;
    }
    h->w = w;
    h->fd = fd;
    if (socklen < 0 || (size_t)socklen > sizeof(h->sa))
        socklen = sizeof(h->sa);
    memcpy(&h->sa, sa, (size_t)socklen);
    h->socklen = socklen;
    evtimer_assign(&h->deadline, w->base, hs_deadline_cb, h);
    evtimer_add(&h->deadline, tmo);
    TAILQ_INSERT_TAIL(&w->handshakes, h, link);
    te_worker_conn_added(w);
    return h;
}

/* Out of the worker's list, its events gone (io unless keep_io); fd
 * and ssl untouched. */
static void hs_detach(te_handshake *h, int keep_io)
{
    if (h->waiting != 0 && !keep_io) {
        event_del(&h->io);
        h->waiting = 0;
    }
    event_del(&h->deadline);
    TAILQ_REMOVE(&h->w->handshakes, h, link);
}

/* The end of a connection that never got a protocol. */
static void hs_close(te_handshake *h)
{
    te_worker *w = h->w;

    hs_detach(h, 0);
    SSL_free(h->ssl);
    close(h->fd);
    free(h);
    te_worker_conn_removed(w); /* last: it may end a drained loop */
}

/* Wait for what (EV_READ or EV_WRITE, maybe EV_ET). 0, or -1. */
static int hs_wait(te_handshake *h, short what)
{
    if (h->waiting == what)
        return 0;
    if (h->waiting != 0)
        event_del(&h->io);
    event_assign(&h->io, h->w->base, h->fd, what | EV_PERSIST, hs_io_cb, h);
    if (event_add(&h->io, NULL) < 0) {
        h->waiting = 0;
        return -1;
    }
    h->waiting = what;
    return 0;
}

/*
 * The protocol is known: the connection goes to its owner, which takes
 * fd and ssl over. Our read event goes only after the owner registered
 * its own on the same fd: libevent then leaves epoll as it is, where
 * the other order costs a DEL and an ADD. Not so for the h2c wait,
 * which is edge-triggered and which libevent will not mix with the
 * owner's level-triggered event. The count goes last, so a drain never
 * sees zero in between.
 */
static void hs_handoff(te_handshake *h, int h2)
{
    te_worker *w = h->w;

    hs_detach(h, !(h->waiting & EV_ET));
    if (h2)
        te_h2_conn_accept(w, h->fd, (struct sockaddr *)&h->sa, h->socklen,
                          h->ssl);
    else
        te_h1_conn_accept(w, h->fd, (struct sockaddr *)&h->sa, h->socklen,
                          h->ssl);
    if (h->waiting != 0)
        event_del(&h->io); /* the fd may be closed: libevent takes that */
    free(h);
    te_worker_conn_removed(w);
}

/* -------------------------------------------------------------- TLS -- */

/* A handshake that did not complete: counted, one debug line with the
 * client and why (OpenSSL's reason, errno, or what), closed. */
static void hs_tls_failed(te_handshake *h, int err, int sys_errno,
                          const char *what)
{
    char addr[INET6_ADDRSTRLEN], buf[256];
    unsigned long e;

    te_tls_count(0, h->ssl);
    if (te_log_enabled(TE_LOG_DEBUG)) {
        e = ERR_peek_last_error();
        if (what != NULL) {
            /* given */
        } else if (err == SSL_ERROR_SSL && e != 0) {
            what = ERR_reason_error_string(e);
            if (what == NULL) {
                ERR_error_string_n(e, buf, sizeof(buf));
                what = buf;
            }
        } else if (err == SSL_ERROR_SSL) {
            what = "protocol error";
        } else if (err == SSL_ERROR_SYSCALL && sys_errno != 0) {
            what = strerror(sys_errno);
        } else {
            what = "connection closed";
        }
        te_addr_text((const struct sockaddr *)&h->sa, addr, sizeof(addr));
        te_log(TE_LOG_DEBUG, "tls handshake failed client=%s reason=%s", addr,
               what);
    }
    ERR_clear_error();
    hs_close(h);
}

/* One step of SSL_do_handshake: done, wait for what it asks, or fail. */
static void hs_tls_step(te_handshake *h)
{
    int rc, err, sys_errno;

    ERR_clear_error();
    errno = 0;
    rc = SSL_do_handshake(h->ssl);
    if (rc == 1) {
        te_tls_count(1, h->ssl);
        hs_handoff(h, te_tls_is_h2(h->ssl));
        return;
    }

    sys_errno = errno;
    err = SSL_get_error(h->ssl, rc);
    if (err == SSL_ERROR_WANT_READ && hs_wait(h, EV_READ) == 0)
        return;
    if (err == SSL_ERROR_WANT_WRITE && hs_wait(h, EV_WRITE) == 0)
        return;
    hs_tls_failed(h, err, sys_errno, NULL);
}

static void hs_tls_start(te_worker *w, evutil_socket_t fd,
                         const struct sockaddr *sa, int socklen)
{
    unsigned ms = te_tls_handshake_timeout(w->tls);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    const struct timeval *tmo;
    te_handshake *h;
    SSL *ssl;
    int one = 1;

    ssl = te_tls_new_ssl(w->tls, fd); /* logs its own failure */
    if (ssl == NULL) {
        close(fd);
        return;
    }
    SSL_set_accept_state(ssl);

    /* One queue per distinct timeout (libevent finds the one it has). */
    tmo = event_base_init_common_timeout(w->base, &tv);
    h = hs_new(w, fd, sa, socklen, tmo != NULL ? tmo : &tv);
    if (h == NULL) {
        SSL_free(ssl);
        close(fd);
        return;
    }
    h->ssl = ssl;

    /* The server's flights (and TLS 1.3 tickets) must not wait for an
     * ACK behind Nagle. Not fatal: only latency suffers. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
        /* see above */
    }
    hs_tls_step(h);
}

/* -------------------------------------------------------------- h2c -- */

/* RFC 9113 3.3: prior knowledge means the preface comes first. A proper
 * prefix of it may still become it; anything else is HTTP/1.1. */
static int h2c_sniff(evutil_socket_t fd)
{
    char buf[TE_H2_PREFACE_LEN];
    ssize_t n;

    n = recv(fd, buf, sizeof(buf), MSG_PEEK);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
                   ? SNIFF_WAIT
                   : SNIFF_CLOSE;
    if (n == 0)
        return SNIFF_CLOSE;
    if (memcmp(buf, TE_H2_PREFACE, (size_t)n) != 0)
        return SNIFF_H1;
    return n == TE_H2_PREFACE_LEN ? SNIFF_H2 : SNIFF_WAIT;
}

/* Peeked bytes keep the socket readable: the wait is edge-triggered, so
 * only new bytes wake it (a client stalled inside the preface meets the
 * header timeout). */
static void hs_h2c_step(te_handshake *h)
{
    switch (h2c_sniff(h->fd)) {
    case SNIFF_WAIT:
        if (hs_wait(h, EV_READ | EV_ET) < 0)
            hs_close(h);
        return;
    case SNIFF_H1:
        hs_handoff(h, 0);
        return;
    case SNIFF_H2:
        hs_handoff(h, 1);
        return;
    default:
        hs_close(h);
        return;
    }
}

static void hs_h2c_start(te_worker *w, evutil_socket_t fd, struct sockaddr *sa,
                         int socklen)
{
    te_handshake *h;

    switch (h2c_sniff(fd)) {
    case SNIFF_H1:
        te_h1_conn_accept(w, fd, sa, socklen, NULL);
        return;
    case SNIFF_H2:
        te_h2_conn_accept(w, fd, sa, socklen, NULL);
        return;
    case SNIFF_CLOSE:
        close(fd);
        return;
    default:
        break;
    }

    h = hs_new(w, fd, sa, socklen, w->tmo.header);
    if (h == NULL) {
        close(fd);
        return;
    }
    if (hs_wait(h, EV_READ | EV_ET) < 0)
        hs_close(h);
}

/* ----------------------------------------------------------- events -- */

static void hs_io_cb(evutil_socket_t fd, short what, void *arg)
{
    te_handshake *h = arg;

    if (h->ssl != NULL)
        hs_tls_step(h);
    else
        hs_h2c_step(h);
}

static void hs_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    te_handshake *h = arg;

    if (h->ssl != NULL)
        hs_tls_failed(h, SSL_ERROR_NONE, 0, "timed out");
    else
        hs_close(h); /* quietly: a cleartext client that said nothing */
}

/* -------------------------------------------------------------- API -- */

void te_conn_accept(te_worker *w, const te_listen *l, evutil_socket_t fd,
                    struct sockaddr *sa, int socklen)
{
    if (l->tls) {
        if (w->tls == NULL) { /* a tls listener needs a tls block */
            close(fd);
            return;
        }
        hs_tls_start(w, fd, sa, socklen);
        return;
    }
    if (!w->cf->h2c) {
        te_h1_conn_accept(w, fd, sa, socklen, NULL);
        return;
    }
    hs_h2c_start(w, fd, sa, socklen);
}

void te_handshakes_close(te_worker *w)
{
    te_handshake *h;

    /* Bounded: each turn frees the first. */
    while ((h = TAILQ_FIRST(&w->handshakes)) != NULL)
        hs_close(h);
}
