/*
 * test_sock_tls.c: te_sock over TLS, src/sock_tls.c (te_sock_set_tls).
 *
 * A loopback TCP pair: the server end is a te_sock on an event_base, the
 * client end an SSL the test drives from the same base. The key and the
 * self-signed certificate are made here with the OpenSSL API, so the
 * test needs no files. What it proves: bytes cross intact both ways
 * (with a TLS 1.3 key update midway, and under backpressure); output
 * leaves as few, full records however it was chunked in the evbuffer;
 * bytes OpenSSL holds after a small read never stall (the
 * SSL_has_pending case, whether reading goes on, resumes below the high
 * mark, or is enabled again); closes are clean both ways.
 *
 * Each test runs twice (a loop test, _i): without and with read-ahead on
 * the server's SSL. Every loop runs under a deadline (run()), so a stall
 * fails the test instead of hanging it.
 */
#include "sock.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define MIB (1024 * 1024)

typedef struct pair {
    struct event_base *base;
    SSL_CTX *sctx, *cctx;
    SSL *cssl;
    int cfd;
    te_sock sock; /* the server end */
    int sock_open;

    /* the client */
    struct event *crev, *cwev;
    const unsigned char *tx;
    size_t tx_len, tx_off;
    size_t key_update_at; /* 0: none */
    size_t tx_record;     /* bytes per SSL_write; 0: 16 KiB */
    unsigned char *rx;
    size_t rx_cap, rx_len;
    int c_eof;        /* close_notify (or EOF) seen by the client */
    unsigned records; /* application-data records the client got */

    /* the server */
    size_t s_got;      /* input bytes the owner took */
    unsigned s_reads;  /* read callbacks */
    unsigned s_events; /* TE_SOCK_* seen by the event callback */
    int s_echo;        /* read_cb echoes */
    int s_hold;        /* read_cb leaves the input alone */
    int s_pause;       /* read_cb disables reading */
    struct event *tick;

    size_t want_rx; /* done when the client has this much */
    size_t want_s;  /* done when the server took this much */
    int want_s_eof; /* done when the server saw an EOF or error */
    int want_c_eof; /* done when the client saw the close */
} pair;

/* ------------------------------------------------ key and contexts -- */

static EVP_PKEY *key;
static X509 *cert;

/* A P-256 key and a self-signed certificate for it, made once. */
static void make_identity(void)
{
    X509_NAME *name;

    if (key != NULL)
        return;
    key = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(key);
    cert = X509_new();
    ck_assert_ptr_nonnull(cert);
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"sock.edge.test", -1, -1,
                               0);
    X509_set_issuer_name(cert, name);
    ck_assert_int_gt(X509_sign(cert, key, EVP_sha256()), 0);
}

/* ra: read-ahead, as tls.c sets it: OpenSSL then holds whole records
 * beyond what a read took, not only the rest of one. */
static SSL_CTX *server_ctx(int ra)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    ck_assert_ptr_nonnull(ctx);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    ck_assert_int_eq(SSL_CTX_use_certificate(ctx, cert), 1);
    ck_assert_int_eq(SSL_CTX_use_PrivateKey(ctx, key), 1);
    SSL_CTX_set_options(ctx,
                        SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_num_tickets(ctx, 0); /* no records but ours to count */
    SSL_CTX_set_read_ahead(ctx, ra);
    return ctx;
}

static SSL_CTX *client_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    ck_assert_ptr_nonnull(ctx);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    return ctx;
}

/* Counts the application-data records the client reads (the outer
 * type of every TLS 1.3 record after the handshake). */
static void count_records(int write_p, int version, int type, const void *buf,
                          size_t len, SSL *ssl, void *arg)
{
    pair *p = arg;

    if (!write_p && type == SSL3_RT_HEADER && len >= 1 &&
        ((const unsigned char *)buf)[0] == SSL3_RT_APPLICATION_DATA)
        p->records++;
}

/* ------------------------------------------------------ the pair -- */

static void set_nonblock(int fd)
{
    int one = 1;

    ck_assert_int_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Small kernel buffers, so a few records fill them (EAGAIN, partial
 * records, WANT_WRITE). */
static void small_buffers(int fd)
{
    int n = 32 * 1024;

    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof(n));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n));
}

