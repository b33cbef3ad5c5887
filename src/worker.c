/*
 * worker.c: a worker thread's lifetime: its base, listeners and pools,
 * the loop, and the drain that the main thread asks for on SIGTERM.
 *
 * Drain: stop accepting (free the listeners), close idle client
 * connections, let requests in flight finish (their connections then
 * close), and leave the loop when no client connection is left or when
 * drain_timeout has passed (what remains is then closed).
 */
#include "worker.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "h2_conn.h"
#include "handshake.h"
#include "http1_conn.h"
#include "log.h"
#include "module.h"
#include "tls.h"
#include "upstream.h"

/* How long a closing client connection may keep sending before we stop
 * reading it (see http1_conn.c, lingering close). */
#define TE_LINGER_MS 2000

/* Pause after accept fails for lack of descriptors, so a full table does
 * not make the listener spin. */
#define TE_ACCEPT_PAUSE_MS 500

/* Which listener of the worker's config the connection came to: the
 * listeners are bound in config order. */
static const te_listen *listener_of(te_worker *w, struct evconnlistener *l)
{
    for (unsigned i = 0; i < w->nlisteners; i++)
        if (w->listeners[i] == l)
            return &w->cf->listens[i];
    return &w->cf->listens[0];
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *sa, int socklen, void *arg)
{
    te_worker *w = arg;

    te_conn_accept(w, listener_of(w, l), fd, sa, socklen);
}

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    te_worker *w = arg;

    for (unsigned i = 0; i < w->nlisteners; i++)
        if (w->listeners[i] != NULL)
            evconnlistener_enable(w->listeners[i]);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    te_worker *w = arg;
    struct timeval tv = te_ms_to_tv(TE_ACCEPT_PAUSE_MS);
    int err = errno;

    te_log_errno(TE_LOG_ERROR, "accept failed worker=%u", w->id);
    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
        return;

    for (unsigned i = 0; i < w->nlisteners; i++)
        if (w->listeners[i] != NULL)
            evconnlistener_disable(w->listeners[i]);
    event_add(w->accept_timer, &tv);
}

static void free_listeners(te_worker *w)
{
    for (unsigned i = 0; i < w->nlisteners; i++) {
        if (w->listeners[i] != NULL)
            evconnlistener_free(w->listeners[i]);
        w->listeners[i] = NULL;
    }
}

static int bind_listeners(te_worker *w)
{
    const unsigned flags = LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT |
                           LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
    const te_config *cf = w->cf;

    w->listeners = calloc(cf->nlistens, sizeof(*w->listeners));
    if (w->listeners == NULL && cf->nlistens > 0)
        return -1;
    w->nlisteners = cf->nlistens;

    for (unsigned i = 0; i < cf->nlistens; i++) {
        const te_listen *ls = &cf->listens[i];
        /* TLS clients speak first (LIBRARIES.md 5): accept once the
         * ClientHello is in, so the handshake's first step has it. */
        unsigned lflags = flags | (ls->tls ? LEV_OPT_DEFERRED_ACCEPT : 0);

        w->listeners[i] = evconnlistener_new_bind(
            w->base, accept_cb, w, lflags, 1024,
            (const struct sockaddr *)&ls->addr, (int)ls->addrlen);
        if (w->listeners[i] == NULL) {
            te_log_errno(TE_LOG_ERROR, "cannot listen on %s", ls->name);
            return -1;
        }
        evconnlistener_set_error_cb(w->listeners[i], accept_error_cb);
    }
    return 0;
}

static const struct timeval *common_timeout(te_worker *w, unsigned ms)
{
    struct timeval tv = te_ms_to_tv(ms);

    return event_base_init_common_timeout(w->base, &tv);
}

static int init_timeouts(te_worker *w)
{
    const te_config *cf = w->cf;
    te_timeouts *t = &w->tmo;

    t->header = common_timeout(w, cf->header_timeout);
    t->body = common_timeout(w, cf->body_timeout);
    t->keepalive = common_timeout(w, cf->keepalive_timeout);
    t->send = common_timeout(w, cf->send_timeout);
    t->linger = common_timeout(w, TE_LINGER_MS);
    t->up_connect = common_timeout(w, cf->upstream_connect_timeout);
    t->up_send = common_timeout(w, cf->upstream_send_timeout);
    t->up_read = common_timeout(w, cf->upstream_read_timeout);
    t->up_idle = common_timeout(w, cf->upstream_keepalive_timeout);

    if (!t->header || !t->body || !t->keepalive || !t->send || !t->linger ||
        !t->up_connect || !t->up_send || !t->up_read || !t->up_idle)
        return -1;
    return 0;
}

