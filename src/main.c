/*
 * main.c: the tenantedge daemon: options, configuration, the workers,
 * and the signals that drain them.
 *
 * The main thread only starts workers, waits on its own event_base for
 * SIGTERM/SIGINT/SIGQUIT, then wakes each worker to drain (through the
 * worker's eventfd, never its base), joins them and frees everything (the
 * test suite runs the daemon under LeakSanitizer). SIGHUP, SIGUSR1 and
 * SIGUSR2 are logged and otherwise ignored.
 */
#include "te_autoconf.h"

#include <errno.h>
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
#include "log.h"
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

/* SIGHUP is what supervisors send to reload; there is no reload yet, so
 * say so rather than die. SIGUSR1/SIGUSR2 have no meaning yet. */
static void on_signal_kept(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    (void)arg;
    if (sig == SIGHUP)
        te_log(TE_LOG_NOTICE, "reload requested but not supported yet; "
                              "restart to apply a new configuration");
    else
        te_log(TE_LOG_DEBUG, "received %s, ignored",
               sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2");
}

/* Watches other_signals on the main thread's base; evs has
 * NOTHER_SIGNALS slots, left NULL where nothing was made. */
static int watch_other_signals(struct event_base *base, struct event **evs)
{
    for (size_t i = 0; i < NOTHER_SIGNALS; i++) {
        int sig = other_signals[i];

        evs[i] = evsignal_new(
            base, sig, sig == SIGQUIT ? on_signal : on_signal_kept, base);
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
    te_worker **workers;
    char listens[LISTEN_TEXT_MAX];
    int rc = 1;

    workers = calloc(cf->workers ? cf->workers : 1, sizeof(*workers));
    base = event_base_new();
    if (workers == NULL || base == NULL) {
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
    if (watch_other_signals(base, others) < 0) {
        te_log_errno(TE_LOG_ERROR, "cannot watch signals");
        goto fail;
    }

    if (probe_listens(cf) < 0 || create_workers(cf, workers) < 0)
        goto fail;

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
    if (base != NULL)
        event_base_free(base);
    if (rc == 0)
        te_log(TE_LOG_NOTICE, "tenantedge stopped");
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
        return 0;
    }

    te_log_level = cf->log_level;
    mallopt(M_TRIM_THRESHOLD, TE_MALLOC_TRIM_THRESHOLD);
    signal(SIGPIPE, SIG_IGN);
    /* No evthread_use_pthreads(): each base is touched by its own thread
     * only (worker.h), and unlocked bases save a mutex pair on every
     * event_add and event_del. */

    rc = run(cf);
    te_config_unref(cf);
    libevent_global_shutdown();
    return rc;
}