static void tcp_pair(int *cfd, int *sfd, int small)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(lfd, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(listen(lfd, 1), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);

    *cfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(*cfd, 0);
    if (small)
        small_buffers(*cfd);
    ck_assert_int_eq(connect(*cfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    *sfd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(*sfd, 0);
    if (small)
        small_buffers(*sfd);
    close(lfd);
    set_nonblock(*cfd);
    set_nonblock(*sfd);
}

/* Both ends' handshakes, stepped in turn; bounded by tries. */
static void handshake(SSL *c, SSL *s, int cfd, int sfd)
{
    int cdone = 0, sdone = 0;

    for (int tries = 0; tries < 200 && !(cdone && sdone); tries++) {
        struct pollfd pfd[2] = {{cfd, POLLIN, 0}, {sfd, POLLIN, 0}};

        if (!cdone)
            cdone = SSL_do_handshake(c) == 1;
        if (!sdone)
            sdone = SSL_do_handshake(s) == 1;
        if (!(cdone && sdone))
            poll(pfd, 2, 50);
    }
    ck_assert_msg(cdone && sdone, "handshake did not complete");
}

static void s_read_cb(te_sock *s, void *arg);
static void s_write_cb(te_sock *s, void *arg);
static void s_event_cb(te_sock *s, short what, void *arg);
static void c_io(evutil_socket_t fd, short what, void *arg);

/* small: small kernel buffers; ra: read-ahead on the server end. */
static pair *pair_new(int small, int ra)
{
    pair *p = calloc(1, sizeof(*p));
    SSL *sssl;
    int sfd;

    ck_assert_ptr_nonnull(p);
    make_identity();
    p->base = event_base_new();
    ck_assert_ptr_nonnull(p->base);
    p->sctx = server_ctx(ra);
    p->cctx = client_ctx();
    tcp_pair(&p->cfd, &sfd, small);

    p->cssl = SSL_new(p->cctx);
    sssl = SSL_new(p->sctx);
    ck_assert_ptr_nonnull(p->cssl);
    ck_assert_ptr_nonnull(sssl);
    SSL_set_fd(p->cssl, p->cfd);
    SSL_set_fd(sssl, sfd);
    SSL_set_connect_state(p->cssl);
    SSL_set_accept_state(sssl);
    handshake(p->cssl, sssl, p->cfd, sfd);
    SSL_set_msg_callback(p->cssl, count_records);
    SSL_set_msg_callback_arg(p->cssl, p);

    ck_assert_int_eq(te_sock_init(&p->sock, p->base, sfd), 0);
    te_sock_set_tls(&p->sock, sssl);
    te_sock_setcb(&p->sock, s_read_cb, s_write_cb, s_event_cb, p);
    p->sock_open = 1;

    p->crev = event_new(p->base, p->cfd, EV_READ | EV_PERSIST, c_io, p);
    p->cwev = event_new(p->base, p->cfd, EV_WRITE | EV_PERSIST, c_io, p);
    event_add(p->crev, NULL);
    return p;
}

static void pair_free(pair *p)
{
    if (p->sock_open)
        te_sock_close(&p->sock);
    if (p->tick != NULL)
        event_free(p->tick);
    event_free(p->crev);
    event_free(p->cwev);
    SSL_free(p->cssl);
    close(p->cfd);
    SSL_CTX_free(p->sctx);
    SSL_CTX_free(p->cctx);
    event_base_free(p->base);
    free(p->rx);
    free(p);
}

static int done(const pair *p)
{
    return p->rx_len >= p->want_rx && p->s_got >= p->want_s &&
           p->tx_off == p->tx_len && (!p->want_s_eof || p->s_events) &&
           (!p->want_c_eof || p->c_eof);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopbreak(arg);
}

/* The loop until done() or ms pass; 1 if done. */
static int run(pair *p, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    struct event *dl = evtimer_new(p->base, deadline_cb, p->base);

    evtimer_add(dl, &tv);
    /* Bounded twice: the deadline breaks the loop, and so does a cap on
     * its turns. */
    for (int i = 0; i < 1000000 && !done(p); i++) {
        if (!evtimer_pending(dl, NULL))
            break;
        event_base_loop(p->base, EVLOOP_ONCE);
    }
    event_free(dl);
    return done(p);
}

/* Byte i of the test streams. */
static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 7 + (i >> 11));
}

static unsigned char *pattern_buf(size_t len)
{
    unsigned char *b = malloc(len);

    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < len; i++)
        b[i] = pattern(i);
    return b;
}

/* -------------------------------------------------------- client -- */

