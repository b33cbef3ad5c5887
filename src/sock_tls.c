/*
 * sock_tls.c: te_sock over TLS: the te_sock_io ops on SSL_read_ex and
 * SSL_write_ex, and the handlers of the two socket events that
 * te_sock_set_tls puts in place of sock.c's. Apart from sock.c so that
 * the plain path stays free of it: sock.c calls in here only for a sock
 * whose ssl is set.
 *
 * Two things differ from a plain socket: OpenSSL may hold bytes the
 * kernel no longer reports (a record read whole, only part of it
 * taken), so the read event is made to run again while they last
 * (te_sock_tls_rerun); and a read may need the socket writable or a
 * write readable, which the read_wants_write and write_wants_read bits
 * route to the right event.
 */
#include "sock_int.h"

#include <errno.h>

#include <openssl/err.h>

/* TLS: output goes into records of up to this many bytes (the TLS
 * maximum), each one SSL_write, so small evbuffer chains never become
 * small records; at most TE_SOCK_TLS_WRITE_MAX bytes per write call, the
 * rest from EV_WRITE, so one big response cannot hold the loop. */
#define TE_SOCK_TLS_RECORD    16384
#define TE_SOCK_TLS_WRITE_MAX (4 * TE_SOCK_TLS_RECORD)

/* Where chains shorter than a record are gathered for SSL_write. */
static __thread unsigned char tls_stage[TE_SOCK_TLS_RECORD];

/*
 * Bytes OpenSSL already holds (the rest of a record a small read left,
 * or what read-ahead took) make no event under level triggering: run the
 * read event again while reading is on. Any event_del of rev (reading
 * stops, the high mark, close) cancels the activation with it.
 */
void te_sock_tls_rerun(te_sock *s)
{
    if (s->rev_added && s->reading && !s->read_wants_write &&
        SSL_has_pending(s->ssl))
        event_active(&s->rev, EV_READ, 1);
}

/* A fatal TLS error (SSL_ERROR_SYSCALL or SSL_ERROR_SSL): errno for the
 * owner, no close_notify later (SSL_shutdown must not follow one). */
static ssize_t tls_fatal(te_sock *s, int err)
{
    if (err != SSL_ERROR_SYSCALL || errno == 0)
        errno = EPROTO;
    s->tls_failed = 1;
    ERR_clear_error();
    return -1;
}

/*
 * SSL_read_ex into the spans: records while OpenSSL holds more of them
 * (read-ahead) and a whole one still fits, so a stream comes up in a
 * few records per read and a record is cut only when the room was short
 * from the start (the high mark). Each SSL_read_ex returns at most one
 * record. A read that needs the socket writable (renegotiation, were it
 * on) waits on EV_WRITE with the read event dropped (tls_write_ev takes
 * it up). With SSL_OP_IGNORE_UNEXPECTED_EOF (tls.c sets it) a peer that
 * closes without close_notify is an EOF like a clean close.
 */
static ssize_t tls_read(te_sock *s, struct evbuffer_iovec *v, int n)
{
    size_t got, total = 0, room = 0, off = 0;
    int i = 0, rc = 1, err;

    for (int k = 0; k < n; k++)
        room += v[k].iov_len;

    ERR_clear_error();
    /* Bounded: each turn takes bytes or ends the loop. */
    while (i < n && room > 0) {
        if (total > 0 && SSL_pending(s->ssl) == 0 &&
            (room < TE_SOCK_TLS_RECORD || !SSL_has_pending(s->ssl)))
            break; /* between records: the next one waits */
        rc = SSL_read_ex(s->ssl, (char *)v[i].iov_base + off,
                         v[i].iov_len - off, &got);
        if (rc != 1)
            break;
        total += got;
        room -= got;
        off += got;
        if (off == v[i].iov_len) {
            i++;
            off = 0;
        }
    }

    if (rc != 1) {
        err = SSL_get_error(s->ssl, rc);
        if (err == SSL_ERROR_WANT_WRITE) {
            s->read_wants_write = 1;
            if (!s->wev_added && event_add(&s->wev, s->wtmo) == 0)
                s->wev_added = 1;
            te_sock_update_read(s);
        } else if (total > 0 && err != SSL_ERROR_WANT_READ) {
            /* the bytes first; the EOF or error shows on the next call,
             * which the socket may never trigger */
            ERR_clear_error();
            if (s->rev_added)
                event_active(&s->rev, EV_READ, 1);
            return (ssize_t)total;
        }
        if (total > 0) {
            ERR_clear_error();
            return (ssize_t)total;
        }
        switch (err) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
            ERR_clear_error();
            errno = EAGAIN;
            return -1;
        case SSL_ERROR_ZERO_RETURN:
            return 0;
        default:
            return tls_fatal(s, err);
        }
    }

    te_sock_tls_rerun(s);
    return (ssize_t)total;
}

