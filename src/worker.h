/*
 * worker.h: one worker thread: its own event_base, listeners, upstream
 * pools and client connections. Nothing in a worker is shared with
 * another one, so the request path takes no lock. The bases have no
 * locks either (no evthread_use_pthreads): the main thread never touches
 * a worker's base, it only writes to the worker's eventfd, which the
 * worker's own base watches.
 */
#ifndef TE_WORKER_H
#define TE_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <semaphore.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "config.h"
#include "core.h"
#include "request.h"
#include "tcs.h"

TAILQ_HEAD(te_h1_conn_list, te_h1_conn);
TAILQ_HEAD(te_h2_conn_list, te_h2_conn);
TAILQ_HEAD(te_handshake_list, te_handshake);
struct te_tls;

/* The fixed timeouts of a worker, as common timeouts of its base (one
 * queue each instead of a heap entry per timer). */
typedef struct te_timeouts {
    const struct timeval *header;
    const struct timeval *body;
    const struct timeval *keepalive;
    const struct timeval *send;
    const struct timeval *linger;
    const struct timeval *up_connect;
    const struct timeval *up_send;
    const struct timeval *up_read;
    const struct timeval *up_idle;
} te_timeouts;

struct te_worker {
    unsigned id;
    te_config *cf; /* holds a reference */
    struct event_base *base;

    struct evconnlistener **listeners;
    unsigned nlisteners;

    int wake_fd;                /* eventfd the main thread writes: drain */
    struct event *wake;         /* persistent EV_READ on wake_fd */
    struct event *drain_timer;  /* drain_timeout: close what remains */
    struct event *accept_timer; /* resumes accepting after EMFILE */
    int draining;
    _Atomic int drain_asked;    /* set by te_worker_drain */

    pthread_t thread;
    int started;

    te_pool *pools; /* one per backend, by te_backend.index */
    unsigned *rr;   /* round-robin counters, by backend index:
                       a shard's is at its first backend's */
    te_reqid_gen ids;
    te_timeouts tmo;

    struct te_h1_conn_list conns;
    struct te_h2_conn_list h2conns;
    struct te_handshake_list handshakes;
    unsigned nconns; /* all three kinds */

    /* The TLS contexts new handshakes start on; holds a reference. A
     * reload hands the worker a new one (te_worker_set_tls). */
    struct te_tls *tls;
    struct te_tls *_Atomic tls_next; /* set by the main thread */

    te_tcs *tcs;  /* this worker's tenant context service */
    void **mstate; /* per module of cf->chain, from init_worker */
    sem_t ready;   /* posted once the thread ran the modules' init */
    int init_rc;   /* 0, or -1: a module refused to start */
    const te_module *init_failed;
};

/* Builds a worker and binds its listeners (so a bad address fails at
 * start-up). NULL on failure, logged with the address. */
te_worker *te_worker_new(te_config *cf, unsigned id);

int te_worker_start(te_worker *w);

/* From the main thread (reload): new handshakes of w use t from its
 * next loop turn on; takes a reference on t. Connections already
 * established keep the contexts they started with. */
void te_worker_set_tls(te_worker *w, struct te_tls *t);

/* From any thread: stop accepting and drain (see worker.c). */
void te_worker_drain(te_worker *w);

void te_worker_join(te_worker *w);
void te_worker_free(te_worker *w);

/* The round-robin counter for a shard, bumped once per request. */
unsigned te_worker_next_rr(te_worker *w, const te_shard *sh);

/* Connection registry: the client side reports each one that ends, so
 * a draining worker knows when it is done. */
void te_worker_conn_added(te_worker *w);
void te_worker_conn_removed(te_worker *w);

#endif
