/*
 * sock.c: the connection I/O layer; see sock.h for why it exists and
 * what it promises.
 *
 * Two rules keep it safe to free a te_sock from inside its callbacks:
 * a handler here never touches its te_sock after an owner callback
 * returned, and no owner callback ever runs inside a call the owner
 * made (input is read from the read event, output is written after the
 * owner's callback has returned).
 *
 * When output is written: output added while an owner callback runs
 * (the usual case: a request read from the client becomes a request
 * head for the backend) is written as soon as the te_sock handler that
 * ran the callback gets control back, before the next ready event is
 * looked at, so the peer starts working at once; everything the
 * callback added still leaves in one writev. Output added from other
 * events (timers, a module resuming a request) is written from the
 * te_sock's flush event, later in the same loop turn.
 *
 * TLS (te_sock_set_tls, sock_tls.c) swaps the I/O ops and the two
 * socket events' handlers; the plain path runs none of its code. What
 * the TLS handlers share with the plain ones is in sock_int.h.
 */
#include "sock.h"
#include "sock_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* Spans per write, as libevent's own evbuffer_write uses. */
#define TE_SOCK_WRITE_IOV 64

/* Sockets flushed in one go after an owner callback, at most; the rest
 * wait for their flush events, so a callback that keeps adding output
 * cannot hold the loop. */
#define TE_SOCK_FLUSH_BATCH 256

/* Sockets given output inside an owner callback, and how many owner
 * callbacks are running. Per thread: a te_sock is only ever used from
 * its worker's thread. */
static __thread struct te_sock_list pending = LIST_HEAD_INITIALIZER(pending);
static __thread unsigned in_owner;

/* ------------------------------------------------------------ plain -- */

/*
 * The plain calls are recvfrom/recvmsg/sendmsg, which skip the VFS layer
 * that read(2)/readv(2)/writev(2) go through on a socket, and they are
 * made with syscall(2) rather than the libc wrappers: those are thread
 * cancellation points and, in a process with more than one thread, flip
 * the cancellation state around every call (two atomic operations each,
 * about 5% of the proxy's user time). No tenantedge thread is ever
 * cancelled. MSG_NOSIGNAL: a peer gone away is an EPIPE error here, not
 * a signal.
 */
static ssize_t plain_read(te_sock *s, struct evbuffer_iovec *v, int n)
{
    struct iovec iov[2];
    struct msghdr msg;

    if (n == 1)
        return syscall(SYS_recvfrom, s->fd, v[0].iov_base, v[0].iov_len, 0,
                       NULL, NULL);

    memset(&msg, 0, sizeof(msg));
    for (int i = 0; i < n && i < 2; i++) {
        iov[i].iov_base = v[i].iov_base;
        iov[i].iov_len = v[i].iov_len;
    }
    msg.msg_iov = iov;
    msg.msg_iovlen = n < 2 ? (size_t)n : 2;
    return syscall(SYS_recvmsg, s->fd, &msg, 0);
}

/* As much of out as TE_SOCK_WRITE_IOV spans hold, in one call. */
static ssize_t plain_write(te_sock *s, struct evbuffer *out)
{
    struct evbuffer_iovec v[TE_SOCK_WRITE_IOV];
    struct iovec iov[TE_SOCK_WRITE_IOV];
    struct msghdr msg;
    ssize_t n;
    int nv;

    nv = evbuffer_peek(out, -1, NULL, v, TE_SOCK_WRITE_IOV);
    if (nv > TE_SOCK_WRITE_IOV)
        nv = TE_SOCK_WRITE_IOV; /* the rest goes on the next call */
    for (int i = 0; i < nv; i++) {
        iov[i].iov_base = v[i].iov_base;
        iov[i].iov_len = v[i].iov_len;
    }

    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)nv;
    n = syscall(SYS_sendmsg, s->fd, &msg, MSG_NOSIGNAL);
    if (n > 0)
        evbuffer_drain(out, (size_t)n);
    return n;
}

static const te_sock_io plain_io = {
    .read = plain_read,
    .write = plain_write,
};

/* ----------------------------------------------------------- events -- */

/* A registered event's timeout changes: tmo, or none. Only for events
 * that are registered (see sock_event_del for why). */
static void sock_retime(struct event *ev, const struct timeval *tmo)
{
    if (tmo != NULL)
        event_add(ev, tmo);
    else
        event_remove_timer(ev);
}

/* libevent keeps a persistent event's timeout across event_del and
 * brings it back at the next activation even when the event was added
 * again without one; removing the timer first clears it. */
static void sock_event_del(struct event *ev)
{
    event_remove_timer(ev);
    event_del(ev);
}

