/*
 * test_session.c: the session service (src/session.c) as the tenant
 * context service runs it (src/tcs.c: the same Redis client, the events
 * channel), against a real redis-server each test starts on a free
 * loopback port and stops again.
 *
 * What is proved: a live session is fetched once however many lookups
 * wait for it (counted by the server) and then answered from the cache;
 * unknown and expired sessions are declined and remembered; an invalid
 * id never reaches Redis; a session-revoke event evicts the session on
 * every worker within a second; a resubscribe empties the cache; a
 * malformed record is an error, logged once and without the id; Redis
 * gone fails uncached ids at once.
 *
 * redis-server is started with PR_SET_PDEATHSIG, so it dies with the
 * test process even when a check ends that process early.
 */
#define _GNU_SOURCE
#include <check.h>
#include <event2/event.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "session.h"
#include "tcs.h"

#define SID   "s-live-0123456789abcdef"
#define OTHER "s-other-0123456789abcdef"

static struct event_base *base;
static struct event *tick;
static pid_t redis_pid = -1;
static int redis_port;
static char logpath[64];
static int saved_stderr = -1;
static te_config *cf;

/* ---- time and the loop ---- */

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Runs the loop until *flag is set or <ms> have passed; 1 if set. The
 * tick wakes the loop every 10ms, so this is bounded by <ms>. */