/* Every client connection of the worker, whatever its protocol. */
static void close_conns(te_worker *w)
{
    te_handshakes_close(w);
    te_h1_conns_close(w);
    te_h2_conns_close(w);
}

static void drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    te_worker *w = arg;

    te_log(TE_LOG_NOTICE, "drain timeout, closing connections=%u worker=%u",
           w->nconns, w->id);
    close_conns(w);
    event_base_loopexit(w->base, NULL);
}

/* A reload's new TLS contexts, if the main thread left some. HTTP/2
 * connections over TLS may live for hours: a graceful GOAWAY moves
 * their clients to new connections, on the new certificates. */
static void take_tls(te_worker *w)
{
    te_tls *t = atomic_exchange(&w->tls_next, NULL);

    if (t == NULL)
        return;
    te_tls_unref(w->tls);
    w->tls = t;
    te_h2_conns_retire_tls(w);
}

/* Runs on the worker's own thread once the main thread wrote to the
 * eventfd: new TLS contexts (reload), or the drain. */
static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    te_worker *w = arg;
    struct timeval tv = te_ms_to_tv(w->cf->drain_timeout);
    uint64_t n;

    /* Clear the counter, or the level-triggered event fires again. */
    if (read(fd, &n, sizeof(n)) < 0) {
        /* EAGAIN: another wake-up read it first; nothing else fails */
    }
    take_tls(w);
    if (w->draining || !atomic_load(&w->drain_asked))
        return;
    w->draining = 1;

    free_listeners(w);
    event_del(w->accept_timer);
    for (unsigned i = 0; i < w->cf->nbackends; i++)
        te_pool_close(&w->pools[i]);
    te_handshakes_close(w);
    te_h1_conns_drain(w);
    te_h2_conns_drain(w);

    if (w->nconns == 0) {
        event_base_loopexit(w->base, NULL);
        return;
    }
    evtimer_add(w->drain_timer, &tv);
}

static int init_pools(te_worker *w)
{
    const te_config *cf = w->cf;

    w->pools = calloc(cf->nbackends ? cf->nbackends : 1, sizeof(*w->pools));
    w->rr = calloc(cf->nbackends ? cf->nbackends : 1, sizeof(*w->rr));
    if (w->pools == NULL || w->rr == NULL)
        return -1;

    /* Workers start their turns at different backends. */
    for (unsigned i = 0; i < cf->nbackends; i++) {
        te_pool_init(&w->pools[i], w, cf->backends[i]);
        w->rr[i] = w->id;
    }
    return 0;
}

te_worker *te_worker_new(te_config *cf, unsigned id)
{
    te_worker *w;

    w = calloc(1, sizeof(*w));
    if (w == NULL) {
        te_log_errno(TE_LOG_ERROR, "cannot allocate worker=%u", id);
        return NULL;
    }
    w->id = id;
    w->wake_fd = -1;
    w->cf = te_config_ref(cf);
    TAILQ_INIT(&w->conns);
    TAILQ_INIT(&w->h2conns);
    TAILQ_INIT(&w->handshakes);
    if (cf->tls != NULL)
        w->tls = te_tls_ref(cf->tls);
    te_reqid_init(&w->ids);
    sem_init(&w->ready, 0, 0);

    w->base = event_base_new();
    w->mstate = calloc(te_chainconf_count(cf->chain) + 1, sizeof(void *));
    if (w->base == NULL || w->mstate == NULL || init_timeouts(w) < 0 ||
        init_pools(w) < 0)
        goto fail;

    /* logs why it failed */
    w->tcs = te_tcs_create(w->base, cf, id);
    if (w->tcs == NULL) {
        te_worker_free(w);
        return NULL;
    }

    /* An eventfd rather than event_active from the main thread: the
     * base then needs no locks (see worker.h). */
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wake_fd < 0)
        goto fail;
    w->wake = event_new(w->base, w->wake_fd, EV_READ | EV_PERSIST, wake_cb, w);
    w->drain_timer = evtimer_new(w->base, drain_timeout_cb, w);
    w->accept_timer = evtimer_new(w->base, accept_resume_cb, w);
    if (w->wake == NULL || w->drain_timer == NULL || w->accept_timer == NULL ||
        event_add(w->wake, NULL) < 0)
        goto fail;

    if (bind_listeners(w) < 0) {
        te_worker_free(w);
        return NULL;
    }
    return w;