/* Register or drop the read event: it is wanted while the owner reads
 * and the input is under the high watermark (and, TLS only, no read
 * waits for the socket to be writable), or while a TLS write waits for
 * the socket to be readable. */
void te_sock_update_read(te_sock *s)
{
    int rd = s->reading && !s->read_wants_write &&
             (s->rhigh == 0 || evbuffer_get_length(s->in) < s->rhigh);
    int want = rd || s->write_wants_read;

    if (want && !s->rev_added) {
        if (event_add(&s->rev, rd ? s->rtmo : s->wtmo) == 0)
            s->rev_added = 1;
        if (s->ssl != NULL)
            te_sock_tls_rerun(s); /* bytes OpenSSL holds fire no event */
    } else if (!want && s->rev_added) {
        sock_event_del(&s->rev);
        s->rev_added = 0;
    }
}

/* EV_WRITE after EAGAIN; never while a TLS write waits for the socket to
 * be readable: the socket is writable, EV_WRITE would fire for ever. */
static void sock_wait_writable(te_sock *s)
{
    if (!s->wev_added && !s->write_wants_read &&
        event_add(&s->wev, s->wtmo) == 0)
        s->wev_added = 1;
}

/* The output is empty: EV_WRITE goes, unless a TLS read waits on it. */
void te_sock_write_idle(te_sock *s)
{
    if (s->wev_added && !s->read_wants_write) {
        sock_event_del(&s->wev);
        s->wev_added = 0;
    }
}

static void sock_unqueue(te_sock *s);

void te_sock_stop_writing(te_sock *s)
{
    sock_unqueue(s);
    if (s->wev_added)
        sock_event_del(&s->wev);
    s->wev_added = 0;
    s->write_off = 1;
    if (s->flushing)
        event_del(&s->flush);
    s->flushing = 0;
}

static void sock_stop_reading(te_sock *s)
{
    s->reading = 0;
    te_sock_update_read(s);
}

/* The owner callbacks. Output they add is queued (sock_out_changed);
 * the handler that called one flushes the queue once it has returned. */
static void call_read(te_sock *s)
{
    if (s->read_cb == NULL)
        return;
    in_owner++;
    s->read_cb(s, s->arg);
    in_owner--;
}

static void call_write(te_sock *s)
{
    if (s->write_cb == NULL)
        return;
    in_owner++;
    s->write_cb(s, s->arg);
    in_owner--;
}

/* Report what to the owner; errno is kept for TE_SOCK_ERROR. */
void te_sock_event(te_sock *s, short what)
{
    if (s->event_cb == NULL)
        return;
    in_owner++;
    s->event_cb(s, what, s->arg);
    in_owner--;
}

static void sock_unqueue(te_sock *s)
{
    if (s->queued)
        LIST_REMOVE(s, plink);
    s->queued = 0;
}

/* After an owner callback: write what it gave the sockets (see the top
 * of the file). Bounded by TE_SOCK_FLUSH_BATCH; write callbacks run
 * here may queue more, which the same loop takes. */
void te_sock_flush_pending(void)
{
    unsigned n = 0;
    te_sock *s;

    while ((s = LIST_FIRST(&pending)) != NULL) {
        sock_unqueue(s);
        if (++n > TE_SOCK_FLUSH_BATCH) {
            if (!s->flushing) {
                s->flushing = 1;
                event_active(&s->flush, EV_WRITE, 1);
            }
            continue;
        }
        te_sock_write(s);
    }
}

/* ------------------------------------------------------------- read -- */

/* The next read's size after one of n bytes out of want (sock.h). */
static void sock_adapt(te_sock *s, size_t want, size_t n)
{
    if (s->ssl != NULL)
        return; /* TLS reads keep TE_SOCK_TLS_READ (sock_tls.c) */
    if (n == want && want == s->rsize && s->rsize < TE_SOCK_READ_MAX)
        s->rsize = (s->rsize + 128) * 2 - 128;
    else if (n < s->rsize / 4 && s->rsize > TE_SOCK_READ_MIN)
        s->rsize = (s->rsize + 128) / 2 - 128;
}

/*
 * One read into the input: as much as rsize and the room under the high
 * watermark allow. Level triggering brings us back for whatever is
 * left, so there is no loop and no FIONREAD.
 */
