/*
 * reload.c: key rotation without a restart, and without work on the
 * request path.
 *
 * Identity providers rotate keys by publishing a new kid next to the
 * old one, then removing the old one. The operator (or a sync job)
 * rewrites the JWKS file; a watcher thread per configuration stats the
 * files once a second, and when one changed builds a whole new key set
 * (EVP_PKEY_fromdata for each key, as at start-up) and publishes it
 * with a new generation number. Workers compare that number on each
 * request, one atomic load, and when it moved take a reference to the
 * new set, drop the old one and clear their token cache. A file that
 * fails to load leaves the old set in place and is logged once per
 * version of the file.
 *
 * Replace files by rename(2): a rewrite in place within the same
 * timestamp tick and at the same size would go unnoticed.
 */
#include "jwt.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WATCH_PERIOD_S 1

struct te_jwt_source {
    char *jwks_path;   /* NULL: no JWKS */
    char *secret_path; /* NULL: no HMAC secret */
    char *secret_kid;

    /* The current set and its generation: keys under lock, gen also
     * readable without it (acquire pairs with the release below). */
    pthread_mutex_t lock;
    te_jwt_keys *keys;
    atomic_ulong gen;

    /* What the current set was read from, and the last versions that
     * were refused (logged once each); the checker's alone. */
    pthread_mutex_t check_lock;
    te_jwt_file_id jwks_id, secret_id;
    te_jwt_file_id bad_jwks_id, bad_secret_id;
    bool refused;

    /* The watcher thread. */
    pthread_mutex_t watch_lock;
    pthread_cond_t watch_cond; /* CLOCK_MONOTONIC */
    bool started, stop;
    pthread_t thread;
    const te_module *m;
};

static int same_file(const te_jwt_file_id *a, const te_jwt_file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Reads both files and builds a set; NULL with the reason in err. */
static te_jwt_keys *load(const te_jwt_source *src, te_jwt_file_id *jwks_id,
                         te_jwt_file_id *secret_id, char *err, size_t errlen)
{
    char *jwks = NULL, *secret = NULL;
    size_t jwks_len = 0, secret_len = 0;
    te_jwt_keys *ks = NULL;

    memset(jwks_id, 0, sizeof(*jwks_id));
    memset(secret_id, 0, sizeof(*secret_id));
    if (src->jwks_path != NULL) {
        jwks =
            te_jwt_read_file(src->jwks_path, &jwks_len, jwks_id, err, errlen);
        if (jwks == NULL)
            goto done;
    }
    if (src->secret_path != NULL) {
        secret = te_jwt_read_file(src->secret_path, &secret_len, secret_id, err,
                                  errlen);
        if (secret == NULL)
            goto done;
    }
    ks = te_jwt_keys_build(src->jwks_path, jwks, jwks_len,
                           (const unsigned char *)secret, secret_len,
                           src->secret_kid, err, errlen);

done:
    free(jwks);
    if (secret != NULL) {
        memset(secret, 0, secret_len);
        free(secret);
    }
    return ks;
}

static char *dup_or_null(const char *s, int *failed)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = strdup(s);
    if (d == NULL)
        *failed = 1;
    return d;
}

te_jwt_source *te_jwt_source_new(const char *jwks_path, const char *secret_path,
                                 const char *secret_kid, char *err,
                                 size_t errlen)
{
    te_jwt_source *src = calloc(1, sizeof(*src));
    pthread_condattr_t ca;
    int failed = 0;

    if (src == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    src->jwks_path = dup_or_null(jwks_path, &failed);
    src->secret_path = dup_or_null(secret_path, &failed);
    src->secret_kid = dup_or_null(secret_kid, &failed);
    pthread_mutex_init(&src->lock, NULL);
    pthread_mutex_init(&src->check_lock, NULL);
    pthread_mutex_init(&src->watch_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&src->watch_cond, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&src->gen, 1);
    if (failed) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }

    src->keys = load(src, &src->jwks_id, &src->secret_id, err, errlen);
    if (src->keys == NULL)
        goto fail;
    return src;

fail:
    te_jwt_source_free(src);
    return NULL;
}

