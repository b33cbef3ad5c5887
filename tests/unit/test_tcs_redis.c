/*
 * test_tcs_redis.c: the tenant context service with store redis
 * (src/tcs.c, src/redis.c) against a real redis-server that each test
 * starts on a free loopback port and stops again.
 *
 * What is proved: misses, hits and negative entries; serve-stale with a
 * background refresh; one GET per key however many requests wait
 * (counted by the server, INFO commandstats); lifecycle events evicting
 * on every worker within a second; a killed Redis leaving cached tenants
 * served and everything else failing fast; a hung Redis timing out; a
 * restarted Redis recovering with one log line per outage; malformed
 * records refused with one error line; AUTH and SELECT.
 *
 * redis-server is started with PR_SET_PDEATHSIG, so it dies with the
 * test process even when an assertion or a Check timeout ends that
 * process before the teardown runs. Time margins are generous: the
 * machines running this are shared.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
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
#include "tcs.h"

#define RECORD(id, site, status, version)                                      \
    "{\"id\":\"" id "\",\"site\":\"" site "\",\"status\":\"" status "\","      \
    "\"region\":\"eu\",\"shard\":\"eu-1\",\"version\":" version ","            \
    "\"products\":{\"jira\":{\"status\":\"active\",\"shard\":\"eu-1\"}}}"

/* The default tuning of these tests: short, so waits are short too. */
#define REDIS_TUNING                                                           \
    "{ timeout 300ms; connect_timeout 500ms; heartbeat 200ms; }"
#define TCS_BLOCK                                                              \
    "tcs { store redis; cache 1000 ttl 60s stale 60s; negative_ttl 60s; }\n"

static struct event_base *base;
static struct event *tick;
static pid_t redis_pid = -1;
static int redis_port;
static char redis_extra[256]; /* more redis-server arguments */
static char logpath[64];
static int saved_stderr = -1;
static te_config *cf;

/* ---- time and the loop ---- */

static int64_t now_ms(void)
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

/* Runs the loop until *flag is set or <ms> have passed; 1 if set. */
static int run_until(const int *flag, int64_t ms)
{
    int64_t end = now_ms() + ms;

    /* Bounded: the tick wakes the loop every 10ms until the deadline. */
    while (!*flag && now_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    return *flag;
}

/* Runs the loop for <ms>. */
static void run_for(int64_t ms)
{
    int never = 0;

    run_until(&never, ms);
}

/* ---- redis-server ---- */

static int free_port(void)
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

/* A blocking connection for the test's own commands; NULL if refused. */
static redisContext *admin_try(void)
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

static int redis_answers(void)
{
    redisContext *c = admin_try();
    redisReply *r;
    int ok;

    if (c == NULL)
        return 0;
    r = redisCommand(c, "PING");
    ok = r != NULL; /* PONG, or NOAUTH from a server that wants AUTH */
    freeReplyObject(r);
    redisFree(c);
    return ok;
}

/* Starts redis-server on redis_port; it dies with this process. */
static void redis_start(void)
{
    char port[16];
    int64_t end;

    snprintf(port, sizeof(port), "%d", redis_port);
    redis_pid = fork();
    ck_assert_int_ge(redis_pid, 0);
    if (redis_pid == 0) {
        const char *argv[16] = {
            "redis-server", "--port",     port,     "--bind",
            "127.0.0.1",    "--save",     "",       "--appendonly",
            "no",           "--loglevel", "warning"};
        int argc = 11, null = open("/dev/null", O_WRONLY);
        char *save = NULL, *word;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        for (word = strtok_r(redis_extra, " ", &save);
             word != NULL && argc < 15; word = strtok_r(NULL, " ", &save))
            argv[argc++] = word;
        argv[argc] = NULL;
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }

    /* Bounded: 10 s at most. */
    end = now_ms() + 10 * 1000;
    while (!redis_answers()) {
        int st;

        ck_assert_msg(waitpid(redis_pid, &st, WNOHANG) == 0,
                      "redis-server exited at once (is it on PATH? port %d)",
                      redis_port);
        ck_assert_msg(now_ms() < end, "redis-server did not come up");
        usleep(20 * 1000);
    }
}

static void redis_stop(int sig)
{
    int st;

    if (redis_pid <= 0)
        return;
    kill(redis_pid, SIGCONT);
    kill(redis_pid, sig);
    /* Bounded: 5 s, then SIGKILL. */
    for (int i = 0; i < 500; i++) {
        if (waitpid(redis_pid, &st, WNOHANG) == redis_pid) {
            redis_pid = -1;
            return;
        }
        usleep(10 * 1000);
    }
    kill(redis_pid, SIGKILL);
    waitpid(redis_pid, &st, 0);
    redis_pid = -1;
}

/* One command on a fresh admin connection; the reply is freed. */
static void admin(const char *fmt, ...)
{
    redisContext *c = admin_try();
    redisReply *r;
    va_list ap;

    ck_assert_msg(c != NULL, "no admin connection to redis");
    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
    ck_assert_msg(r != NULL && r->type != REDIS_REPLY_ERROR, "%s: %s", fmt,
                  r != NULL ? r->str : c->errstr);
    freeReplyObject(r);
    redisFree(c);
}

/* calls= of one command in INFO commandstats, 0 when absent. */
static long command_calls(const char *cmd)
{
    redisContext *c = admin_try();
    char key[64];
    redisReply *r;
    const char *at;
    long n = 0;

    ck_assert_ptr_nonnull(c);
    r = redisCommand(c, "INFO commandstats");
    ck_assert(r != NULL && r->type == REDIS_REPLY_STRING);
    snprintf(key, sizeof(key), "cmdstat_%s:calls=", cmd);
    at = strstr(r->str, key);
    if (at != NULL)
        n = strtol(at + strlen(key), NULL, 10);
    freeReplyObject(r);
    redisFree(c);
    return n;
}

/* ---- the log, captured ---- */

static void log_capture(void)
{
    int fd;

    strcpy(logpath, "/tmp/te-tcs-log-XXXXXX");
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

/* Lines of the captured log holding every one of the strings. */
static int log_count(const char *a, const char *b)
{
    char line[1024];
    FILE *f = fopen(logpath, "r");
    int n = 0;

    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL))
            n++;
    }
    fclose(f);
    return n;
}