static ssize_t sock_read(te_sock *s)
{
    struct evbuffer_iovec v[2];
    size_t want = s->rsize, have = evbuffer_get_length(s->in);
    size_t left;
    ssize_t n;
    int nv;

    if (s->rhigh != 0 && s->rhigh - have < want)
        want = s->rhigh - have; /* have < rhigh: see sock_read_ev */

    nv = evbuffer_reserve_space(s->in, (ev_ssize_t)want, v, 2);
    if (nv <= 0) {
        errno = ENOMEM;
        return -1;
    }

    /* The reserved space may be larger than asked: keep to want. */
    left = want;
    for (int i = 0; i < nv; i++) {
        if (v[i].iov_len > left)
            v[i].iov_len = left;
        left -= v[i].iov_len;
    }

    n = s->io->read(s, v, nv);
    if (n <= 0)
        return n;
    sock_adapt(s, want, (size_t)n);

    left = (size_t)n;
    for (int i = 0; i < nv; i++) {
        if (v[i].iov_len > left)
            v[i].iov_len = left;
        left -= v[i].iov_len;
    }
    evbuffer_commit_space(s->in, v, nv);
    return n;
}

void te_sock_on_read(te_sock *s, short what)
{
    ssize_t n;

    if (what & EV_TIMEOUT) {
        sock_stop_reading(s);
        te_sock_event(s, TE_SOCK_READING | TE_SOCK_TIMEOUT);
        return;
    }

    if (s->rhigh != 0 && evbuffer_get_length(s->in) >= s->rhigh) {
        te_sock_update_read(s); /* never read past the high mark */
        return;
    }

    n = sock_read(s);
    if (n > 0) {
        te_sock_update_read(s); /* at the high mark: hold reading back */
        call_read(s);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;

    sock_stop_reading(s);
    te_sock_event(s, TE_SOCK_READING | (n == 0 ? TE_SOCK_EOF : TE_SOCK_ERROR));
}

static void sock_read_ev(evutil_socket_t fd, short what, void *arg)
{
    te_sock_on_read(arg, what);
    te_sock_flush_pending();
}

/* Input was consumed: reading may resume under the high mark. */
static void sock_in_changed(struct evbuffer *buf,
                            const struct evbuffer_cb_info *info, void *arg)
{
    te_sock *s = arg;

    if (info->n_deleted > 0 && s->reading && !s->rev_added)
        te_sock_update_read(s);
}

/* ------------------------------------------------------------ write -- */

/*
 * Write what the output holds. The kernel taking it all is the common
 * case and costs one writev; EV_WRITE is registered only for what it
 * would not take, and dropped again once the output is empty. Returns 1
 * when an owner callback ran (s may be gone), else 0.
 */
int te_sock_write(te_sock *s)
{
    size_t left;
    ssize_t n;

    if (s->write_off || s->connecting)
        return 0;
    if (evbuffer_get_length(s->out) == 0) {
        te_sock_write_idle(s);
        return 0;
    }

    n = s->io->write(s, s->out);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            sock_wait_writable(s);
            return 0;
        }
        te_sock_stop_writing(s);
        te_sock_event(s, TE_SOCK_WRITING | TE_SOCK_ERROR);
        return 1;
    }

    left = evbuffer_get_length(s->out);
    if (left > 0)
        sock_wait_writable(s);
    else
        te_sock_write_idle(s);
    if (n > 0 && left <= s->wlow) {
        call_write(s);
        return 1;
    }
    return 0;
}

/* The connect finished, one way or the other. */
static void sock_connected(te_sock *s)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err == EINPROGRESS || err == EINTR)
        return; /* spurious wake-up: still connecting */

    s->connecting = 0;
    if (err != 0) {
        te_sock_stop_writing(s);
        errno = err;
        te_sock_event(s, TE_SOCK_ERROR);
        return;
    }

    /* Output queued meanwhile goes at the next writable event. */
    if (evbuffer_get_length(s->out) == 0) {
        sock_event_del(&s->wev);
        s->wev_added = 0;
    }
    te_sock_event(s, TE_SOCK_CONNECTED);
}

void te_sock_on_write(te_sock *s, short what)
{
    if (what & EV_TIMEOUT) {
        te_sock_stop_writing(s);
        te_sock_event(s, TE_SOCK_WRITING | TE_SOCK_TIMEOUT);
        return;
    }
    if (s->connecting) {
        sock_connected(s);
        return;
    }
    te_sock_write(s);
}

static void sock_write_ev(evutil_socket_t fd, short what, void *arg)
{
    te_sock_on_write(arg, what);
    te_sock_flush_pending();
}

static void sock_flush_ev(evutil_socket_t fd, short what, void *arg)
{
    te_sock *s = arg;

    s->flushing = 0;
    te_sock_write(s);
    te_sock_flush_pending();
}

/* Output was added: write it once the current callback has returned,
 * so that everything added meanwhile leaves in one writev (see the top
 * of the file). Not while EV_WRITE waits: the kernel has no room yet. */