/* What the client may send now, in records of up to 16 KiB. */
static void c_send(pair *p)
{
    size_t n, done_n;

    /* Bounded: each turn sends a record or stops. */
    while (p->tx_off < p->tx_len) {
        if (p->key_update_at != 0 && p->tx_off >= p->key_update_at) {
            ck_assert_int_eq(SSL_key_update(p->cssl, SSL_KEY_UPDATE_REQUESTED),
                             1);
            p->key_update_at = 0;
        }
        n = p->tx_len - p->tx_off;
        if (n > (p->tx_record != 0 ? p->tx_record : 16384))
            n = p->tx_record != 0 ? p->tx_record : 16384;
        if (SSL_write_ex(p->cssl, p->tx + p->tx_off, n, &done_n) != 1) {
            int err = SSL_get_error(p->cssl, 0);

            ck_assert_msg(err == SSL_ERROR_WANT_WRITE ||
                              err == SSL_ERROR_WANT_READ,
                          "client write failed: %d", err);
            ERR_clear_error();
            event_add(p->cwev, NULL);
            return;
        }
        p->tx_off += done_n;
    }
    event_del(p->cwev);
}

static void c_recv(pair *p)
{
    size_t got;

    /* Bounded: each turn takes bytes, or stops; the buffer ends it. */
    while (!p->c_eof && p->rx_len < p->rx_cap) {
        if (SSL_read_ex(p->cssl, p->rx + p->rx_len, p->rx_cap - p->rx_len,
                        &got) == 1) {
            p->rx_len += got;
            continue;
        }
        switch (SSL_get_error(p->cssl, 0)) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
            break;
        case SSL_ERROR_ZERO_RETURN:
            p->c_eof = 1;
            break;
        default:
            p->c_eof = -1;
            break;
        }
        ERR_clear_error();
        break;
    }
}

static void c_io(evutil_socket_t fd, short what, void *arg)
{
    pair *p = arg;

    if (p->rx != NULL)
        c_recv(p);
    c_send(p);
    if (done(p))
        event_base_loopbreak(p->base);
}

/* -------------------------------------------------------- server -- */

static void s_read_cb(te_sock *s, void *arg)
{
    pair *p = arg;
    struct evbuffer *in = te_sock_in(s);

    p->s_reads++;
    if (p->s_hold)
        return;
    p->s_got += evbuffer_get_length(in);
    if (p->s_echo) {
        evbuffer_add_buffer(te_sock_out(s), in);
        /* backpressure: stop reading while much waits to go out */
        if (evbuffer_get_length(te_sock_out(s)) > 256 * 1024)
            te_sock_read_disable(s);
    } else {
        evbuffer_drain(in, evbuffer_get_length(in));
    }
    if (p->s_pause)
        te_sock_read_disable(s);
    if (done(p))
        event_base_loopbreak(p->base);
}

static void s_write_cb(te_sock *s, void *arg)
{
    pair *p = arg;

    if (p->s_echo)
        te_sock_read_enable(s);
}

static void s_event_cb(te_sock *s, short what, void *arg)
{
    pair *p = arg;

    p->s_events |= (unsigned)what;
    te_sock_read_disable(s);
}

/* Every 5 ms: what a held or paused owner does later, from a timer. */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    pair *p = arg;
    struct evbuffer *in = te_sock_in(&p->sock);

    if (p->s_hold) {
        p->s_got += evbuffer_get_length(in);
        evbuffer_drain(in, evbuffer_get_length(in));
    }
    if (p->s_pause)
        te_sock_read_enable(&p->sock);
}

static void start_tick(pair *p)
{
    struct timeval tv = {0, 5000};

    p->tick = event_new(p->base, -1, EV_PERSIST, tick_cb, p);
    event_add(p->tick, &tv);
}

/* --------------------------------------------------------- tests -- */

START_TEST(echo_one_mib_each_way)
{
    pair *p = pair_new(0, _i);

    p->tx = pattern_buf(MIB);
    p->tx_len = MIB;
    p->key_update_at = MIB / 2;
    p->rx = malloc(MIB);
    p->rx_cap = MIB;
    p->want_rx = MIB;
    p->want_s = MIB;
    p->s_echo = 1;
    te_sock_set_read_high(&p->sock, 64 * 1024);
    te_sock_set_write_low(&p->sock, 64 * 1024);
    te_sock_read_enable(&p->sock);
    c_send(p);

    ck_assert_msg(run(p, 10000), "stalled: client got %zu, server %zu",
                  p->rx_len, p->s_got);
    ck_assert_int_eq(memcmp(p->rx, p->tx, MIB), 0);
    ck_assert_uint_eq(p->s_events, 0);
    free((void *)p->tx);
    pair_free(p);
}
END_TEST