void te_jwt_source_free(te_jwt_source *src)
{
    if (src == NULL)
        return;
    pthread_mutex_lock(&src->watch_lock);
    src->stop = true;
    pthread_cond_signal(&src->watch_cond);
    pthread_mutex_unlock(&src->watch_lock);
    if (src->started)
        pthread_join(src->thread, NULL);

    pthread_cond_destroy(&src->watch_cond);
    pthread_mutex_destroy(&src->watch_lock);
    pthread_mutex_destroy(&src->check_lock);
    pthread_mutex_destroy(&src->lock);
    te_jwt_keys_unref(src->keys);
    free(src->jwks_path);
    free(src->secret_path);
    free(src->secret_kid);
    free(src);
}

unsigned long te_jwt_source_gen(te_jwt_source *src)
{
    return atomic_load_explicit(&src->gen, memory_order_acquire);
}

te_jwt_keys *te_jwt_source_get(te_jwt_source *src, unsigned long *gen)
{
    te_jwt_keys *ks;

    pthread_mutex_lock(&src->lock);
    ks = te_jwt_keys_ref(src->keys);
    *gen = atomic_load_explicit(&src->gen, memory_order_relaxed);
    pthread_mutex_unlock(&src->lock);
    return ks;
}

/* Has path changed since *id was read? A file that cannot be stat'ed
 * counts as changed (the load then says why). */
static int changed(const char *path, const te_jwt_file_id *id)
{
    struct stat st;
    te_jwt_file_id now;

    if (path == NULL)
        return 0;
    if (stat(path, &st) < 0)
        return 1;
    now = (te_jwt_file_id){st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    return !same_file(&now, id);
}

int te_jwt_source_check(te_jwt_source *src, char *err, size_t errlen)
{
    te_jwt_file_id jid, sid;
    te_jwt_keys *ks, *old;
    int rc = 0;

    pthread_mutex_lock(&src->check_lock);
    if (!changed(src->jwks_path, &src->jwks_id) &&
        !changed(src->secret_path, &src->secret_id))
        goto done;

    ks = load(src, &jid, &sid, err, errlen);
    if (ks == NULL) {
        /* Once per version of the files: the watcher asks every
         * second. */
        if (src->refused && same_file(&jid, &src->bad_jwks_id) &&
            same_file(&sid, &src->bad_secret_id))
            goto done;
        src->refused = true;
        src->bad_jwks_id = jid;
        src->bad_secret_id = sid;
        rc = -1;
        goto done;
    }

    pthread_mutex_lock(&src->lock);
    old = src->keys;
    src->keys = ks;
    atomic_fetch_add_explicit(&src->gen, 1, memory_order_release);
    pthread_mutex_unlock(&src->lock);
    te_jwt_keys_unref(old);
    src->jwks_id = jid;
    src->secret_id = sid;
    src->refused = false;
    snprintf(err, errlen, "%u keys, %u skipped", ks->nkeys, ks->skipped);
    rc = 1;

done:
    pthread_mutex_unlock(&src->check_lock);
    return rc;
}

/* The watcher: one check per period until the source is freed. */
static void *watch_main(void *arg)
{
    te_jwt_source *src = arg;
    char why[512];
    struct timespec at;

    pthread_mutex_lock(&src->watch_lock);
    while (!src->stop) {
        clock_gettime(CLOCK_MONOTONIC, &at);
        at.tv_sec += WATCH_PERIOD_S;
        while (!src->stop &&
               pthread_cond_timedwait(&src->watch_cond, &src->watch_lock,
                                      &at) != ETIMEDOUT)
            ;
        if (src->stop)
            break;
        pthread_mutex_unlock(&src->watch_lock);

        switch (te_jwt_source_check(src, why, sizeof(why))) {
        case 1:
            te_module_log(src->m, TE_MLOG_NOTICE, "keys reloaded: %s", why);
            break;
        case -1:
            te_module_log(src->m, TE_MLOG_WARN,
                          "keys not reloaded, the old ones stay: %s", why);
            break;
        default:
            break;
        }
        pthread_mutex_lock(&src->watch_lock);
    }
    pthread_mutex_unlock(&src->watch_lock);
    return NULL;
}

int te_jwt_source_watch(te_jwt_source *src, const te_module *m)
{
    sigset_t all, old;
    int rc = 0;

    pthread_mutex_lock(&src->watch_lock);
    if (src->started || src->stop)
        goto done;
    src->m = m;

    /* Signals stay with the threads that handle them. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&src->thread, NULL, watch_main, src);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        errno = rc;
        rc = -1;
        goto done;
    }
    src->started = true;

done:
    pthread_mutex_unlock(&src->watch_lock);
    return rc;
}
