/*
 * main.c: the tenantedge daemon: options, configuration, the workers,
 * and the signals that drain them or reload TLS.
 *
 * The main thread only starts workers, waits on its own event_base for
 * SIGTERM/SIGINT/SIGQUIT, then wakes each worker to drain (through the
 * worker's eventfd, never its base), joins them and frees everything (the
 * test suite runs the daemon under LeakSanitizer). SIGHUP reloads the
 * TLS certificates and ticket keys (reload()); the main thread's base
 * also rotates generated ticket keys. SIGUSR1 and SIGUSR2 are logged and
 * otherwise ignored.
 */
#include "te_autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>

#include "config.h"
#include "h2_conn.h"
#include "log.h"
#include "tls.h"
#include "worker.h"

#define LISTEN_TEXT_MAX 512

/*
 * Free heap memory an arena keeps before giving it back to the kernel.
 * Each request allocates and frees a few buffers of 1 to 64 KiB (evbuffer
 * chains); with glibc's default of 128 KiB a worker's arena shrank and
 * grew again all the time, a page fault every two requests under load.
 * Setting it also pins the mmap threshold at 128 KiB, above anything the
 * request path allocates.
 */
#define TE_MALLOC_TRIM_THRESHOLD (4 << 20)

static void usage(FILE *out)
{
    fprintf(out, "usage: tenantedge [-t] -c FILE\n"
                 "       tenantedge -V | -h\n"
                 "  -c FILE  configuration file\n"
                 "  -t       check the configuration and exit\n"
                 "  -V       print the version and the library versions\n"
                 "  -h       print this help\n");
}

static void print_version(void)
{
    printf("tenantedge %s\n", PACKAGE_VERSION);
    printf("libevent %s\n", event_get_version());
    printf("openssl %s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("nghttp2 %s\n", nghttp2_version(0)->version_str);
    printf("jansson %s\n", jansson_version_str());
    printf("hiredis %d.%d.%d\n", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
}

/* What the main thread's callbacks work on. */
struct daemon {
    struct event_base *base;
    te_config *cf; /* the configuration the workers started with */
    te_worker **workers;
    struct event *ticket_timer;
    unsigned ticket_period; /* ms the timer is armed with, 0: not armed */
};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct event_base *base = arg;

    te_log(TE_LOG_NOTICE, "received %s, draining",
           sig == SIGTERM   ? "SIGTERM"
           : sig == SIGQUIT ? "SIGQUIT"
                            : "SIGINT");
    event_base_loopbreak(base);
}

/* Signals whose default action would kill the daemon at once, without a
 * drain: SIGQUIT drains like SIGTERM; the others are answered and the
 * daemon keeps serving. */
static const int other_signals[] = {SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2};
#define NOTHER_SIGNALS (sizeof(other_signals) / sizeof(other_signals[0]))

static void on_ticket_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    te_tls_tickets_rotate();
}

/* (Re)arms the rotation of generated ticket keys with period ms; 0
 * stops it (keys from files, or no tickets). */
static void arm_ticket_timer(struct daemon *d, unsigned period)
{
    struct timeval tv = {period / 1000, (period % 1000) * 1000};

    if (period == d->ticket_period)
        return;
    d->ticket_period = period;
    if (period == 0)
        event_del(d->ticket_timer);
    else if (event_add(d->ticket_timer, &tv) < 0)
        te_log(TE_LOG_ERROR, "cannot arm the ticket key rotation; the "
                             "current key stays in use");
}

/* Same addresses, same tls flags, same order: the workers' listeners
 * are bound once, at start. */
static int same_listeners(const te_config *a, const te_config *b)
{
    if (a->nlistens != b->nlistens)
        return 0;
    for (unsigned i = 0; i < a->nlistens; i++) {
        const te_listen *x = &a->listens[i], *y = &b->listens[i];

        if (x->addrlen != y->addrlen || x->tls != y->tls ||
            memcmp(&x->addr, &y->addr, x->addrlen) != 0)
            return 0;
    }
    return 1;
}

static void reload_refused(const char *why)
{
    te_log(TE_LOG_ERROR,
           "reload refused: %s; the running configuration keeps serving", why);
}

/* The process-wide counters, one notice line: what the TLS handshakes
 * and the HTTP/2 abuse limits did (SIGUSR1, after a reload, at exit). */
