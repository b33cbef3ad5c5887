/*
 * sock.h: te_sock, the connection I/O layer under both legs of a
 * request (the client connection and the backend connection).
 *
 * It replaces bufferevent_socket, which costs about twice the system
 * calls the work needs: an ioctl(FIONREAD) before every read, and an
 * epoll_ctl to add and another to remove the write event around every
 * write. Here:
 *   - one persistent, level-triggered EV_READ event is registered when
 *     reading starts and stays registered; it is removed only when the
 *     input reaches its high watermark (backpressure), at EOF, or when
 *     the owner stops reading;
 *   - reads go straight into the input evbuffer (reserve, readv,
 *     commit), at most TE_SOCK_READ_MAX and never past the high mark;
 *   - output is written as soon as the callback that added it has
 *     returned (so a head and the first body bytes leave in one writev,
 *     and the peer starts on it before the next ready event is looked
 *     at), and EV_WRITE is registered only when the kernel said EAGAIN,
 *     then removed once the output drained;
 *   - the read and write timeouts ride on those same events (common
 *     timeouts of the worker's base), so re-arming one is a list move,
 *     never a system call.
 *
 * The callbacks mirror what the legs used of bufferevents: read (new
 * input), write (output drained to the low watermark) and event (EOF,
 * error, timeout, connected) with the TE_SOCK_* flags.
 *
 * TLS slots in behind te_sock_io (te_sock_set_tls): SSL_read and
 * SSL_write in place of recv and sendmsg, with the nginx habits of
 * LIBRARIES.md 2 (SSL_set_fd, output coalesced into records of up to
 * 16 KiB before each SSL_write). A read that needs the socket writable
 * (WANT_WRITE) or a write that needs it readable (WANT_READ) tells
 * sock.c which event to wait for (the TLS ops are in sock_tls.c);
 * bytes OpenSSL already holds (a record read whole, only part of it
 * taken) make the read event run again without waiting for the socket.
 *
 * A te_sock is embedded in its owner and used from the owner's worker
 * thread only.
 */
#ifndef TE_SOCK_H
#define TE_SOCK_H

#include <stddef.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/ssl.h>

/* What the event callback reports; a mirror of BEV_EVENT_*. */
#define TE_SOCK_READING   0x01 /* while reading */
#define TE_SOCK_WRITING   0x02 /* while writing (or connecting) */
#define TE_SOCK_EOF       0x10
#define TE_SOCK_ERROR     0x20 /* errno says which */
#define TE_SOCK_TIMEOUT   0x40
#define TE_SOCK_CONNECTED 0x80

typedef struct te_sock te_sock;

LIST_HEAD(te_sock_list, te_sock);

typedef void (*te_sock_data_cb)(te_sock *s, void *arg);
typedef void (*te_sock_event_cb)(te_sock *s, short what, void *arg);

/*
 * How bytes cross the socket. read: into v[0..n), returns the bytes
 * read, 0 at EOF, -1 with errno (EAGAIN: nothing now). write: from out,
 * draining what left, returns the bytes written or -1 with errno.
 */
typedef struct te_sock_io {
    ssize_t (*read)(te_sock *s, struct evbuffer_iovec *v, int n);
    ssize_t (*write)(te_sock *s, struct evbuffer *out);
} te_sock_io;

struct te_sock {
    evutil_socket_t fd;
    const te_sock_io *io;
    SSL *ssl; /* NULL: plain */
    struct evbuffer *in;
    struct evbuffer *out;

    struct event rev;          /* EV_READ | EV_PERSIST, read timeout */
    struct event wev;          /* EV_WRITE | EV_PERSIST, write timeout */
    struct event flush;        /* activated when output is added */
    LIST_ENTRY(te_sock) plink; /* see queued */

    te_sock_data_cb read_cb;
    te_sock_data_cb write_cb;
    te_sock_event_cb event_cb;
    void *arg;

    const struct timeval *rtmo; /* NULL: none */
    const struct timeval *wtmo;
    size_t rhigh; /* stop reading at this much input; 0: no bound */
    size_t wlow;  /* call write_cb when output drains to this */
    size_t rsize; /* the next read's size, see TE_SOCK_READ_MIN */