/* Bytes the client gets from the server's output, added by the test
 * (no owner callback running: the flush event writes them). */
static unsigned records_for(pair *p, size_t pieces, size_t size)
{
    static const char piece[128] = "0123456789abcdef0123456789abcdef"
                                   "0123456789abcdef0123456789abcdef"
                                   "0123456789abcdef0123456789abcdef"
                                   "0123456789abcdef0123456789abcde";
    size_t total = pieces * size;

    /* references: each piece is a chain of its own */
    for (size_t i = 0; i < pieces; i++)
        evbuffer_add_reference(te_sock_out(&p->sock), piece, size, NULL, NULL);
    p->rx = realloc(p->rx, total);
    p->rx_cap = total;
    p->rx_len = 0;
    p->want_rx = total;
    p->records = 0;
    ck_assert_msg(run(p, 5000), "got %zu of %zu", p->rx_len, total);
    for (size_t i = 0; i < total; i++)
        ck_assert_int_eq(p->rx[i], piece[i % size]);
    return p->records;
}

START_TEST(small_chunks_make_few_records)
{
    pair *p = pair_new(0, _i);

    te_sock_read_enable(&p->sock);
    /* 64 chains of 50 bytes: one record, not 64 */
    ck_assert_uint_eq(records_for(p, 64, 50), 1);
    /* 2048 chains of 100 bytes (200 KiB): full 16 KiB records */
    ck_assert_uint_eq(records_for(p, 2048, 100), (2048 * 100 + 16383) / 16384);
    pair_free(p);
}
END_TEST

/* Output far over what the kernel takes at once: EAGAIN, records cut
 * short in the kernel and finished on EV_WRITE (WANT_WRITE), and still
 * full records. */
START_TEST(big_output_waits_for_the_peer)
{
    pair *p = pair_new(1, _i);
    size_t len = 4 * MIB;
    unsigned char *b = pattern_buf(len);

    evbuffer_add(te_sock_out(&p->sock), b, len);
    p->rx = malloc(len);
    p->rx_cap = len;
    p->want_rx = len;
    ck_assert_msg(run(p, 10000), "got %zu of %zu", p->rx_len, len);
    ck_assert_int_eq(memcmp(p->rx, b, len), 0);
    ck_assert_uint_eq(p->records, len / 16384);
    free(b);
    pair_free(p);
}
END_TEST

/* The client sends 256 KiB in 16 KiB records and then nothing. */
static void send_records(pair *p)
{
    p->tx = pattern_buf(256 * 1024);
    p->tx_len = 256 * 1024;
    p->want_s = p->tx_len;
    c_send(p);
}

/* A high mark of 1000 bytes: every read takes part of a record, and
 * the last record's rest sits in OpenSSL with the socket silent. */
START_TEST(pending_bytes_are_read_without_the_socket)
{
    pair *p = pair_new(0, _i);

    te_sock_set_read_high(&p->sock, 1000);
    te_sock_read_enable(&p->sock);
    send_records(p);
    ck_assert_msg(run(p, 5000), "stalled at %zu", p->s_got);
    free((void *)p->tx);
    pair_free(p);
}
END_TEST

/* Many small records sent in one burst: with read-ahead the first read
 * takes them all from the kernel and each SSL_read returns one; they
 * still come up together, not one read callback each. */
START_TEST(small_records_in_one_burst)
{
    pair *p = pair_new(0, _i);

    te_sock_read_enable(&p->sock);
    p->tx = pattern_buf(200 * 100);
    p->tx_len = 200 * 100;
    p->tx_record = 100;
    p->want_s = p->tx_len;
    c_send(p);
    ck_assert_msg(run(p, 5000), "stalled at %zu", p->s_got);
    if (_i == 1)
        ck_assert_uint_le(p->s_reads, 10); /* not 200 */
    free((void *)p->tx);
    pair_free(p);
}
END_TEST

/* The same, with the owner leaving input at the high mark and draining
 * it from a timer: reading resumes below the mark. */