/* ---- fixture ---- */

static void setup(void)
{
    struct timeval tv = {0, 10 * 1000};

    te_log_level = TE_LOG_INFO;
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
    tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
    event_add(tick, &tv);
    redis_port = free_port();
    redis_extra[0] = '\0';
    log_capture();
}

static void teardown(void)
{
    log_release();
    redis_stop(SIGTERM);
    te_config_unref(cf);
    cf = NULL;
    event_free(tick);
    event_base_free(base);
}

/* The config for the running server, with <redis_block> after the
 * address (or ";") and <tcs> as the tcs directive. */
static void configure(const char *redis_block, const char *tcs)
{
    char text[1024], err[512];

    snprintf(text, sizeof(text),
             "listen 127.0.0.1:8080;\nredis 127.0.0.1:%d %s\n%s", redis_port,
             redis_block, tcs);
    cf = te_config_parse("t.conf", text, strlen(text), err, sizeof(err));
    ck_assert_msg(cf != NULL, "%s", err);
}

static te_tcs *service(unsigned worker)
{
    te_tcs *t = te_tcs_create(base, cf, worker);
    int64_t end = now_ms() + 10 * 1000;

    ck_assert_ptr_nonnull(t);
    /* Bounded: 10 s. */
    while (!te_tcs_ready(t) && now_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    ck_assert_msg(te_tcs_ready(t), "not connected to redis within 10 s");
    return t;
}

static void provision(const char *site, const char *id, const char *record)
{
    admin("SET tcs:site:%s %s", site, id);
    admin("SET tcs:tenant:%s %s", id, record);
}

/* ---- one lookup ---- */

struct answer {
    int done;
    te_status rc;
    te_tcs_context *ctx;
    te_tcs_wait *wait;
};

static void done_cb(void *arg, te_status rc, te_tcs_context *ctx)
{
    struct answer *a = arg;

    ck_assert_msg(!a->done, "a wait was answered twice");
    a->done = 1;
    a->rc = rc;
    a->ctx = ctx;
}

/* Starts a lookup; returns what te_tcs_get returned. */
static te_status start(te_tcs *t, const char *site, struct answer *a)
{
    te_status rc;

    memset(a, 0, sizeof(*a));
    rc = te_tcs_get(t, site, strlen(site), &a->ctx, done_cb, a, &a->wait);
    if (rc != TE_AGAIN) {
        a->done = 1;
        a->rc = rc;
        ck_assert_ptr_null(a->wait);
    } else {
        ck_assert_ptr_nonnull(a->wait);
        ck_assert_ptr_null(a->ctx);
    }
    return rc;
}

/* A whole lookup, waiting up to 5 s; the context is the caller's. */
static te_status lookup(te_tcs *t, const char *site, te_tcs_context **ctx)
{
    struct answer a;

    start(t, site, &a);
    ck_assert_msg(run_until(&a.done, 5000), "no answer for %s in 5 s", site);
    *ctx = a.ctx;
    if (a.rc != TE_OK)
        ck_assert_ptr_null(a.ctx);
    return a.rc;
}

/* The version lookup(site) sees now, or -1 when it is not TE_OK. */
static long version_of(te_tcs *t, const char *site)
{
    te_tcs_context *ctx;
    long v = -1;

    if (lookup(t, site, &ctx) == TE_OK)
        v = (long)ctx->version;
    te_tcs_context_free(ctx);
    return v;
}

/* ---- tests ---- */

START_TEST(miss_hit_and_negative)
{
    te_tcs_context *ctx;
    struct answer a;
    te_tcs *t;

    redis_start();
    provision("acme", "t-0001", RECORD("t-0001", "acme", "active", "7"));
    configure(REDIS_TUNING, TCS_BLOCK);
    t = service(0);
    admin("CONFIG RESETSTAT");

    /* a miss waits for Redis */
    ck_assert_int_eq(start(t, "acme", &a), TE_AGAIN);
    ck_assert(run_until(&a.done, 5000));
    ck_assert_int_eq(a.rc, TE_OK);
    ck_assert_str_eq(a.ctx->id, "t-0001");
    ck_assert_str_eq(a.ctx->shard, "eu-1");
    ck_assert_uint_eq(a.ctx->version, 7);
    te_tcs_context_free(a.ctx);
    ck_assert_int_eq(command_calls("get"), 2);

    /* a hit does not */
    ck_assert_int_eq(start(t, "acme", &a), TE_OK);
    ck_assert_str_eq(a.ctx->id, "t-0001");
    te_tcs_context_free(a.ctx);

    /* an unknown site is remembered */
    ck_assert_int_eq(lookup(t, "nobody", &ctx), TE_DECLINED);
    ck_assert_int_eq(command_calls("get"), 3);
    ck_assert_int_eq(start(t, "nobody", &a), TE_DECLINED);
    ck_assert_int_eq(command_calls("get"), 3);

    /* names that are no site never reach Redis */
    ck_assert_int_eq(start(t, "Acme", &a), TE_DECLINED);
    ck_assert_int_eq(start(t, "a*", &a), TE_DECLINED);
    ck_assert_int_eq(start(t, "", &a), TE_DECLINED);
    ck_assert_int_eq(command_calls("get"), 3);

    /* a destroyed tenant is still a context: policy answers 404 */
    provision("gone", "t-0009", RECORD("t-0009", "gone", "destroyed", "3"));
    ck_assert_int_eq(lookup(t, "gone", &ctx), TE_OK);
    ck_assert_int_eq(ctx->status, TE_TCS_DESTROYED);
    te_tcs_context_free(ctx);

    te_tcs_destroy(t);
}
END_TEST

START_TEST(stale_served_while_refreshing)
{
    struct answer a;
    te_tcs *t;

    redis_start();
    provision("acme", "t-0001", RECORD("t-0001", "acme", "active", "1"));
    configure(REDIS_TUNING, "tcs { store redis; cache 100 ttl 400ms stale 60s; "
                            "}\n");
    t = service(0);
    ck_assert_int_eq(version_of(t, "acme"), 1);

    /* changed without an event: seen once the entry is stale */
    admin("SET tcs:tenant:t-0001 %s", RECORD("t-0001", "acme", "active", "2"));
    ck_assert_int_eq(start(t, "acme", &a), TE_OK);
    ck_assert_uint_eq(a.ctx->version, 1);
    te_tcs_context_free(a.ctx);

    run_for(600);
    admin("CONFIG RESETSTAT");
    ck_assert_int_eq(start(t, "acme", &a), TE_OK); /* stale, refreshing */
    ck_assert_uint_eq(a.ctx->version, 1);
    te_tcs_context_free(a.ctx);
    ck_assert_int_eq(start(t, "acme", &a), TE_OK); /* one refresh only */
    te_tcs_context_free(a.ctx);

    run_for(500);
    ck_assert_int_eq(command_calls("get"), 2);
    ck_assert_int_eq(start(t, "acme", &a), TE_OK);
    ck_assert_uint_eq(a.ctx->version, 2);
    te_tcs_context_free(a.ctx);
    te_tcs_destroy(t);
}
END_TEST

#define NWAIT 50

/* N requests for one site cost one GET per key; for several sites, one
 * per key each. Counted by the server. */
START_TEST(single_flight_one_get_per_key)
{
    struct answer a[NWAIT], b[10][5];
    char site[16];
    te_tcs *t;

    redis_start();
    provision("acme", "t-0001", RECORD("t-0001", "acme", "active", "1"));
    for (int s = 0; s < 10; s++) {
        char id[16], rec[512];

        snprintf(site, sizeof(site), "site%d", s);
        snprintf(id, sizeof(id), "t-%d", s);
        snprintf(rec, sizeof(rec),
                 "{\"id\":\"%s\",\"site\":\"%s\",\"status\":\"active\","
                 "\"region\":\"eu\",\"version\":1,\"products\":{}}",
                 id, site);
        provision(site, id, rec);
    }
    configure(REDIS_TUNING, TCS_BLOCK);
    t = service(0);
    admin("CONFIG RESETSTAT");

    for (int i = 0; i < NWAIT; i++)
        ck_assert_int_eq(start(t, "acme", &a[i]), TE_AGAIN);
    ck_assert(run_until(&a[NWAIT - 1].done, 5000));
    for (int i = 0; i < NWAIT; i++) {
        ck_assert_int_eq(a[i].done, 1);
        ck_assert_int_eq(a[i].rc, TE_OK);
        ck_assert_str_eq(a[i].ctx->site, "acme");
        te_tcs_context_free(a[i].ctx);
    }
    ck_assert_int_eq(command_calls("get"), 2);

    /* interleaved: five waits on each of ten sites */
    admin("CONFIG RESETSTAT");
    for (int k = 0; k < 5; k++) {
        for (int s = 0; s < 10; s++) {
            snprintf(site, sizeof(site), "site%d", s);
            ck_assert_int_eq(start(t, site, &b[s][k]), TE_AGAIN);
        }
    }
    run_for(1000);
    for (int s = 0; s < 10; s++) {
        for (int k = 0; k < 5; k++) {
            ck_assert_int_eq(b[s][k].done, 1);
            ck_assert_int_eq(b[s][k].rc, TE_OK);
            te_tcs_context_free(b[s][k].ctx);
        }
    }
    ck_assert_int_eq(command_calls("get"), 20);

    /* unknown sites are single-flight too */
    admin("CONFIG RESETSTAT");
    for (int i = 0; i < NWAIT; i++)
        ck_assert_int_eq(start(t, "nobody", &a[i]), TE_AGAIN);
    ck_assert(run_until(&a[NWAIT - 1].done, 5000));
    for (int i = 0; i < NWAIT; i++)
        ck_assert_int_eq(a[i].rc, TE_DECLINED);
    ck_assert_int_eq(command_calls("get"), 1);
    te_tcs_destroy(t);
}
END_TEST

/* A request that goes away cancels its wait; the fetch still completes
 * and is cached, and nobody else is disturbed. */
START_TEST(cancelled_wait_is_never_called)
{
    struct answer a, b;
    te_tcs *t;

    redis_start();
    provision("acme", "t-0001", RECORD("t-0001", "acme", "active", "1"));
    configure(REDIS_TUNING, TCS_BLOCK);
    t = service(0);
    admin("CONFIG RESETSTAT");

    ck_assert_int_eq(start(t, "acme", &a), TE_AGAIN);
    ck_assert_int_eq(start(t, "acme", &b), TE_AGAIN);
    te_tcs_cancel(a.wait);
    ck_assert(run_until(&b.done, 5000));
    ck_assert_int_eq(b.rc, TE_OK);
    te_tcs_context_free(b.ctx);
    run_for(100);
    ck_assert_int_eq(a.done, 0);
    ck_assert_int_eq(start(t, "acme", &a), TE_OK);
    te_tcs_context_free(a.ctx);
    ck_assert_int_eq(command_calls("get"), 2);

    /* destroyed with waits and a fetch in flight: no callback, no leak */
    ck_assert_int_eq(start(t, "later", &a), TE_AGAIN);
    te_tcs_destroy(t);
    ck_assert_int_eq(a.done, 0);
}
END_TEST

/* Waits until a lookup of <site> on <t> sees version <v>; returns the ms
 * it took, or -1 after <ms>. */
static int64_t until_version(te_tcs *t, const char *site, long v, int64_t ms)
{
    int64_t start_at = now_ms();

    /* Bounded by <ms>. */
    while (now_ms() - start_at < ms) {
        if (version_of(t, site) == v)
            return now_ms() - start_at;
        run_for(5);
    }
    return -1;
}

/* A suspension published on the events channel reaches every worker
 * well under a second later, without any TTL passing. */
START_TEST(event_evicts_on_every_worker)
{
    te_tcs *w0, *w1;
    te_tcs_context *ctx;
    int64_t took;

    redis_start();
    provision("acme", "t-0001", RECORD("t-0001", "acme", "active", "1"));
    provision("globex", "t-0002", RECORD("t-0002", "globex", "active", "1"));
    configure(REDIS_TUNING, TCS_BLOCK);
    w0 = service(0);
    w1 = service(1);
    ck_assert_int_eq(version_of(w0, "acme"), 1);
    ck_assert_int_eq(version_of(w1, "acme"), 1);
    ck_assert_int_eq(version_of(w1, "globex"), 1);

    admin("SET tcs:tenant:t-0001 %s",
          RECORD("t-0001", "acme", "suspended", "2"));
    admin("PUBLISH tcs:events %s",
          "{\"event\":\"suspend\",\"tenant\":\"t-0001\",\"site\":\"acme\","
          "\"product\":\"jira\",\"version\":2}");
    took = until_version(w0, "acme", 2, 3000);
    ck_assert_msg(took >= 0 && took < 1000, "worker 0 took %lld ms",
                  (long long)took);
    took = until_version(w1, "acme", 2, 3000);
    ck_assert_msg(took >= 0 && took < 1000, "worker 1 took %lld ms",
                  (long long)took);
    ck_assert_int_eq(lookup(w1, "acme", &ctx), TE_OK);
    ck_assert_int_eq(ctx->status, TE_TCS_SUSPENDED);
    te_tcs_context_free(ctx);

    /* by tenant id alone */
    admin("SET tcs:tenant:t-0002 %s",
          RECORD("t-0002", "globex", "active", "5"));
    admin("PUBLISH tcs:events %s",
          "{\"event\":\"licence\",\"tenant\":\"t-0002\",\"version\":5}");
    took = until_version(w1, "globex", 5, 3000);
    ck_assert_msg(took >= 0 && took < 1000, "by id took %lld ms",
                  (long long)took);

    /* a created site that was unknown (a negative entry) */
    ck_assert_int_eq(lookup(w0, "newco", &ctx), TE_DECLINED);
    provision("newco", "t-0003", RECORD("t-0003", "newco", "active", "1"));
    admin("PUBLISH tcs:events %s",
          "{\"event\":\"create\",\"tenant\":\"t-0003\",\"site\":\"newco\","
          "\"version\":1}");
    took = until_version(w0, "newco", 1, 3000);
    ck_assert_msg(took >= 0 && took < 1000, "create took %lld ms",
                  (long long)took);

    /* session-revoke and garbage evict nothing */
    admin("CONFIG RESETSTAT");
    admin("PUBLISH tcs:events %s",
          "{\"event\":\"session-revoke\",\"tenant\":\"t-0001\","
          "\"site\":\"acme\"}");
    admin("PUBLISH tcs:events %s", "not json");
    run_for(300);
    ck_assert_int_eq(version_of(w0, "acme"), 2);
    ck_assert_int_eq(command_calls("get"), 0);
    ck_assert_int_eq(log_count("tenant event ignored", "worker=0"), 1);

    te_tcs_destroy(w0);
    te_tcs_destroy(w1);
}
END_TEST

/* Redis killed: cached tenants are served until the stale bound, the
 * rest fail at once; one warn line; then Redis back, one notice line,
 * and what changed meanwhile is picked up (the cache went stale on
 * resubscribe). */
START_TEST(outage_and_recovery)
{
    te_tcs_context *ctx;
    struct answer a;
    int64_t t0, took;
    te_tcs *t;

    redis_start();
    provision("acme", "t-0001", RECORD("t-0001", "acme", "active", "1"));
    configure(REDIS_TUNING, "tcs { store redis; cache 100 ttl 1s stale 2s; "
                            "negative_ttl 60s; }\n");
    t = service(0);
    ck_assert_int_eq(version_of(t, "acme"), 1);
    t0 = now_ms();

    redis_stop(SIGKILL);
    ck_assert_int_eq(start(t, "acme", &a), TE_OK); /* fresh */
    te_tcs_context_free(a.ctx);

    /* the loss is noticed within the command timeout at worst */
    for (int i = 0; i < 300 && te_tcs_ready(t); i++)
        run_for(10);
    ck_assert_int_eq(te_tcs_ready(t), 0);

    /* unknown: TE_ERROR at once, not queued */
    took = now_ms();
    ck_assert_int_eq(start(t, "nobody", &a), TE_ERROR);
    ck_assert_int_lt(now_ms() - took, 50);

    /* stale: still served */
    run_for(1300 - (now_ms() - t0));
    ck_assert_int_eq(start(t, "acme", &a), TE_OK);
    ck_assert_uint_eq(a.ctx->version, 1);
    te_tcs_context_free(a.ctx);

    /* past the stale bound: gone, 503 */
    run_for(3300 - (now_ms() - t0));
    ck_assert_int_eq(start(t, "acme", &a), TE_ERROR);
    ck_assert_int_eq(
        log_count("redis unreachable, serving cached tenants", "worker=0"), 1);

    /* back, with changed data; no event for it */
    redis_start();
    provision("acme", "t-0001", RECORD("t-0001", "acme", "active", "4"));
    for (int i = 0; i < 1000 && !te_tcs_ready(t); i++)
        run_for(10);
    ck_assert_msg(te_tcs_ready(t), "not reconnected within 10 s");
    ck_assert_int_eq(lookup(t, "acme", &ctx), TE_OK);
    ck_assert_uint_eq(ctx->version, 4);
    te_tcs_context_free(ctx);
    ck_assert_int_eq(log_count("redis reachable again", "worker=0"), 1);
    ck_assert_int_eq(log_count("redis unreachable", NULL), 1);
    te_tcs_destroy(t);
}
END_TEST

/* A resubscribe (the subscriber was cut) turns cached contexts stale:
 * events sent meanwhile may be lost. */
START_TEST(resubscribe_marks_cache_stale)
{
    struct answer a;
    te_tcs *t;

    redis_start();
    provision("acme", "t-0001", RECORD("t-0001", "acme", "active", "1"));
    configure(REDIS_TUNING, TCS_BLOCK);
    t = service(0);
    ck_assert_int_eq(version_of(t, "acme"), 1);

    admin("SET tcs:tenant:t-0001 %s", RECORD("t-0001", "acme", "active", "2"));
    admin("CLIENT KILL TYPE pubsub");
    for (int i = 0; i < 100 && te_tcs_ready(t); i++)
        run_for(10);
    for (int i = 0; i < 1000 && !te_tcs_ready(t); i++)
        run_for(10);
    ck_assert(te_tcs_ready(t));

    /* stale: the old one is served while the refresh runs */
    ck_assert_int_eq(start(t, "acme", &a), TE_OK);
    te_tcs_context_free(a.ctx);
    ck_assert_int_ge(until_version(t, "acme", 2, 3000), 0);
    te_tcs_destroy(t);
}
END_TEST

/* A subscriber that stays connected but hears no heartbeat (PUBLISH is
 * refused by an ACL, so the heartbeats never go out) is dropped after 3
 * periods and resubscribes, which turns the cache stale. */
START_TEST(silent_subscriber_resubscribes)
{
    int64_t end;
    te_tcs *t;

    redis_start();
    provision("acme", "t-0001", RECORD("t-0001", "acme", "active", "1"));
    configure(REDIS_TUNING, TCS_BLOCK);
    t = service(0);
    ck_assert_int_eq(version_of(t, "acme"), 1);

    admin("SET tcs:tenant:t-0001 %s", RECORD("t-0001", "acme", "active", "2"));
    admin("ACL SETUSER default -publish");
    end = now_ms() + 5000;
    /* Bounded: 5 s. */
    while (log_count("redis subscriber silent", "worker=0") == 0 &&
           now_ms() < end)
        run_for(50);
    ck_assert_int_eq(log_count("redis subscriber silent", "worker=0"), 1);
    admin("ACL SETUSER default +publish");

    /* the command connection never went down meanwhile */
    ck_assert_int_eq(log_count("redis unreachable", NULL), 0);
    ck_assert_int_ge(until_version(t, "acme", 2, 3000), 0);
    te_tcs_destroy(t);
}
END_TEST

/* A Redis that accepts but does not answer (SIGSTOP): lookups end with
 * TE_ERROR after the command timeout, and it recovers on SIGCONT. */
START_TEST(hung_redis_times_out)
{
    struct answer a;
    int64_t took;
    te_tcs *t;

    redis_start();
    provision("acme", "t-0001", RECORD("t-0001", "acme", "active", "1"));
    configure(REDIS_TUNING, TCS_BLOCK);
    t = service(0);

    kill(redis_pid, SIGSTOP);
    took = now_ms();
    ck_assert_int_eq(start(t, "acme", &a), TE_AGAIN);
    ck_assert(run_until(&a.done, 5000));
    took = now_ms() - took;
    ck_assert_int_eq(a.rc, TE_ERROR);
    ck_assert_msg(took >= 250 && took < 2000, "timed out after %lld ms",
                  (long long)took);

    /* while hung, reconnecting does not make it ready (PING) */
    run_for(800);
    ck_assert_int_eq(start(t, "acme", &a), TE_ERROR);

    kill(redis_pid, SIGCONT);
    for (int i = 0; i < 1000 && !te_tcs_ready(t); i++)
        run_for(10);
    ck_assert(te_tcs_ready(t));
    ck_assert_int_eq(version_of(t, "acme"), 1);
    ck_assert_int_eq(log_count("redis unreachable", "no reply within 300ms"),
                     1);
    te_tcs_destroy(t);
}
END_TEST

/* Malformed records: TE_ERROR (503), one error line naming the tenant,
 * however many requests run into it. */
START_TEST(malformed_record_refused_once_logged)
{
    te_tcs_context *ctx;
    char *big;
    te_tcs *t;

    redis_start();
    provision("bad", "t-0666", "{\"id\":\"t-0666\",\"site\":");
    provision("other", "t-0007", RECORD("t-0007", "acme", "active", "1"));
    admin("SET tcs:site:badid %s", "t 1");
    admin("SET tcs:site:orphan %s", "t-0404");
    configure(REDIS_TUNING, TCS_BLOCK);
    t = service(0);

    ck_assert_int_eq(lookup(t, "bad", &ctx), TE_ERROR);
    ck_assert_int_eq(lookup(t, "bad", &ctx), TE_ERROR);
    ck_assert_int_eq(log_count("malformed tenant record", "tenant=t-0666"), 1);
    ck_assert_int_eq(log_count("malformed tenant record", "site=bad"), 1);

    ck_assert_int_eq(lookup(t, "other", &ctx), TE_ERROR);
    ck_assert_int_eq(log_count("another tenant or site", "tenant=t-0007"), 1);
    ck_assert_int_eq(lookup(t, "badid", &ctx), TE_ERROR);
    ck_assert_int_eq(log_count("no valid tenant id", "site=badid"), 1);
    ck_assert_int_eq(lookup(t, "orphan", &ctx), TE_ERROR);
    ck_assert_int_eq(log_count("without a record", "tenant=t-0404"), 1);

    /* over 64 KiB: refused without being parsed */
    big = malloc(70 * 1024 + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, ' ', 70 * 1024);
    big[70 * 1024] = '\0';
    big[0] = '{';
    big[70 * 1024 - 1] = '}';
    provision("huge", "t-0070", big);
    free(big);
    ck_assert_int_eq(lookup(t, "huge", &ctx), TE_ERROR);
    ck_assert_int_eq(log_count("over 64 KiB", "tenant=t-0070"), 1);

    /* the connection survived all of that */
    provision("good", "t-0001", RECORD("t-0001", "good", "active", "1"));
    ck_assert_int_eq(version_of(t, "good"), 1);
    te_tcs_destroy(t);
}
END_TEST

/* AUTH and SELECT: the records live in database 3 of a Redis that
 * wants a password; a wrong password never becomes ready and says why. */
START_TEST(auth_and_select)
{
    te_tcs_context *ctx;
    redisContext *c;
    redisReply *r;
    struct answer a;
    te_tcs *t;

    snprintf(redis_extra, sizeof(redis_extra), "--requirepass s3cret");
    redis_start();
    c = admin_try();
    ck_assert_ptr_nonnull(c);
    r = redisCommand(c, "AUTH s3cret");
    freeReplyObject(r);
    r = redisCommand(c, "SELECT 3");
    freeReplyObject(r);
    r = redisCommand(c, "SET tcs:site:acme t-0001");
    freeReplyObject(r);
    r = redisCommand(c, "SET tcs:tenant:t-0001 %s",
                     RECORD("t-0001", "acme", "active", "3"));
    freeReplyObject(r);
    redisFree(c);

    configure("{ password s3cret; database 3; timeout 300ms; "
              "connect_timeout 500ms; heartbeat 200ms; }",
              TCS_BLOCK);
    t = service(0);
    ck_assert_int_eq(lookup(t, "acme", &ctx), TE_OK);
    ck_assert_uint_eq(ctx->version, 3);
    te_tcs_context_free(ctx);
    te_tcs_destroy(t);
    te_config_unref(cf);

    configure("{ password wrong; timeout 300ms; connect_timeout 500ms; }",
              TCS_BLOCK);
    t = te_tcs_create(base, cf, 0);
    ck_assert_ptr_nonnull(t);
    run_for(1000);
    ck_assert_int_eq(te_tcs_ready(t), 0);
    ck_assert_int_eq(start(t, "acme", &a), TE_ERROR);
    ck_assert_int_eq(log_count("redis unreachable", "AUTH refused"), 1);
    te_tcs_destroy(t);
}
END_TEST

/* Redis down from the start: the service still starts, says so once,
 * answers TE_ERROR, and connects when Redis comes. */
START_TEST(starts_without_redis)
{
    struct answer a;
    te_tcs *t;

    configure(REDIS_TUNING, TCS_BLOCK);
    t = te_tcs_create(base, cf, 0);
    ck_assert_ptr_nonnull(t);
    run_for(500);
    ck_assert_int_eq(te_tcs_ready(t), 0);
    ck_assert_int_eq(start(t, "acme", &a), TE_ERROR);
    ck_assert_int_eq(log_count("redis unreachable", "redis=127.0.0.1:"), 1);

    redis_start();
    provision("acme", "t-0001", RECORD("t-0001", "acme", "active", "1"));
    for (int i = 0; i < 1000 && !te_tcs_ready(t); i++)
        run_for(10);
    ck_assert(te_tcs_ready(t));
    ck_assert_int_eq(version_of(t, "acme"), 1);
    te_tcs_destroy(t);
}
END_TEST

static Suite *redis_suite(void)
{
    Suite *s = suite_create("tcs_redis");
    TCase *tc = tcase_create("redis");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, miss_hit_and_negative);
    tcase_add_test(tc, stale_served_while_refreshing);
    tcase_add_test(tc, single_flight_one_get_per_key);
    tcase_add_test(tc, cancelled_wait_is_never_called);
    tcase_add_test(tc, event_evicts_on_every_worker);
    tcase_add_test(tc, outage_and_recovery);
    tcase_add_test(tc, resubscribe_marks_cache_stale);
    tcase_add_test(tc, silent_subscriber_resubscribes);
    tcase_add_test(tc, hung_redis_times_out);
    tcase_add_test(tc, malformed_record_refused_once_logged);
    tcase_add_test(tc, auth_and_select);
    tcase_add_test(tc, starts_without_redis);
    suite_add_tcase(s, tc);
    return s;
}

/* Fails clearly, before any test, when redis-server is not on PATH. */
static int redis_server_on_path(void)
{
    const char *path = getenv("PATH");
    char *copy, *dir, *save = NULL;
    char full[PATH_MAX];
    int found = 0;

    if (path == NULL)
        return 0;
    copy = strdup(path);
    if (copy == NULL)
        return 0;
    for (dir = strtok_r(copy, ":", &save); dir != NULL && !found;
         dir = strtok_r(NULL, ":", &save)) {
        snprintf(full, sizeof(full), "%s/redis-server", dir);
        found = access(full, X_OK) == 0;
    }
    free(copy);
    return found;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (!redis_server_on_path()) {
        fprintf(stderr, "test_tcs_redis: redis-server is not on PATH "
                        "(apt-get install redis-server)\n");
        printf("0%%: Checks: 1, Failures: 1, Errors: 0\n");
        return EXIT_FAILURE;
    }
    sr = srunner_create(redis_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