    unsigned reading : 1;    /* the owner wants input */
    unsigned rev_added : 1;  /* rev is registered */
    unsigned wev_added : 1;  /* waiting for the kernel to take output */
    unsigned flushing : 1;   /* flush is active */
    unsigned queued : 1;     /* in the per-thread list of sock.c */
    unsigned connecting : 1; /* a connect is under way */
    unsigned write_off : 1;  /* no more writing: error, timeout, stop */
    unsigned read_wants_write : 1; /* SSL_read said WANT_WRITE */
    unsigned write_wants_read : 1; /* SSL_write said WANT_READ */
    unsigned tls_failed : 1;       /* a fatal TLS error: no close_notify */
};

/*
 * Read sizes: each read reserves rsize bytes of input, which starts at
 * TE_SOCK_READ_MIN, doubles after a read that filled it and halves after
 * one that used less than a quarter of it, within [MIN, MAX]. Small
 * requests then cost a 4 KiB buffer, not 64 KiB, and a stream still
 * reads in big steps. Both are a power of two less the room evbuffer
 * takes for its chain header, so a new chain is exactly one allocation
 * of that power of two.
 */
#define TE_SOCK_READ_MIN (4096 - 128)
#define TE_SOCK_READ_MAX (65536 - 128)

/* Over TLS every read is this size: whole records (16 KiB of payload
 * at most) are taken while OpenSSL holds them and they fit, so a stream
 * comes up several records at a time and no record is cut into a full
 * read and a tiny one (tls_read in sock_tls.c). */
#define TE_SOCK_TLS_READ TE_SOCK_READ_MAX

/* Set up s on fd (non-blocking). 0, or -1 when out of memory; fd stays
 * the caller's until this succeeds, then te_sock_close closes it. */
int te_sock_init(te_sock *s, struct event_base *base, evutil_socket_t fd);

/* From now on bytes cross s through ssl, whose handshake is done; s
 * owns ssl (te_sock_close sends close_notify once and frees it). Call
 * it right after te_sock_init, before reading or writing starts. */
void te_sock_set_tls(te_sock *s, SSL *ssl);

/* Send nothing more: on TLS a close_notify first (once, not waiting for
 * the peer's), then shutdown(SHUT_WR). Reading goes on as before, so a
 * closing connection can still take in what the peer sends. */
void te_sock_shutdown(te_sock *s);

/* Free the buffers and the events and close the fd. Safe from inside
 * one of s's own callbacks, which then must not touch s again. */
void te_sock_close(te_sock *s);

void te_sock_setcb(te_sock *s, te_sock_data_cb read_cb,
                   te_sock_data_cb write_cb, te_sock_event_cb event_cb,
                   void *arg);

/* The read timeout runs while reading is on and not held back by the
 * high watermark; the write timeout while output waits for the kernel
 * (and bounds a connect). Either may be NULL. Re-arms both. */
void te_sock_set_timeouts(te_sock *s, const struct timeval *rtmo,
                          const struct timeval *wtmo);

void te_sock_set_read_high(te_sock *s, size_t high);
void te_sock_set_write_low(te_sock *s, size_t low);

/*
 * Read now, outside the read event, until the input holds want bytes,
 * the kernel has nothing more, or the high watermark stops it; no
 * callback runs (EOF and errors come later from the read event). For a
 * decision that should see what the peer already sent, not only what
 * one read happened to take.
 */
void te_sock_fill(te_sock *s, size_t want);

void te_sock_read_enable(te_sock *s);
void te_sock_read_disable(te_sock *s);

/* No more callbacks of any kind: reading and writing off, a pending
 * flush dropped. The owner then closes s. */
void te_sock_stop(te_sock *s);

/*
 * Start a non-blocking connect. 0: under way, the event callback gets
 * TE_SOCK_CONNECTED, or TE_SOCK_ERROR (errno set) or TE_SOCK_TIMEOUT |
 * TE_SOCK_WRITING (the write timeout); output added meanwhile waits.
 * -1: it failed at once, errno says why; no callback comes.
 */
int te_sock_connect(te_sock *s, const struct sockaddr *sa, socklen_t len);

/* The peer's address as text without the port, for logs and
 * X-Forwarded-For; "unknown" for a family other than IPv4/IPv6. */
void te_addr_text(const struct sockaddr *sa, char *out, size_t len);

static inline struct evbuffer *te_sock_in(const te_sock *s)
{
    return s->in;
}

static inline struct evbuffer *te_sock_out(const te_sock *s)
{
    return s->out;
}

static inline evutil_socket_t te_sock_fd(const te_sock *s)
{
    return s->fd;
}

#endif