START_TEST(pending_bytes_after_the_high_mark_relieved)
{
    pair *p = pair_new(0, _i);

    p->s_hold = 1;
    te_sock_set_read_high(&p->sock, 1000);
    te_sock_read_enable(&p->sock);
    start_tick(p);
    send_records(p);
    ck_assert_msg(run(p, 5000), "stalled at %zu", p->s_got);
    free((void *)p->tx);
    pair_free(p);
}
END_TEST

/* And with the owner turning reading off after each read and on again
 * from a timer. */
START_TEST(pending_bytes_after_reading_enabled_again)
{
    pair *p = pair_new(0, _i);

    p->s_pause = 1;
    te_sock_set_read_high(&p->sock, 1000);
    te_sock_read_enable(&p->sock);
    start_tick(p);
    send_records(p);
    ck_assert_msg(run(p, 5000), "stalled at %zu", p->s_got);
    free((void *)p->tx);
    pair_free(p);
}
END_TEST

/* The client's close_notify is an EOF, not an error; ours reaches the
 * client when the sock closes. */
START_TEST(close_notify_both_ways)
{
    pair *p = pair_new(0, _i);

    te_sock_read_enable(&p->sock);
    ck_assert_int_eq(SSL_shutdown(p->cssl), 0);
    p->want_s_eof = 1;
    ck_assert(run(p, 5000));
    ck_assert_uint_eq(p->s_events, TE_SOCK_READING | TE_SOCK_EOF);

    te_sock_close(&p->sock);
    p->sock_open = 0;
    p->rx = malloc(16);
    p->rx_cap = 16;
    p->want_c_eof = 1;
    ck_assert(run(p, 5000));
    ck_assert_int_eq(p->c_eof, 1);
    pair_free(p);
}
END_TEST

/* A client gone without close_notify: an EOF too
 * (SSL_OP_IGNORE_UNEXPECTED_EOF), and no close_notify is owed to it. */
START_TEST(eof_without_close_notify)
{
    pair *p = pair_new(0, _i);

    te_sock_read_enable(&p->sock);
    shutdown(p->cfd, SHUT_WR);
    p->want_s_eof = 1;
    ck_assert(run(p, 5000));
    ck_assert_uint_eq(p->s_events, TE_SOCK_READING | TE_SOCK_EOF);
    pair_free(p);
}
END_TEST

/* te_sock_shutdown: the last bytes, close_notify, then the FIN. */
START_TEST(shutdown_sends_close_notify_then_fin)
{
    pair *p = pair_new(0, _i);
    char c;

    evbuffer_add(te_sock_out(&p->sock), "bye", 3);
    p->rx = malloc(16);
    p->rx_cap = 16;
    p->want_rx = 3;
    ck_assert(run(p, 5000));
    te_sock_shutdown(&p->sock);
    p->want_c_eof = 1;
    ck_assert(run(p, 5000));
    ck_assert_int_eq(p->c_eof, 1);
    ck_assert_int_eq(memcmp(p->rx, "bye", 3), 0);
    {
        struct pollfd pfd = {p->cfd, POLLIN, 0};

        ck_assert_int_eq(poll(&pfd, 1, 2000), 1);
        ck_assert_int_eq(recv(p->cfd, &c, 1, 0), 0); /* the FIN */
    }
    pair_free(p);
}
END_TEST

static Suite *sock_tls_suite(void)
{
    Suite *s = suite_create("sock_tls");
    TCase *tc = tcase_create("tls");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, echo_one_mib_each_way, 0, 2);
    tcase_add_loop_test(tc, small_chunks_make_few_records, 0, 2);
    tcase_add_loop_test(tc, big_output_waits_for_the_peer, 0, 2);
    tcase_add_loop_test(tc, pending_bytes_are_read_without_the_socket, 0, 2);
    tcase_add_loop_test(tc, small_records_in_one_burst, 0, 2);
    tcase_add_loop_test(tc, pending_bytes_after_the_high_mark_relieved, 0, 2);
    tcase_add_loop_test(tc, pending_bytes_after_reading_enabled_again, 0, 2);
    tcase_add_loop_test(tc, close_notify_both_ways, 0, 2);
    tcase_add_loop_test(tc, eof_without_close_notify, 0, 2);
    tcase_add_loop_test(tc, shutdown_sends_close_notify_then_fin, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sock_tls_suite());
    int failed;

    signal(SIGPIPE, SIG_IGN); /* as the daemon does (main.c) */
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