static void log_counters(void)
{
    uint64_t h2[TE_H2_NSTATS];
    te_tls_stats st;

    te_tls_stats_get(&st);
    te_h2_stats_get(h2);
    te_log(TE_LOG_NOTICE,
           "counters: handshakes=%" PRIu64 " handshake_failures=%" PRIu64
           " resumed=%" PRIu64 " h2_connections=%" PRIu64
           " h2_streams=%" PRIu64 " h2_calm_resets=%" PRIu64
           " h2_calm_control=%" PRIu64 " h2_calm_glitches=%" PRIu64
           " h2_calm_continuations=%" PRIu64 " h2_calm_flood=%" PRIu64
           " h2_busy_resets=%" PRIu64,
           st.handshakes, st.handshake_failures, st.resumed,
           h2[TE_H2_CONNECTIONS], h2[TE_H2_STREAMS], h2[TE_H2_CALM_RESETS],
           h2[TE_H2_CALM_CONTROL], h2[TE_H2_CALM_GLITCHES],
           h2[TE_H2_CALM_CONTINUATIONS], h2[TE_H2_CALM_FLOOD],
           h2[TE_H2_BUSY_RESETS]);
}

/*
 * SIGHUP: the configuration file is read again whole (every check of a
 * start, -t's included), and only its TLS part is applied: each worker
 * starts its next handshakes on the new contexts, connections already
 * established keep theirs, and the ticket keys are installed. Anything
 * refused leaves everything as it was. The new snapshot is dropped at
 * the end; the workers hold references on its te_tls.
 */
static void reload(struct daemon *d)
{
    char err[1024];
    te_config *cf;

    err[0] = '\0';
    cf = te_config_load(d->cf->path, err, sizeof(err));
    if (cf == NULL) {
        reload_refused(err);
        return;
    }
    if (!same_listeners(d->cf, cf)) {
        reload_refused("listeners cannot change on reload; restart");
        goto out;
    }
    /* ALPN would offer h2 to workers set up without it, or the reverse. */
    if (cf->http2 != d->cf->http2) {
        reload_refused("http2 cannot change on reload; restart");
        goto out;
    }
    if (te_tls_tickets_load(cf, err, sizeof(err)) < 0) {
        reload_refused(err);
        goto out;
    }
    for (unsigned i = 0; cf->tls != NULL && i < d->cf->workers; i++)
        if (d->workers[i] != NULL)
            te_worker_set_tls(d->workers[i], cf->tls);
    arm_ticket_timer(d, te_tls_tickets_period(cf));

    te_log(TE_LOG_NOTICE, "reloaded: TLS certificates and ticket keys "
                          "(other settings need a restart)");
    log_counters();
out:
    te_config_unref(cf);
}

/* SIGHUP reloads; SIGUSR1 logs the counters; SIGUSR2 has no meaning
 * yet. */
static void on_signal_kept(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    if (sig == SIGHUP)
        reload(arg);
    else if (sig == SIGUSR1)
        log_counters();
    else
        te_log(TE_LOG_DEBUG, "received SIGUSR2, ignored");
}

/* Watches other_signals on the main thread's base; evs has
 * NOTHER_SIGNALS slots, left NULL where nothing was made. */
static int watch_other_signals(struct daemon *d, struct event **evs)
{
    for (size_t i = 0; i < NOTHER_SIGNALS; i++) {
        int sig = other_signals[i];

        evs[i] = sig == SIGQUIT ? evsignal_new(d->base, sig, on_signal, d->base)
                                : evsignal_new(d->base, sig, on_signal_kept, d);
        if (evs[i] == NULL || evsignal_add(evs[i], NULL) < 0)
            return -1;
    }
    return 0;
}

/* Frees what watch_other_signals made; as for SIGTERM in run(), the
 * signals are then ignored so that the last teardown is never a kill. */
static void unwatch_other_signals(struct event **evs)
{
    for (size_t i = 0; i < NOTHER_SIGNALS; i++) {
        if (evs[i] != NULL)
            event_free(evs[i]);
        evs[i] = NULL;
        signal(other_signals[i], SIG_IGN);
    }
}

/*
 * The workers bind with SO_REUSEPORT, so a second daemon started on the
 * same address would bind as well and silently take a share of the
 * connections. A probe bound without SO_REUSEPORT fails with EADDRINUSE
 * while any other socket listens there (SO_REUSEADDR keeps connections
 * of a previous run in TIME_WAIT from counting); it is closed at once.
 * Other errors are left to the workers' bind, which reports them. Two
 * daemons started in the same instant can both pass the probe.
 */