/*
 * Records of up to TE_SOCK_TLS_RECORD bytes, one SSL_write_ex each: the
 * front of out, straight from its first chain when that chain holds a
 * whole record, else gathered into tls_stage. A retry after WANT_WRITE
 * passes the same bytes again, at least as many (out only grows at its
 * end), which SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets come from
 * another address. A write that needs the socket readable waits on the
 * read event, never on EV_WRITE (the socket is writable: it would spin).
 */
static ssize_t tls_write(te_sock *s, struct evbuffer *out)
{
    struct evbuffer_iovec v;
    size_t len, done, total = 0;
    const void *p;
    int rc, err;

    ERR_clear_error();
    while (total < TE_SOCK_TLS_WRITE_MAX &&
           (len = evbuffer_get_length(out)) > 0) {
        if (len > TE_SOCK_TLS_RECORD)
            len = TE_SOCK_TLS_RECORD;
        if (evbuffer_peek(out, (ev_ssize_t)len, NULL, &v, 1) == 1) {
            p = v.iov_base;
        } else {
            if (evbuffer_copyout(out, tls_stage, len) != (ev_ssize_t)len) {
                errno = ENOMEM;
                return total > 0 ? (ssize_t)total : -1;
            }
            p = tls_stage;
        }

        rc = SSL_write_ex(s->ssl, p, len, &done);
        if (rc == 1) {
            evbuffer_drain(out, done);
            total += done;
            continue;
        }

        err = SSL_get_error(s->ssl, rc);
        if (err == SSL_ERROR_WANT_READ) {
            s->write_wants_read = 1;
            te_sock_write_idle(s);
            te_sock_update_read(s);
        } else if (err != SSL_ERROR_WANT_WRITE && total == 0) {
            return tls_fatal(s, err);
        }
        ERR_clear_error(); /* a fatal error shows on the next call */
        if (total > 0)
            break;
        errno = EAGAIN;
        return -1;
    }
    return (ssize_t)total;
}

static const te_sock_io tls_io = {
    .read = tls_read,
    .write = tls_write,
};

/* The read event of a TLS sock: a write that waited for the socket to
 * be readable goes first; then the read, as on a plain sock. */
static void tls_read_ev(evutil_socket_t fd, short what, void *arg)
{
    te_sock *s = arg;

    if (s->write_wants_read) {
        s->write_wants_read = 0;
        if ((what & EV_TIMEOUT) && !s->reading) {
            te_sock_stop_writing(s);
            te_sock_update_read(s);
            te_sock_event(s, TE_SOCK_WRITING | TE_SOCK_TIMEOUT);
            goto out;
        }
        if (!(what & EV_TIMEOUT)) {
            te_sock_update_read(s);
            if (te_sock_write(s))
                goto out; /* the owner ran; the socket calls again */
        }
    }
    /* rev may be registered for the write alone */
    if (s->reading && !s->read_wants_write)
        te_sock_on_read(s, what);
out:
    te_sock_flush_pending();
}

/* The write event of a TLS sock: a read that waited for the socket to
 * be writable goes on from the read event (made to run now: what it
 * needs may already be inside OpenSSL), then output is written. */
static void tls_write_ev(evutil_socket_t fd, short what, void *arg)
{
    te_sock *s = arg;

    if (s->read_wants_write && !(what & EV_TIMEOUT)) {
        s->read_wants_write = 0;
        te_sock_update_read(s);
        if (s->rev_added)
            event_active(&s->rev, EV_READ, 1);
        if (evbuffer_get_length(s->out) == 0 || s->write_off) {
            te_sock_write_idle(s);
            goto out;
        }
    }
    te_sock_on_write(s, what);
out:
    te_sock_flush_pending();
}

/* Once, when the sock is done: close_notify, not waiting for the
 * peer's; whatever SSL_shutdown says is of no use any more. */
void te_sock_tls_close_notify(te_sock *s)
{
    if (s->tls_failed || (SSL_get_shutdown(s->ssl) & SSL_SENT_SHUTDOWN))
        return;
    ERR_clear_error();
    SSL_shutdown(s->ssl);
    ERR_clear_error();
}

void te_sock_set_tls(te_sock *s, SSL *ssl)
{
    struct event_base *base = event_get_base(&s->rev);

    s->ssl = ssl;
    s->io = &tls_io;
    s->rsize = TE_SOCK_TLS_READ;
    SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
                          SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* not registered yet (sock.h), so they may be assigned again */
    event_assign(&s->rev, base, s->fd, EV_READ | EV_PERSIST, tls_read_ev, s);
    event_assign(&s->wev, base, s->fd, EV_WRITE | EV_PERSIST, tls_write_ev, s);
}