fail:
    te_log_errno(TE_LOG_ERROR, "cannot set up worker=%u", id);
    te_worker_free(w);
    return NULL;
}

/* The modules' per-worker state is made and dropped on the worker's own
 * thread; te_worker_start waits for the first. Requests still open when
 * the loop ends are ended here, before the modules they use go away. */
static void *worker_main(void *arg)
{
    te_worker *w = arg;

    w->init_rc = te_chainconf_init_worker(w->cf->chain, w->mstate,
                                          &w->init_failed);
    sem_post(&w->ready);
    if (w->init_rc < 0)
        return NULL;

    event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);

    close_conns(w);
    te_chainconf_exit_worker(w->cf->chain, w->mstate);
    return NULL;
}

int te_worker_start(te_worker *w)
{
    int rc = pthread_create(&w->thread, NULL, worker_main, w);

    if (rc != 0) {
        errno = rc;
        te_log_errno(TE_LOG_ERROR, "cannot start worker=%u", w->id);
        return -1;
    }
    w->started = 1;

    /* Bounded: the thread posts once, right after the modules' init. */
    while (sem_wait(&w->ready) < 0 && errno == EINTR)
        ;
    if (w->init_rc < 0) {
        te_log(TE_LOG_ERROR, "cannot start worker=%u: module %s failed",
               w->id, w->init_failed->name);
        return -1;
    }
    return 0;
}

/* The only calls the main thread makes into a running worker: an
 * atomic store and one write(2), no libevent call, so the worker's base
 * needs no lock. */
static void wake(te_worker *w)
{
    uint64_t one = 1;

    /* Bounded: EINTR only. EAGAIN means the counter is already set,
     * which wakes the worker just the same. */
    while (write(w->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
}

void te_worker_drain(te_worker *w)
{
    atomic_store(&w->drain_asked, 1);
    wake(w);
}

void te_worker_set_tls(te_worker *w, te_tls *t)
{
    te_tls_unref(atomic_exchange(&w->tls_next, te_tls_ref(t)));
    wake(w);
}

void te_worker_join(te_worker *w)
{
    if (w->started)
        pthread_join(w->thread, NULL);
    w->started = 0;
}

/* After the thread has ended (or never started): nothing runs on the
 * base any more, so everything can go from the calling thread. */
void te_worker_free(te_worker *w)
{
    if (w == NULL)
        return;

    if (w->base != NULL)
        close_conns(w);
    te_tcs_destroy(w->tcs);
    free(w->mstate);
    if (w->listeners != NULL)
        free_listeners(w);
    free(w->listeners);
    for (unsigned i = 0; w->pools != NULL && i < w->cf->nbackends; i++)
        te_pool_close(&w->pools[i]);
    free(w->pools);
    free(w->rr);

    if (w->wake != NULL)
        event_free(w->wake);
    if (w->wake_fd >= 0)
        close(w->wake_fd);
    if (w->drain_timer != NULL)
        event_free(w->drain_timer);
    if (w->accept_timer != NULL)
        event_free(w->accept_timer);
    if (w->base != NULL)
        event_base_free(w->base);
    sem_destroy(&w->ready);
    te_tls_unref(atomic_exchange(&w->tls_next, NULL));
    te_tls_unref(w->tls);
    te_config_unref(w->cf);
    free(w);
}

/* A backend belongs to one shard, so the slot of a shard's first backend
 * can hold the shard's counter without a shard index in the config. */
unsigned te_worker_next_rr(te_worker *w, const te_shard *sh)
{
    if (sh == NULL || sh->nbackends == 0)
        return 0;
    return w->rr[sh->backends[0]->index]++;
}

void te_worker_conn_added(te_worker *w)
{
    w->nconns++;
}

void te_worker_conn_removed(te_worker *w)
{
    w->nconns--;
    if (w->draining && w->nconns == 0)
        event_base_loopexit(w->base, NULL);
}