static int probe_listens(const te_config *cf)
{
    for (unsigned i = 0; i < cf->nlistens; i++) {
        const te_listen *ls = &cf->listens[i];
        int fd, one = 1, rc, taken;

        fd = socket(ls->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        rc = bind(fd, (const struct sockaddr *)&ls->addr, ls->addrlen);
        taken = rc < 0 && errno == EADDRINUSE;
        close(fd);
        if (taken) {
            te_log(TE_LOG_ERROR, "cannot listen on %s: address already in use",
                   ls->name);
            return -1;
        }
    }
    return 0;
}

/* "a,b,c" of the listen addresses, cut to fit. */
static void listen_text(const te_config *cf, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = '\0';
    for (unsigned i = 0; i < cf->nlistens && n < len; i++) {
        int r = snprintf(buf + n, len - n, "%s%s", i ? "," : "",
                         cf->listens[i].name);

        if (r < 0)
            break;
        n += (size_t)r;
    }
}

/* Drain, join and free every worker that exists. */
static void stop_workers(te_worker **workers, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (workers[i] != NULL && workers[i]->started)
            te_worker_drain(workers[i]);
    for (unsigned i = 0; i < n; i++) {
        if (workers[i] == NULL)
            continue;
        te_worker_join(workers[i]);
        te_worker_free(workers[i]);
    }
}

/* Create every worker (binding all listeners) before any starts, so a
 * bad address fails start-up before anything is served. */
static int create_workers(te_config *cf, te_worker **workers)
{
    for (unsigned i = 0; i < cf->workers; i++) {
        workers[i] = te_worker_new(cf, i);
        if (workers[i] == NULL)
            return -1;
    }
    for (unsigned i = 0; i < cf->workers; i++)
        if (te_worker_start(workers[i]) < 0)
            return -1;
    return 0;
}

static int run(te_config *cf)
{
    struct event_base *base = NULL;
    struct event *sigterm = NULL, *sigint = NULL;
    struct event *others[NOTHER_SIGNALS] = {NULL};
    struct daemon d = {.cf = cf};
    te_worker **workers;
    char listens[LISTEN_TEXT_MAX];
    int rc = 1;

    workers = calloc(cf->workers ? cf->workers : 1, sizeof(*workers));
    base = event_base_new();
    d.base = base;
    d.workers = workers;
    if (base != NULL)
        d.ticket_timer = event_new(base, -1, EV_PERSIST, on_ticket_timer, &d);
    if (workers == NULL || base == NULL || d.ticket_timer == NULL) {
        te_log_errno(TE_LOG_ERROR, "cannot set up the main thread");
        goto fail;
    }
    sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    sigint = evsignal_new(base, SIGINT, on_signal, base);
    if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) < 0 ||
        evsignal_add(sigint, NULL) < 0) {
        te_log_errno(TE_LOG_ERROR, "cannot watch signals");
        goto fail;
    }
    if (watch_other_signals(&d, others) < 0) {
        te_log_errno(TE_LOG_ERROR, "cannot watch signals");
        goto fail;
    }

    if (probe_listens(cf) < 0 || create_workers(cf, workers) < 0)
        goto fail;
    arm_ticket_timer(&d, te_tls_tickets_period(cf));

    listen_text(cf, listens, sizeof(listens));
    te_log(TE_LOG_NOTICE, "tenantedge ready, workers=%u listen=%s", cf->workers,
           listens);

    event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
    rc = 0;

fail:
    if (workers != NULL)
        stop_workers(workers, cf->workers);
    free(workers);
    if (sigterm != NULL)
        event_free(sigterm);
    if (sigint != NULL)
        event_free(sigint);
    /* Freeing the events restored the default action; a second SIGTERM
     * during the last teardown (a supervisor that asks again) must not
     * turn a clean drain into a kill. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    unwatch_other_signals(others);
    if (d.ticket_timer != NULL)
        event_free(d.ticket_timer);
    if (base != NULL)
        event_base_free(base);
    if (rc == 0) {
        log_counters();
        te_log(TE_LOG_NOTICE, "tenantedge stopped");
    }
    return rc;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int test = 0, opt, rc;
    char err[1024];
    te_config *cf;

    while ((opt = getopt(argc, argv, "c:tVh")) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 't':
            test = 1;
            break;
        case 'V':
            print_version();
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (path == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }

    err[0] = '\0';
    cf = te_config_load(path, err, sizeof(err));
    if (cf == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (test) {
        fprintf(stderr, "tenantedge: configuration %s is valid\n", path);
        te_config_unref(cf);
        te_tls_cleanup();
        return 0;
    }

    te_log_level = cf->log_level;
    if (te_tls_tickets_load(cf, err, sizeof(err)) < 0) {
        te_log(TE_LOG_ERROR, "%s", err);
        te_config_unref(cf);
        return 1;
    }
    mallopt(M_TRIM_THRESHOLD, TE_MALLOC_TRIM_THRESHOLD);
    signal(SIGPIPE, SIG_IGN);
    /* No evthread_use_pthreads(): each base is touched by its own thread
     * only (worker.h), and unlocked bases save a mutex pair on every
     * event_add and event_del. */

    rc = run(cf);
    te_config_unref(cf);
    te_tls_cleanup();
    libevent_global_shutdown();
    return rc;
}