static int loop_until(const int *flag, int64_t ms)
{
    int64_t end = mono_ms() + ms;

    while (!*flag && mono_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    return *flag;
}

static void loop_for(int64_t ms)
{
    int never = 0;

    loop_until(&never, ms);
}

/* ---- redis-server and admin commands ---- */

static int pick_port(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    ck_assert_int_ge(fd, 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

static redisContext *admin_connect(void)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", redis_port, tv);

    if (c != NULL && c->err) {
        redisFree(c);
        return NULL;
    }
    if (c != NULL)
        redisSetTimeout(c, tv);
    return c;
}

/* One command; the reply's integer (or 0) is returned. */
static long long admin(const char *fmt, ...)
{
    redisContext *c = admin_connect();
    redisReply *r;
    long long n = 0;
    va_list ap;

    ck_assert_msg(c != NULL, "no admin connection to redis");
    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
    ck_assert_msg(r != NULL && r->type != REDIS_REPLY_ERROR, "%s: %s", fmt,
                  r != NULL ? r->str : c->errstr);
    if (r->type == REDIS_REPLY_INTEGER)
        n = r->integer;
    freeReplyObject(r);
    redisFree(c);
    return n;
}

static void redis_start(void)
{
    char port[16];
    int64_t end;

    snprintf(port, sizeof(port), "%d", redis_port);
    redis_pid = fork();
    ck_assert_int_ge(redis_pid, 0);
    if (redis_pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execlp("redis-server", "redis-server", "--port", port, "--bind",
               "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel",
               "warning", (char *)NULL);
        _exit(127);
    }

    /* Bounded: 10 s at most. */
    end = mono_ms() + 10 * 1000;
    for (;;) {
        redisContext *c = admin_connect();
        int st;

        if (c != NULL) {
            redisFree(c);
            return;
        }
        ck_assert_msg(waitpid(redis_pid, &st, WNOHANG) == 0,
                      "redis-server exited at once (port %d)", redis_port);
        ck_assert_msg(mono_ms() < end, "redis-server did not come up");
        usleep(20 * 1000);
    }
}

static void redis_stop(void)
{
    int st;

    if (redis_pid <= 0)
        return;
    kill(redis_pid, SIGKILL);
    waitpid(redis_pid, &st, 0);
    redis_pid = -1;
}

/* calls= of GET in INFO commandstats. */
static long get_calls(void)
{
    redisContext *c = admin_connect();
    const char *at;
    redisReply *r;
    long n = 0;

    ck_assert_ptr_nonnull(c);
    r = redisCommand(c, "INFO commandstats");
    ck_assert(r != NULL && r->type == REDIS_REPLY_STRING);
    at = strstr(r->str, "cmdstat_get:calls=");
    if (at != NULL)
        n = strtol(at + strlen("cmdstat_get:calls="), NULL, 10);
    freeReplyObject(r);
    redisFree(c);
    return n;
}

static void put_session(const char *id, const char *user, int64_t expires)
{
    char json[160];

    snprintf(json, sizeof(json),
             "{\"user\":\"%s\",\"tenant\":\"t-0001\",\"expires\":%lld}", user,
             (long long)expires);
    admin("SET tcs:session:%s %s", id, json);
}

/* Publishes a session-revoke event whose "session" is <id>, or with no
 * "session" at all for NULL. */
static void publish_revoke(const char *id)
{
    char json[160];

    if (id != NULL)
        snprintf(json, sizeof(json),
                 "{\"event\":\"session-revoke\",\"session\":\"%s\"}", id);
    else
        snprintf(json, sizeof(json), "{\"event\":\"session-revoke\"}");
    admin("PUBLISH tcs:events %s", json);
}

/* ---- the log, captured ---- */

static void log_capture(void)
{
    int fd;

    strcpy(logpath, "/tmp/te-session-log-XXXXXX");
    fd = mkstemp(logpath);
    ck_assert_int_ge(fd, 0);
    saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

static void log_release(void)
{
    if (saved_stderr < 0)
        return;
    dup2(saved_stderr, 2);
    close(saved_stderr);
    saved_stderr = -1;
    unlink(logpath);
}

/* Lines of the captured log holding <s>. */
static int log_count(const char *s)
{
    char line[1024];
    FILE *f = fopen(logpath, "r");
    int n = 0;

    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, s) != NULL;
    fclose(f);
    return n;
}

/* ---- fixture ---- */

static void setup(void)
{
    struct timeval tv = {0, 10 * 1000};
    char text[512], err[512];

    te_log_level = TE_LOG_INFO;
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
    tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
    event_add(tick, &tv);
    redis_port = pick_port();
    log_capture();

    snprintf(text, sizeof(text),
             "listen 127.0.0.1:8080;\n"
             "redis 127.0.0.1:%d { timeout 300ms; connect_timeout 500ms; "
             "heartbeat 200ms; }\n"
             "tcs { store redis; cache 1000 ttl 60s stale 60s; "
             "negative_ttl 60s; }\n",
             redis_port);
    cf = te_config_parse("t.conf", text, strlen(text), err, sizeof(err));
    ck_assert_msg(cf != NULL, "%s", err);
}

static void teardown(void)
{
    log_release();
    redis_stop();
    te_config_unref(cf);
    cf = NULL;
    event_free(tick);
    event_base_free(base);
}

/* Worker <id>'s services, connected and subscribed. */
static te_tcs *worker(unsigned id)
{
    te_tcs *t = te_tcs_create(base, cf, id);
    int64_t end = mono_ms() + 10 * 1000;

    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(te_tcs_sessions(t));
    /* Bounded: 10 s. */
    while (!te_tcs_ready(t) && mono_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    ck_assert_msg(te_tcs_ready(t), "not connected to redis within 10 s");
    return t;
}

/* ---- lookups ---- */

struct answer {
    int done;
    te_status rc;
    char user[64];
    te_sessions_wait *wait;
};

static void done_cb(void *arg, te_status rc, const te_session *s)
{
    struct answer *a = arg;

    ck_assert_msg(!a->done, "a wait was answered twice");
    a->done = 1;
    a->rc = rc;
    snprintf(a->user, sizeof(a->user), "%s", s != NULL ? s->user : "");
}

/* Starts a lookup; returns what te_sessions_get returned. */
static te_status start(te_tcs *t, const char *id, struct answer *a)
{
    const te_session *s = NULL;
    te_status rc;

    memset(a, 0, sizeof(*a));
    rc = te_sessions_get(te_tcs_sessions(t), id, strlen(id), time(NULL), &s,
                         done_cb, a, &a->wait);
    if (rc != TE_AGAIN) {
        a->done = 1;
        a->rc = rc;
        snprintf(a->user, sizeof(a->user), "%s", s != NULL ? s->user : "");
        ck_assert_ptr_null(a->wait);
        ck_assert(rc == TE_OK ? s != NULL : s == NULL);
    }
    return rc;
}

/* A whole lookup, waiting up to 5 s. */
static te_status lookup(te_tcs *t, const char *id, struct answer *a)
{
    start(t, id, a);
    ck_assert_msg(loop_until(&a->done, 5000), "no answer in 5 s");
    return a->rc;
}

/* ---- tests ---- */

START_TEST(fetched_once_then_cached)
{
    struct answer a[5], one;
    te_tcs *t;

    redis_start();
    put_session(SID, "u-1", time(NULL) + 3600);
    t = worker(0);
    admin("CONFIG RESETSTAT");

    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(start(t, SID, &a[i]), TE_AGAIN);
    for (int i = 0; i < 5; i++) {
        ck_assert(loop_until(&a[i].done, 5000));
        ck_assert_int_eq(a[i].rc, TE_OK);
        ck_assert_str_eq(a[i].user, "u-1");
    }
    ck_assert_int_eq(start(t, SID, &one), TE_OK);
    ck_assert_str_eq(one.user, "u-1");
    ck_assert_int_eq(get_calls(), 1);
    te_tcs_destroy(t);
}
END_TEST

START_TEST(unknown_expired_and_invalid_are_declined)
{
    struct answer a;
    te_tcs *t;

    redis_start();
    put_session(OTHER, "u-2", time(NULL) - 1);
    t = worker(0);
    admin("CONFIG RESETSTAT");

    ck_assert_int_eq(lookup(t, SID, &a), TE_DECLINED);
    ck_assert_int_eq(start(t, SID, &a), TE_DECLINED); /* remembered */
    ck_assert_int_eq(lookup(t, OTHER, &a), TE_DECLINED);
    ck_assert_int_eq(start(t, OTHER, &a), TE_DECLINED);
    ck_assert_int_eq(start(t, "short", &a), TE_DECLINED);
    ck_assert_int_eq(start(t, "s-0123456789*abcdef", &a), TE_DECLINED);
    ck_assert_int_eq(start(t, "s-0123456789\r\nabcdef", &a), TE_DECLINED);
    ck_assert_int_eq(get_calls(), 2);
    te_tcs_destroy(t);
}
END_TEST

/* How long until <t> no longer answers <id> from its cache, or -1. */
static int64_t until_evicted(te_tcs *t, const char *id, int64_t ms)
{
    int64_t start_at = mono_ms();
    struct answer a;

    /* Bounded by <ms>. */
    while (mono_ms() - start_at < ms) {
        te_status rc = start(t, id, &a);

        if (rc == TE_AGAIN) {
            te_sessions_cancel(a.wait);
            return mono_ms() - start_at;
        }
        if (rc != TE_OK)
            return mono_ms() - start_at;
        loop_for(5);
    }
    return -1;
}

START_TEST(revoke_event_evicts_on_every_worker)
{
    struct answer a;
    te_tcs *w0, *w1;
    int64_t took;

    redis_start();
    put_session(SID, "u-1", time(NULL) + 3600);
    put_session(OTHER, "u-2", time(NULL) + 3600);
    w0 = worker(0);
    w1 = worker(1);
    ck_assert_int_eq(lookup(w0, SID, &a), TE_OK);
    ck_assert_int_eq(lookup(w1, SID, &a), TE_OK);
    ck_assert_int_eq(lookup(w1, OTHER, &a), TE_OK);

    admin("DEL tcs:session:%s", SID);
    ck_assert_int_eq(start(w0, SID, &a), TE_OK); /* cached until the event */
    publish_revoke(SID);
    took = until_evicted(w0, SID, 3000);
    ck_assert_msg(took >= 0 && took < 1000, "worker 0 took %lld ms",
                  (long long)took);
    took = until_evicted(w1, SID, 3000);
    ck_assert_msg(took >= 0 && took < 1000, "worker 1 took %lld ms",
                  (long long)took);
    ck_assert_int_eq(lookup(w1, SID, &a), TE_DECLINED);
    ck_assert_int_eq(start(w1, OTHER, &a), TE_OK); /* the other stays */

    /* a revoke naming no valid session is ignored, and says so */
    publish_revoke("x y");
    publish_revoke(NULL);
    loop_for(300);
    ck_assert_int_eq(start(w1, OTHER, &a), TE_OK);
    ck_assert_int_eq(log_count("session-revoke event ignored"), 4);
    ck_assert_int_eq(log_count(SID), 0);

    te_tcs_destroy(w0);
    te_tcs_destroy(w1);
}
END_TEST

START_TEST(resubscribe_empties_the_cache)
{
    struct answer a;
    te_tcs *t;

    redis_start();
    put_session(SID, "u-1", time(NULL) + 3600);
    t = worker(0);
    ck_assert_int_eq(lookup(t, SID, &a), TE_OK);
    ck_assert_int_eq(start(t, SID, &a), TE_OK);

    admin("CLIENT KILL TYPE pubsub");
    for (int i = 0; i < 100 && te_tcs_ready(t); i++)
        loop_for(10);
    for (int i = 0; i < 1000 && !te_tcs_ready(t); i++)
        loop_for(10);
    ck_assert(te_tcs_ready(t));

    ck_assert_int_eq(start(t, SID, &a), TE_AGAIN);
    ck_assert(loop_until(&a.done, 5000));
    ck_assert_int_eq(a.rc, TE_OK);
    te_tcs_destroy(t);
}
END_TEST

START_TEST(malformed_record_is_an_error_logged_once)
{
    struct answer a;
    te_tcs *t;

    redis_start();
    admin("SET tcs:session:%s %s", SID, "{\"user\":\"u-1\",\"tenant\":5}");
    admin("SET tcs:session:%s %s", OTHER, "[1,2]");
    t = worker(0);

    ck_assert_int_eq(lookup(t, SID, &a), TE_ERROR);
    ck_assert_int_eq(lookup(t, SID, &a), TE_ERROR); /* nothing cached */
    ck_assert_int_eq(lookup(t, OTHER, &a), TE_ERROR);
    ck_assert_int_eq(log_count("malformed session record in redis"), 1);
    ck_assert_int_eq(log_count("tenant: not a string"), 1);
    ck_assert_int_eq(log_count(SID), 0);
    te_tcs_destroy(t);
}
END_TEST

START_TEST(redis_gone_fails_uncached_at_once)
{
    struct answer a;
    int64_t t0;
    te_tcs *t;

    redis_start();
    put_session(SID, "u-1", time(NULL) + 3600);
    t = worker(0);
    ck_assert_int_eq(lookup(t, SID, &a), TE_OK);

    redis_stop();
    /* Bounded: the loss is noticed within the command timeout. */
    t0 = mono_ms();
    while (te_tcs_ready(t) && mono_ms() - t0 < 5000) {
        start(t, OTHER, &a);
        if (a.wait != NULL)
            loop_until(&a.done, 1000);
        loop_for(20);
    }
    ck_assert(!te_tcs_ready(t));
    ck_assert_int_eq(start(t, OTHER, &a), TE_ERROR);
    ck_assert_int_eq(start(t, SID, &a), TE_OK); /* within its cache time */
    te_tcs_destroy(t);
}
END_TEST

START_TEST(static_store_has_no_sessions)
{
    te_config *sc;
    char err[256];
    te_tcs *t;

    sc = te_config_parse("s.conf", "listen 127.0.0.1:8080;\n", 23, err,
                         sizeof(err));
    ck_assert_msg(sc != NULL, "%s", err);
    t = te_tcs_create(base, sc, 0);
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_null(te_tcs_sessions(t));
    te_tcs_destroy(t);
    te_config_unref(sc);
}
END_TEST

static Suite *session_suite(void)
{
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("redis");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, fetched_once_then_cached);
    tcase_add_test(tc, unknown_expired_and_invalid_are_declined);
    tcase_add_test(tc, revoke_event_evicts_on_every_worker);
    tcase_add_test(tc, resubscribe_empties_the_cache);
    tcase_add_test(tc, malformed_record_is_an_error_logged_once);
    tcase_add_test(tc, redis_gone_fails_uncached_at_once);
    tcase_add_test(tc, static_store_has_no_sessions);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(session_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