static void sock_out_changed(struct evbuffer *buf,
                             const struct evbuffer_cb_info *info, void *arg)
{
    te_sock *s = arg;

    if (info->n_added == 0 || s->wev_added || s->connecting || s->write_off)
        return;
    if (in_owner > 0) {
        if (!s->queued)
            LIST_INSERT_HEAD(&pending, s, plink);
        s->queued = 1;
        return;
    }
    if (!s->flushing) {
        s->flushing = 1;
        event_active(&s->flush, EV_WRITE, 1);
    }
}

void te_sock_shutdown(te_sock *s)
{
    if (s->ssl != NULL)
        te_sock_tls_close_notify(s);
    shutdown(s->fd, SHUT_WR);
}

/* -------------------------------------------------------- lifecycle -- */

int te_sock_init(te_sock *s, struct event_base *base, evutil_socket_t fd)
{
    memset(s, 0, sizeof(*s));
    s->fd = fd;
    s->io = &plain_io;
    s->rsize = TE_SOCK_READ_MIN;

    s->in = evbuffer_new();
    s->out = evbuffer_new();
    if (s->in == NULL || s->out == NULL ||
        evbuffer_add_cb(s->in, sock_in_changed, s) == NULL ||
        evbuffer_add_cb(s->out, sock_out_changed, s) == NULL)
        goto fail;

    event_assign(&s->rev, base, fd, EV_READ | EV_PERSIST, sock_read_ev, s);
    event_assign(&s->wev, base, fd, EV_WRITE | EV_PERSIST, sock_write_ev, s);
    event_assign(&s->flush, base, -1, 0, sock_flush_ev, s);
    return 0;

fail:
    if (s->in != NULL)
        evbuffer_free(s->in);
    if (s->out != NULL)
        evbuffer_free(s->out);
    s->in = s->out = NULL;
    return -1;
}

void te_sock_close(te_sock *s)
{
    sock_unqueue(s);
    event_del(&s->rev);
    event_del(&s->wev);
    event_del(&s->flush);
    if (s->ssl != NULL) {
        te_sock_tls_close_notify(s);
        SSL_free(s->ssl);
        s->ssl = NULL;
    }
    evbuffer_free(s->in);
    evbuffer_free(s->out);
    evutil_closesocket(s->fd);
    s->in = s->out = NULL;
    s->fd = -1;
}

void te_sock_setcb(te_sock *s, te_sock_data_cb read_cb,
                   te_sock_data_cb write_cb, te_sock_event_cb event_cb,
                   void *arg)
{
    s->read_cb = read_cb;
    s->write_cb = write_cb;
    s->event_cb = event_cb;
    s->arg = arg;
}

void te_sock_set_timeouts(te_sock *s, const struct timeval *rtmo,
                          const struct timeval *wtmo)
{
    s->rtmo = rtmo;
    s->wtmo = wtmo;
    if (s->rev_added)
        sock_retime(&s->rev, rtmo);
    if (s->wev_added)
        sock_retime(&s->wev, wtmo);
}

void te_sock_set_read_high(te_sock *s, size_t high)
{
    s->rhigh = high;
    te_sock_update_read(s);
}

void te_sock_set_write_low(te_sock *s, size_t low)
{
    s->wlow = low;
}

void te_sock_fill(te_sock *s, size_t want)
{
    /* Bounded: every turn adds at least one byte, and the watermark,
     * if any, ends it; without one, want does. */
    while (evbuffer_get_length(s->in) < want &&
           (s->rhigh == 0 || evbuffer_get_length(s->in) < s->rhigh)) {
        if (sock_read(s) <= 0)
            break;
    }
    te_sock_update_read(s);
}

void te_sock_read_enable(te_sock *s)
{
    s->reading = 1;
    te_sock_update_read(s);
}

void te_sock_read_disable(te_sock *s)
{
    sock_stop_reading(s);
}

void te_sock_stop(te_sock *s)
{
    sock_stop_reading(s);
    te_sock_stop_writing(s);
}

int te_sock_connect(te_sock *s, const struct sockaddr *sa, socklen_t len)
{
    if (connect(s->fd, sa, len) < 0 && errno != EINPROGRESS)
        return -1;

    /* Done at once or not: the writable event says which, from the
     * loop, so the owner never hears of it inside this call. */
    s->connecting = 1;
    if (event_add(&s->wev, s->wtmo) < 0) {
        s->connecting = 0;
        return -1;
    }
    s->wev_added = 1;
    return 0;
}

void te_addr_text(const struct sockaddr *sa, char *out, size_t len)
{
    const void *a = NULL;

    if (sa->sa_family == AF_INET)
        a = &((const struct sockaddr_in *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (a == NULL || inet_ntop(sa->sa_family, a, out, (socklen_t)len) == NULL)
        snprintf(out, len, "unknown");
}
