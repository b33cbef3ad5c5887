/*
 * shard-backend.c: the test origin server that stands where a shard backend
 * stands behind tenantedge.
 *
 * Integration tests, the demo and the benchmarks put it behind the proxy.
 * It is a small HTTP/1.1 server of its own on libevent bufferevents, not
 * evhttp (which mis-frames Transfer-Encoding), so that what it records and
 * answers is exactly what the wire carried. One thread, one event_base.
 *
 *   shard-backend --listen ADDR:PORT --shard NAME --zone NAME
 *                 [--region NAME] [--port-file FILE] [--log FILE]
 *                 [--idle-timeout SEC] [--quiet]
 *
 * ADDR is numeric: 127.0.0.1 or [::1]. Port 0 binds an ephemeral port; the
 * bound address is printed as "listening 127.0.0.1:PORT" on stdout and the
 * port (digits and a newline) is written to the port file through a
 * rename, so readers never see a partial file. SIGTERM and SIGINT stop it
 * cleanly with exit status 0, everything freed. --quiet silences the
 * notices on stderr (ready, stopping, refused requests), not stdout.
 *
 * Each request is answered once its whole body was read and streamed
 * through SHA-256 (never held whole), with 200 application/json:
 *   {"shard":..,"zone":..,"region":..,"conn":ID,"seq":N,"method":..,
 *    "path":..,"version":..,"headers":{"lowercased-name":"value",..},
 *    "body_length":N,"body_sha256":"hex"}
 * Repeated header fields are joined with ", " in first-seen order. conn
 * numbers the connections from 1, seq the requests on a connection from 1.
 * GET /health answers the same object with "ok":true first. Strings that
 * are not valid UTF-8 have each stray byte escaped as \u00XX. Every answer
 * carries X-Shard and X-Zone headers. Host is not required; head lines may
 * end in LF alone (RFC 9112 2.2), chunked framing lines need CRLF.
 *
 * Query parameters change the answer and combine:
 *   delay=MS       wait MS milliseconds before sending the response head
 *   size=N         send N bytes of the pattern below instead of the JSON,
 *                  application/octet-stream; N takes k, m, g (1024-based),
 *                  up to 2^50
 *   chunked=1      send the body chunked (HTTP/1.1 requests only)
 *   slow=MS        send the body in 1 KiB pieces, MS milliseconds apart
 *   close_after=N  send the head and the first N body bytes, then close
 *   status=NNN     answer with that status (200..599; 204 and 304 and HEAD
 *                  carry no body)
 *   garbage=1      answer "NOT HTTP\r\n\r\n" and close
 *   hang=1         read the body, then never answer; input is discarded
 *                  and the connection stays until the peer closes it (no
 *                  idle timeout)
 * A bad value of one of these gets 400. Unknown parameters are ignored.
 *
 * The size=N pattern: byte i of the body (i from 0) is
 *     (i * 7 + 13 + (i >> 16)) & 0xff
 * so every 64 KiB block differs from the next and the whole repeats only
 * every 16 MiB. In Python, for the SHA-256 of size=n:
 *     b = bytes((j * 7 + 13) & 0xff for j in range(65536 + 256))
 *     h = hashlib.sha256(); [h.update(b[k * 183 & 255:][:min(65536,
 *         n - (k << 16))]) for k in range((n + 65535) >> 16)]
 * (183 is the inverse of 7 modulo 256, so block k starts k steps on.)
 *
 * --log FILE appends one JSON line per event, each written with one
 * write(2):
 *   {"event":"head","conn":ID,"seq":N,"method":..,"path":..,
 *    "version":..,"headers":{..}}                  request head parsed
 *   {"event":"end","conn":ID,"seq":N,"path":..,"body_len":N,
 *    "body_sha256":"hex"}                          whole body read (also
 *                                                  for an empty body)
 *   {"event":"error","conn":ID,"seq":N,"status":400,"reason":".."}
 *                                                  refused, then closed
 *   {"event":"abort","conn":ID,"seq":N,"reason":"..","body_len":N}
 *                                                  peer gone mid-request
 *
 * Limits: a request head (or chunked trailer section) over 64 KiB or with
 * over 1024 fields gets 431; bad framing gets 400; a transfer coding other
 * than chunked gets 501; an Expect other than 100-continue gets 417. Such
 * refusals carry {"error":"reason","status":N,"shard":..,"zone":..} and
 * Connection: close, and the connection is closed. Idle keep-alive
 * connections and stalled uploads are closed after --idle-timeout seconds
 * (60). Memory per connection stays bounded: reading pauses above 512 KiB
 * of unprocessed input, and responses are produced only while less than
 * 256 KiB wait in the output buffer.
 */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/evp.h>

#include "../include/tenantedge/status.h"

#define SB_HEAD_MAX       (64 * 1024)  /* request head, trailer section */
#define SB_HEADERS_MAX    1024         /* fields in one head */
#define SB_CHUNK_LINE_MAX 4096         /* chunk-size line with extensions */
#define SB_READ_HIGH      (512 * 1024) /* pause reading above this input */
#define SB_IO_MAX         (256 * 1024) /* largest single read or write */
#define SB_OUT_HIGH       (256 * 1024) /* produce only below this output */
#define SB_OUT_LOW        (64 * 1024)  /* write callback at or below this */
#define SB_SLOW_PIECE     1024         /* body piece size with slow=MS */
#define SB_LINGER_MS      2000         /* discard input this long at close */
#define SB_MS_MAX         3600000      /* largest delay= and slow= */
#define SB_SIZE_MAX       (1ULL << 50) /* largest size= and close_after= */
#define SB_BLOCK          65536        /* pattern block */
#define SB_IDLE_DEFAULT   60           /* seconds */

enum sb_state {
    SB_HEAD,    /* waiting for (the rest of) a request head */
    SB_BODY,    /* reading and hashing the request body */
    SB_DELAY,   /* delay=MS timer before the response head */
    SB_STREAM,  /* producing the response body as output drains */
    SB_SLOW,    /* slow=MS timer between two body pieces */
    SB_DRAIN,   /* pipelined answers wait for the output to drain */
    SB_HANG,    /* hang=1: discarding input forever */
    SB_CLOSING, /* last bytes queued; close once they are written */
    SB_LINGER   /* write side shut; discarding input until EOF or timer */
};

enum sb_framing { SB_NO_BODY, SB_LENGTH, SB_CHUNKED };

enum sb_chunk { SB_CH_SIZE, SB_CH_DATA, SB_CH_DATA_END, SB_CH_TRAILER };

struct sb_header {
    const char *name; /* lowercased, NUL-terminated, in the head copy */
    size_t nlen;
    const char *value; /* OWS trimmed, NUL-terminated */
    size_t vlen;
};

/* The query parameters that change the answer; SB_UNSET if absent. */
struct sb_params {
    uint64_t delay_ms;
    uint64_t slow_ms;
    uint64_t size;
    uint64_t close_after;
    uint64_t status;
    uint64_t chunked;
    uint64_t garbage;
    uint64_t hang;
};

#define SB_UNSET UINT64_MAX

enum sb_param_kind { SB_P_MS, SB_P_SIZE, SB_P_STATUS, SB_P_FLAG };

static const struct {
    const char *name;
    enum sb_param_kind kind;
    size_t off;
} sb_param_table[] = {
    {"delay", SB_P_MS, offsetof(struct sb_params, delay_ms)},
    {"slow", SB_P_MS, offsetof(struct sb_params, slow_ms)},
    {"size", SB_P_SIZE, offsetof(struct sb_params, size)},
    {"close_after", SB_P_SIZE, offsetof(struct sb_params, close_after)},
    {"status", SB_P_STATUS, offsetof(struct sb_params, status)},
    {"chunked", SB_P_FLAG, offsetof(struct sb_params, chunked)},
    {"garbage", SB_P_FLAG, offsetof(struct sb_params, garbage)},
    {"hang", SB_P_FLAG, offsetof(struct sb_params, hang)},
};

/* One request and its answer; reset between requests on a connection. */
struct sb_req {
    const char *method;
    const char *target;
    const char *version;
    int minor;
    int keep_alive;
    int expect_continue;
    int is_head;
    int is_health;
    size_t nhdr;

    enum sb_framing framing;
    enum sb_chunk chunk;
    uint64_t remaining; /* of the body or the current chunk */
    size_t trailer_len;
    uint64_t body_len;
    char sha_hex[65];
    struct sb_params q;

    uint64_t resp_total; /* body bytes declared */
    uint64_t resp_limit; /* body bytes to send before closing */
    uint64_t resp_sent;
    int resp_chunked;
    int resp_pattern; /* body from the pattern, not from c->body */
};

struct sb_server;

struct sb_conn {
    struct sb_server *srv;
    struct bufferevent *bev;
    struct event *timer; /* delay, slow and linger; made on first use */
    struct sb_conn *prev, *next;
    uint64_t id;
    uint64_t seq;
    enum sb_state state;
    int peer_eof;
    int read_timeout_on;
    size_t scan_off; /* head bytes known to hold no empty line */

    char *head; /* copy of the current head; owned, reused */
    size_t head_cap;
    struct sb_header *hdr; /* owned, reused */
    size_t hdr_cap;
    EVP_MD_CTX *md;        /* owned; made on the first body */
    struct evbuffer *body; /* JSON answer waiting to be sent; owned */
    struct sb_req req;
};

struct sb_server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct event *sigterm;
    struct event *sigint;
    struct event *accept_pause;
    struct sb_conn *conns; /* every open connection, for shutdown */
    struct evbuffer *scratch;
    EVP_MD *sha256;
    int log_fd;
    int quiet;
    const char *shard;
    const char *zone;
    const char *region;
    struct timeval idle;
    uint64_t next_id;
    char empty_sha[65];
};

/* Pattern block plus one step of slack: block k starts at k * 183 % 256. */
static unsigned char sb_pattern[SB_BLOCK + 256];

static te_status conn_process(struct sb_conn *c);
static te_status resp_send(struct sb_conn *c);
static te_status resp_pump(struct sb_conn *c);
static void conn_free(struct sb_conn *c);

/* warn appends strerror(errno), warnx does not; neither in hot loops. */
__attribute__((format(printf, 2, 3))) static void
sb_warnx(const struct sb_server *srv, const char *fmt, ...)
{
    va_list ap;

    if (srv != NULL && srv->quiet)
        return;
    fputs("shard-backend: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

__attribute__((format(printf, 2, 3))) static void
sb_warn(const struct sb_server *srv, const char *fmt, ...)
{
    va_list ap;
    int saved = errno;

    if (srv != NULL && srv->quiet)
        return;
    fputs("shard-backend: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", strerror(saved));
}

static void pattern_init(void)
{
    size_t i;

    for (i = 0; i < sizeof(sb_pattern); i++)
        sb_pattern[i] = (unsigned char)((i * 7 + 13) & 0xff);
}

/*
 * Queue <n> pattern bytes starting at body offset <off>, by reference to
 * the static block: no copy, whatever the size.
 */
static void pattern_add(struct evbuffer *out, uint64_t off, uint64_t n)
{
    while (n > 0) {
        uint64_t k = off >> 16;
        size_t j = (size_t)(off & (SB_BLOCK - 1));
        size_t take = SB_BLOCK - j;
        size_t start = (size_t)((k * 183) & 0xff);

        if (take > n)
            take = (size_t)n;
        evbuffer_add_reference(out, sb_pattern + start + j, take, NULL, NULL);
        off += take;
        n -= take;
    }
}

/* ---- JSON ------------------------------------------------------------ */

/*
 * Length of the valid UTF-8 sequence at <s> (at most <n> bytes), or 0 if
 * the bytes there are not one (overlong, surrogate, beyond U+10FFFF).
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    uint32_t cp;
    size_t len, i;

    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;

    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }

    if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
        return 0;
    if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
        return 0;
    return len;
}

/* Append <n> bytes of <s> JSON-escaped, without the quotes, in runs. */
static void json_escape(struct evbuffer *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0, k;
    char esc[8];

    while (i < n) {
        unsigned char ch = s[i];

        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
            i++;
            continue;
        }
        if (ch >= 0x80 && (k = utf8_len(s + i, n - i)) > 0) {
            i += k;
            continue;
        }

        evbuffer_add(b, s + run, i - run);
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            evbuffer_add(b, esc, 2);
        } else {
            snprintf(esc, sizeof(esc), "\\u%04x", ch);
            evbuffer_add(b, esc, 6);
        }
        i++;
        run = i;
    }
    evbuffer_add(b, s + run, n - run);
}

static void json_str(struct evbuffer *b, const char *s, size_t n)
{
    evbuffer_add(b, "\"", 1);
    json_escape(b, s, n);
    evbuffer_add(b, "\"", 1);
}

static void json_cstr(struct evbuffer *b, const char *s)
{
    json_str(b, s, strlen(s));
}

/* The request's fields as an object; repeats joined with ", ". */
static void json_headers(struct evbuffer *b, const struct sb_conn *c)
{
    const struct sb_header *h = c->hdr;
    size_t i, j, n = c->req.nhdr;
    int first = 1;

    evbuffer_add(b, "{", 1);
    for (i = 0; i < n; i++) {
        int seen = 0;

        for (j = 0; j < i && !seen; j++)
            seen = h[j].nlen == h[i].nlen &&
                   memcmp(h[j].name, h[i].name, h[i].nlen) == 0;
        if (seen)
            continue;

        if (!first)
            evbuffer_add(b, ",", 1);
        first = 0;
        json_str(b, h[i].name, h[i].nlen);
        evbuffer_add(b, ":\"", 2);
        json_escape(b, h[i].value, h[i].vlen);
        for (j = i + 1; j < n; j++) {
            if (h[j].nlen != h[i].nlen ||
                memcmp(h[j].name, h[i].name, h[i].nlen) != 0)
                continue;
            evbuffer_add(b, ", ", 2);
            json_escape(b, h[j].value, h[j].vlen);
        }
        evbuffer_add(b, "\"", 1);
    }
    evbuffer_add(b, "}", 1);
}

/* ---- the --log file -------------------------------------------------- */

static void log_begin(struct sb_conn *c, const char *event)
{
    evbuffer_add_printf(c->srv->scratch,
                        "{\"event\":\"%s\",\"conn\":%" PRIu64
                        ",\"seq\":%" PRIu64,
                        event, c->id, c->seq);
}

/* Write the scratch line with one write(2) per attempt, then empty it. */
static void log_commit(struct sb_server *srv)
{
    struct evbuffer *b = srv->scratch;

    evbuffer_add(b, "}\n", 2);
    while (evbuffer_get_length(b) > 0) {
        if (evbuffer_write(b, srv->log_fd) <= 0)
            break;
    }
    evbuffer_drain(b, evbuffer_get_length(b));
}

static void log_head(struct sb_conn *c)
{
    struct evbuffer *b = c->srv->scratch;

    if (c->srv->log_fd < 0)
        return;
    log_begin(c, "head");
    evbuffer_add(b, ",\"method\":", 10);
    json_cstr(b, c->req.method);
    evbuffer_add(b, ",\"path\":", 8);
    json_cstr(b, c->req.target);
    evbuffer_add(b, ",\"version\":", 11);
    json_cstr(b, c->req.version);
    evbuffer_add(b, ",\"headers\":", 11);
    json_headers(b, c);
    log_commit(c->srv);
}

static void log_end(struct sb_conn *c)
{
    struct evbuffer *b = c->srv->scratch;

    if (c->srv->log_fd < 0)
        return;
    log_begin(c, "end");
    evbuffer_add(b, ",\"path\":", 8);
    json_cstr(b, c->req.target);
    evbuffer_add_printf(b, ",\"body_len\":%" PRIu64 ",\"body_sha256\":\"%s\"",
                        c->req.body_len, c->req.sha_hex);
    log_commit(c->srv);
}

static void log_error(struct sb_conn *c, int status, const char *reason)
{
    struct evbuffer *b = c->srv->scratch;

    sb_warnx(c->srv,
             "refused request with %d (%s), conn=%" PRIu64 " seq=%" PRIu64,
             status, reason, c->id, c->seq);
    if (c->srv->log_fd < 0)
        return;
    log_begin(c, "error");
    evbuffer_add_printf(b, ",\"status\":%d,\"reason\":", status);
    json_cstr(b, reason);
    log_commit(c->srv);
}

static void log_abort(struct sb_conn *c, const char *reason)
{
    struct evbuffer *b = c->srv->scratch;

    if (c->srv->log_fd < 0)
        return;
    log_begin(c, "abort");
    evbuffer_add(b, ",\"reason\":", 10);
    json_cstr(b, reason);
    evbuffer_add_printf(b, ",\"body_len\":%" PRIu64, c->req.body_len);
    log_commit(c->srv);
}

/* ---- connection plumbing --------------------------------------------- */

static void conn_read_timeout(struct sb_conn *c, int on)
{
    if (c->read_timeout_on == on)
        return;
    c->read_timeout_on = on;
    bufferevent_set_timeouts(c->bev, on ? &c->srv->idle : NULL, &c->srv->idle);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);

static int conn_timer_arm(struct sb_conn *c, uint64_t ms)
{
    struct timeval tv;

    if (c->timer == NULL) {
        c->timer = evtimer_new(c->srv->base, conn_timer_cb, c);
        if (c->timer == NULL)
            return -1;
    }
    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    return evtimer_add(c->timer, &tv);
}

static void conn_discard_input(struct sb_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);

    evbuffer_drain(in, evbuffer_get_length(in));
}

/*
 * Close the write side and read what the peer still sends for a while, so
 * that our last bytes are not destroyed by a reset when unread input sits
 * in the kernel (the lingering close). Frees <c> at once if the peer has
 * already closed; the caller may not touch <c> afterwards.
 */
static void conn_linger(struct sb_conn *c)
{
    if (c->peer_eof) {
        conn_free(c);
        return;
    }

    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    c->state = SB_LINGER;
    conn_read_timeout(c, 0);
    conn_discard_input(c);

    if (conn_timer_arm(c, SB_LINGER_MS) < 0) {
        conn_free(c);
        return;
    }
    bufferevent_enable(c->bev, EV_READ);
}

/* Close once the queued output is written. Returns TE_DONE: hands off. */
static te_status conn_close_when_written(struct sb_conn *c)
{
    c->state = SB_CLOSING;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_linger(c);
    return TE_DONE;
}

static const struct {
    int status;
    const char *reason;
} sb_reasons[] = {
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {408, "Request Timeout"},
    {413, "Content Too Large"},
    {417, "Expectation Failed"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

static const char *status_reason(int status)
{
    size_t i;

    for (i = 0; i < sizeof(sb_reasons) / sizeof(sb_reasons[0]); i++) {
        if (sb_reasons[i].status == status)
            return sb_reasons[i].reason;
    }
    return "Status";
}

/*
 * Refuse the request with <status> and a JSON reason, then close: after a
 * framing error nothing that follows on the connection can be trusted.
 * Returns TE_DONE; the caller may not touch <c> afterwards.
 */
static te_status conn_fail(struct sb_conn *c, int status, const char *reason)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    struct evbuffer *b = c->srv->scratch;

    log_error(c, status, reason);

    evbuffer_add(b, "{\"error\":", 9);
    json_cstr(b, reason);
    evbuffer_add_printf(b, ",\"status\":%d,\"shard\":", status);
    json_cstr(b, c->srv->shard);
    evbuffer_add(b, ",\"zone\":", 8);
    json_cstr(b, c->srv->zone);
    evbuffer_add(b, "}", 1);

    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: %zu\r\n"
                        "Connection: close\r\n\r\n",
                        status, status_reason(status), evbuffer_get_length(b));
    evbuffer_add_buffer(out, b);

    conn_read_timeout(c, 0);
    conn_discard_input(c);
    return conn_close_when_written(c);
}

/* ---- request head ---------------------------------------------------- */

static int is_tchar(unsigned char ch)
{
    /* RFC 9110 5.6.2: token characters */
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
        (ch >= '0' && ch <= '9'))
        return 1;
    return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int is_token(const char *s, size_t n)
{
    size_t i;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        if (!is_tchar((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

/*
 * Next element of a comma-separated list between *<pos> and <end>, OWS
 * trimmed, empty elements skipped (RFC 9110 5.6.1). Returns NULL at the
 * end; advances *<pos>.
 */
static const char *list_next(const char **pos, const char *end, size_t *len)
{
    const char *p = *pos, *s, *e;

    while (p < end) {
        s = p;
        while (p < end && *p != ',')
            p++;
        e = p;
        if (p < end)
            p++;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > s) {
            *pos = p;
            *len = (size_t)(e - s);
            return s;
        }
    }
    *pos = p;
    return NULL;
}

/* Decimal digits, overflow-checked; 0 on success. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (n == 0)
        return -1;
    for (i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';

        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* A query number with an optional k, m or g suffix (1024-based). */
static int parse_size(const char *s, size_t n, uint64_t *out)
{
    static const char units[] = "kmg";
    const char *u = n > 1 ? strchr(units, s[n - 1] | 0x20) : NULL;
    unsigned shift = 0;
    uint64_t v;

    if (u != NULL && *u != '\0') {
        shift = 10 * (unsigned)(u - units + 1);
        n--;
    }
    if (parse_u64(s, n, &v) < 0 || v > (UINT64_MAX >> shift))
        return -1;
    *out = v << shift;
    return 0;
}

/* Whether <v> is in range for a parameter of <kind>. */
static int param_ok(enum sb_param_kind kind, uint64_t v)
{
    switch (kind) {
    case SB_P_MS:
        return v <= SB_MS_MAX;
    case SB_P_SIZE:
        return v <= SB_SIZE_MAX;
    case SB_P_STATUS:
        return v >= 200 && v <= 599;
    default:
        return 1;
    }
}

/*
 * Read the query of the target into r->q, defaults first. Unknown keys
 * are ignored. Returns 0, or -1 for a bad value of a known key.
 */
static int req_parse_query(struct sb_req *r)
{
    const char *p = strchr(r->target, '?');
    size_t i, n = sizeof(sb_param_table) / sizeof(sb_param_table[0]);

    memset(&r->q, 0, sizeof(r->q));
    r->q.size = SB_UNSET;
    r->q.close_after = SB_UNSET;
    if (p == NULL)
        return 0;
    p++;

    while (*p != '\0') {
        const char *key = p, *eq;
        size_t klen, len = strcspn(p, "&");
        uint64_t v;

        p += len;
        if (*p == '&')
            p++;
        eq = memchr(key, '=', len);
        if (eq == NULL)
            continue;
        klen = (size_t)(eq - key);

        for (i = 0; i < n; i++) {
            if (strlen(sb_param_table[i].name) == klen &&
                memcmp(sb_param_table[i].name, key, klen) == 0)
                break;
        }
        if (i == n)
            continue;

        if (parse_size(eq + 1, len - klen - 1, &v) < 0 ||
            !param_ok(sb_param_table[i].kind, v))
            return -1;
        *(uint64_t *)((char *)&r->q + sb_param_table[i].off) = v;
    }
    return 0;
}

static int hdr_is(const struct sb_header *h, const char *name)
{
    return strcmp(h->name, name) == 0;
}

/*
 * Decide the body framing from Content-Length and Transfer-Encoding
 * (RFC 9112 6), and keep-alive and Expect. Returns TE_OK or the status of
 * the refusal (TE_DONE).
 */
static te_status req_semantics(struct sb_conn *c)
{
    struct sb_req *r = &c->req;
    uint64_t cl = 0, v;
    int has_cl = 0, has_te = 0, nchunked = 0, other = 0, last_chunked = 0;
    int conn_close = 0, conn_keep = 0;
    const char *p, *end, *e;
    size_t i, n;

    for (i = 0; i < r->nhdr; i++) {
        const struct sb_header *h = &c->hdr[i];

        p = h->value;
        end = h->value + h->vlen;
        if (hdr_is(h, "content-length")) {
            /* RFC 9112 6.3: differing lengths are unrecoverable */
            e = list_next(&p, end, &n);
            if (e == NULL)
                return conn_fail(c, 400, "empty content-length");
            for (; e != NULL; e = list_next(&p, end, &n)) {
                if (parse_u64(e, n, &v) < 0 || (has_cl && v != cl))
                    return conn_fail(c, 400, "bad content-length");
                cl = v;
                has_cl = 1;
            }
        } else if (hdr_is(h, "transfer-encoding")) {
            has_te = 1;
            while ((e = list_next(&p, end, &n)) != NULL) {
                last_chunked = n == 7 && strncasecmp(e, "chunked", 7) == 0;
                nchunked += last_chunked;
                other += !last_chunked;
            }
        } else if (hdr_is(h, "connection")) {
            while ((e = list_next(&p, end, &n)) != NULL) {
                conn_close |= n == 5 && strncasecmp(e, "close", 5) == 0;
                conn_keep |= n == 10 && strncasecmp(e, "keep-alive", 10) == 0;
            }
        } else if (hdr_is(h, "expect")) {
            /* RFC 9110 10.1.1: 100-continue is the only expectation */
            while ((e = list_next(&p, end, &n)) != NULL) {
                if (n != 12 || strncasecmp(e, "100-continue", 12) != 0)
                    return conn_fail(c, 417, "unsupported expectation");
                r->expect_continue = r->minor >= 1;
            }
        }
    }

    r->keep_alive = r->minor >= 1 ? !conn_close : conn_keep && !conn_close;

    if (has_te) {
        /* RFC 9112 6.1: HTTP/1.0 framing with TE is faulty */
        if (r->minor == 0)
            return conn_fail(c, 400, "transfer-encoding in HTTP/1.0");
        /* RFC 9112 6.3: both present is a smuggling attempt; refuse */
        if (has_cl)
            return conn_fail(c, 400, "content-length with transfer-encoding");
        if (nchunked == 0 && other == 0)
            return conn_fail(c, 400, "empty transfer-encoding");
        /* RFC 9112 6.3: chunked must be the final coding, once */
        if (!last_chunked || nchunked > 1)
            return conn_fail(c, 400, "chunked is not the final coding");
        if (other > 0)
            return conn_fail(c, 501, "unsupported transfer coding");
        r->framing = SB_CHUNKED;
        r->chunk = SB_CH_SIZE;
    } else if (has_cl && cl > 0) {
        r->framing = SB_LENGTH;
        r->remaining = cl;
    } else {
        r->framing = SB_NO_BODY;
        r->expect_continue = 0;
    }
    return TE_OK;
}

/* Split the next line off [*p, end); strips LF and a CR before it. */
static char *head_line(char **p, char *end, size_t *len)
{
    char *s = *p, *lf = memchr(s, '\n', (size_t)(end - s));
    char *e = lf != NULL ? lf : end;

    *p = lf != NULL ? lf + 1 : end;
    if (e > s && e[-1] == '\r')
        e--;
    *e = '\0';
    *len = (size_t)(e - s);
    return s;
}

/* Add one field line to c->hdr; TE_OK, or the status of the refusal. */
static te_status req_add_field(struct sb_conn *c, char *line, size_t len)
{
    char *colon, *v, *e;
    struct sb_header *h;
    size_t i;

    /* RFC 9112 5.2: obsolete line folding is refused */
    if (line[0] == ' ' || line[0] == '\t')
        return conn_fail(c, 400, "obsolete line folding");

    /* RFC 9112 5.1: no whitespace between the name and the colon */
    colon = memchr(line, ':', len);
    if (colon == NULL || !is_token(line, (size_t)(colon - line)))
        return conn_fail(c, 400, "bad header field name");

    v = colon + 1;
    e = line + len;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    for (i = 0; v + i < e; i++) {
        unsigned char ch = (unsigned char)v[i];

        /* RFC 9110 5.5: CTLs other than HTAB are not field content */
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return conn_fail(c, 400, "bad header field value");
    }

    if (c->req.nhdr == c->hdr_cap) {
        size_t cap = c->hdr_cap ? c->hdr_cap * 2 : 32;

        if (c->hdr_cap >= SB_HEADERS_MAX)
            return conn_fail(c, 431, "too many header fields");
        h = reallocarray(c->hdr, cap, sizeof(*h));
        if (h == NULL)
            return conn_fail(c, 500, "out of memory");
        c->hdr = h;
        c->hdr_cap = cap;
    }

    for (i = 0; line + i < colon; i++)
        line[i] =
            (char)(line[i] | ((line[i] >= 'A' && line[i] <= 'Z') ? 0x20 : 0));
    *colon = '\0';
    *e = '\0';
    h = &c->hdr[c->req.nhdr++];
    h->name = line;
    h->nlen = (size_t)(colon - line);
    h->value = v;
    h->vlen = (size_t)(e - v);
    return TE_OK;
}

/* Request line (RFC 9112 3): method SP request-target SP HTTP-version. */
static te_status req_parse_line(struct sb_conn *c, char *line, size_t len)
{
    struct sb_req *r = &c->req;
    char *sp1, *sp2, *ver;
    size_t i, tlen;

    sp1 = memchr(line, ' ', len);
    if (sp1 == NULL || !is_token(line, (size_t)(sp1 - line)))
        return conn_fail(c, 400, "bad request method");
    sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line));
    if (sp2 == NULL || sp2 == sp1 + 1)
        return conn_fail(c, 400, "bad request target");

    tlen = (size_t)(sp2 - sp1 - 1);
    for (i = 0; i < tlen; i++) {
        unsigned char ch = (unsigned char)sp1[1 + i];

        if (ch <= 0x20 || ch >= 0x7f)
            return conn_fail(c, 400, "bad request target");
    }

    ver = sp2 + 1;
    if (strlen(ver) != 8 || memcmp(ver, "HTTP/", 5) != 0 || ver[5] < '0' ||
        ver[5] > '9' || ver[6] != '.' || ver[7] < '0' || ver[7] > '9')
        return conn_fail(c, 400, "bad http version");
    if (ver[5] != '1')
        return conn_fail(c, 505, "unsupported http version");

    *sp1 = '\0';
    *sp2 = '\0';
    r->method = line;
    r->target = sp1 + 1;
    r->version = ver;
    r->minor = ver[7] != '0';
    r->is_head = strcmp(line, "HEAD") == 0;
    r->is_health = strncmp(r->target, "/health", 7) == 0 &&
                   (r->target[7] == '\0' || r->target[7] == '?');
    return TE_OK;
}

/*
 * Parse the head copied into c->head (<len> bytes ending with the empty
 * line) in place, log it, and set up the body. TE_OK or TE_DONE.
 */
static te_status req_parse(struct sb_conn *c, size_t len)
{
    char *p = c->head, *end = c->head + len, *line, *cr;
    size_t n;
    te_status rc;

    if (memchr(p, '\0', len) != NULL)
        return conn_fail(c, 400, "nul in request head");
    /* RFC 9112 2.2: a bare CR is invalid */
    for (cr = memchr(p, '\r', len); cr != NULL;
         cr = memchr(cr + 1, '\r', (size_t)(end - cr - 1))) {
        if (cr + 1 == end || cr[1] != '\n')
            return conn_fail(c, 400, "bare cr in request head");
    }

    line = head_line(&p, end, &n);
    rc = req_parse_line(c, line, n);
    if (rc != TE_OK)
        return rc;

    for (;;) {
        line = head_line(&p, end, &n);
        if (n == 0)
            break;
        rc = req_add_field(c, line, n);
        if (rc != TE_OK)
            return rc;
    }

    log_head(c);

    rc = req_semantics(c);
    if (rc != TE_OK)
        return rc;
    if (req_parse_query(&c->req) < 0)
        return conn_fail(c, 400, "bad query parameter");
    return TE_OK;
}

/*
 * Find the empty line that ends the request head at the front of the
 * input; on TE_OK *<len> is the head length including it. TE_AGAIN until
 * it arrives; past SB_HEAD_MAX the request is refused with 431 (TE_DONE).
 * Lines already scanned are remembered in c->scan_off.
 */
static te_status head_find_end(struct sb_conn *c, size_t *len)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t have = evbuffer_get_length(in), eol;
    struct evbuffer_ptr p, nl;
    char ch;

    if (c->scan_off >= have)
        return TE_AGAIN;
    evbuffer_ptr_set(in, &p, c->scan_off, EVBUFFER_PTR_SET);

    for (;;) {
        nl = evbuffer_search_eol(in, &p, &eol, EVBUFFER_EOL_LF);
        if (nl.pos < 0 && have <= SB_HEAD_MAX)
            return TE_AGAIN;
        if (nl.pos < 0 || (size_t)nl.pos >= SB_HEAD_MAX) {
            c->seq++;
            return conn_fail(c, 431, "request head too large");
        }

        if (nl.pos == p.pos ||
            (nl.pos == p.pos + 1 &&
             evbuffer_copyout_from(in, &p, &ch, 1) == 1 && ch == '\r')) {
            if (p.pos > 0)
                break;
            /* RFC 9112 2.2: ignore empty lines before the request line */
            evbuffer_drain(in, (size_t)nl.pos + 1);
            have = evbuffer_get_length(in);
            evbuffer_ptr_set(in, &p, 0, EVBUFFER_PTR_SET);
            continue;
        }

        c->scan_off = (size_t)nl.pos + 1;
        p = nl;
        evbuffer_ptr_set(in, &p, 1, EVBUFFER_PTR_ADD);
    }

    c->scan_off = 0;
    *len = (size_t)nl.pos + 1;
    return TE_OK;
}

/*
 * Take the next request head out of the input into c->head, parse it and
 * get ready for its body. TE_OK, TE_AGAIN for more input, or TE_DONE.
 */
static te_status conn_read_head(struct sb_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t len = 0;
    te_status rc;

    rc = head_find_end(c, &len);
    if (rc != TE_OK)
        return rc;

    c->seq++;
    if (len + 1 > c->head_cap) {
        char *h = realloc(c->head, len + 1);

        if (h == NULL)
            return conn_fail(c, 500, "out of memory");
        c->head = h;
        c->head_cap = len + 1;
    }
    evbuffer_remove(in, c->head, len);
    c->head[len] = '\0';

    memset(&c->req, 0, sizeof(c->req));
    rc = req_parse(c, len);
    if (rc != TE_OK)
        return rc;

    if (c->req.framing != SB_NO_BODY) {
        if (c->md == NULL && (c->md = EVP_MD_CTX_new()) == NULL)
            return conn_fail(c, 500, "out of memory");
        if (!EVP_DigestInit_ex(c->md, c->srv->sha256, NULL))
            return conn_fail(c, 500, "sha-256 unavailable");
    }

    /* RFC 9110 10.1.1: the interim answer before reading the body */
    if (c->req.expect_continue)
        evbuffer_add(bufferevent_get_output(c->bev),
                     "HTTP/1.1 100 Continue\r\n\r\n", 25);
    c->state = SB_BODY;
    return TE_OK;
}

/* ---- request body ---------------------------------------------------- */

/* Hash and drop <n> bytes from the front of <in> without copying them. */
static void body_consume(struct sb_conn *c, struct evbuffer *in, size_t n)
{
    struct evbuffer_iovec v[16];
    int k, i;

    c->req.body_len += n;
    while (n > 0) {
        size_t done = 0;

        k = evbuffer_peek(in, (ev_ssize_t)n, NULL, v, 16);
        if (k > 16)
            k = 16;
        for (i = 0; i < k && done < n; i++) {
            size_t len = v[i].iov_len;

            if (len > n - done)
                len = n - done;
            EVP_DigestUpdate(c->md, v[i].iov_base, len);
            done += len;
        }
        evbuffer_drain(in, done);
        n -= done;
    }
}

/* Body fully read: finish the hash, log, and start the answer. */
static te_status req_body_done(struct sb_conn *c)
{
    struct sb_req *r = &c->req;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0, i;

    if (r->framing == SB_NO_BODY) {
        memcpy(r->sha_hex, c->srv->empty_sha, sizeof(r->sha_hex));
    } else {
        EVP_DigestFinal_ex(c->md, d, &dlen);
        for (i = 0; i < dlen && i < 32; i++)
            snprintf(r->sha_hex + 2 * i, 3, "%02x", d[i]);
    }
    log_end(c);

    if (r->q.hang) {
        c->state = SB_HANG;
        conn_read_timeout(c, 0);
        conn_discard_input(c);
        return TE_AGAIN;
    }
    if (r->q.delay_ms > 0) {
        c->state = SB_DELAY;
        conn_read_timeout(c, 0);
        if (conn_timer_arm(c, r->q.delay_ms) < 0)
            return conn_fail(c, 500, "cannot arm timer");
        return TE_AGAIN;
    }
    return resp_send(c);
}

/* A chunk-size line (RFC 9112 7.1): hex, then BWS ";" extensions. */
static int chunk_size_parse(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;

    while (i < n && isxdigit((unsigned char)s[i])) {
        unsigned ch = (unsigned char)s[i] | 0x20;
        unsigned d = ch <= '9' ? ch - '0' : ch - 'a' + 10;

        if (v >> 60)
            return -1;
        v = v << 4 | d;
        i++;
    }
    if (i == 0)
        return -1;

    /* BWS is allowed only before an extension */
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i < n ? s[i] != ';' : s[n - 1] == ' ' || s[n - 1] == '\t')
        return -1;
    for (; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];

        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return -1;
    }
    *out = v;
    return 0;
}

/*
 * Take the next CRLF-terminated line of at most <max> bytes out of <in>
 * into <buf>. Returns its length without CRLF, -1 if incomplete, -2 if
 * too long or not ended by CRLF.
 */
static ssize_t chunk_line(struct evbuffer *in, char *buf, size_t max)
{
    struct evbuffer_ptr nl;
    size_t eol, len;

    nl = evbuffer_search_eol(in, NULL, &eol, EVBUFFER_EOL_LF);
    if (nl.pos < 0)
        return evbuffer_get_length(in) > max ? -2 : -1;
    len = (size_t)nl.pos;
    if (len > max)
        return -2;

    evbuffer_remove(in, buf, len + 1);
    if (len == 0 || buf[len - 1] != '\r')
        return -2;
    buf[len - 1] = '\0';
    return (ssize_t)(len - 1);
}

/* Chunked body: sizes, data, CRLFs, then the trailer section. */
static te_status conn_read_chunked(struct sb_conn *c, struct evbuffer *in)
{
    struct sb_req *r = &c->req;
    char line[SB_CHUNK_LINE_MAX + 2];
    ssize_t n;
    size_t have;

    for (;;) {
        have = evbuffer_get_length(in);
        switch (r->chunk) {
        case SB_CH_SIZE:
            n = chunk_line(in, line, SB_CHUNK_LINE_MAX);
            if (n == -1)
                return TE_AGAIN;
            if (n < 0 || chunk_size_parse(line, (size_t)n, &r->remaining) < 0)
                return conn_fail(c, 400, "bad chunk size line");
            r->chunk = r->remaining > 0 ? SB_CH_DATA : SB_CH_TRAILER;
            break;

        case SB_CH_DATA:
            if (have == 0)
                return TE_AGAIN;
            if (have > r->remaining)
                have = (size_t)r->remaining;
            body_consume(c, in, have);
            r->remaining -= have;
            if (r->remaining > 0)
                return TE_AGAIN;
            r->chunk = SB_CH_DATA_END;
            break;

        case SB_CH_DATA_END:
            if (have < 2)
                return TE_AGAIN;
            evbuffer_remove(in, line, 2);
            if (line[0] != '\r' || line[1] != '\n')
                return conn_fail(c, 400, "chunk data not ended by crlf");
            r->chunk = SB_CH_SIZE;
            break;

        case SB_CH_TRAILER:
            n = chunk_line(in, line, SB_CHUNK_LINE_MAX);
            if (n == -1)
                return have > SB_HEAD_MAX - r->trailer_len
                           ? conn_fail(c, 431, "trailer section too large")
                           : TE_AGAIN;
            if (n < 0)
                return conn_fail(c, 400, "bad trailer line");
            r->trailer_len += (size_t)n + 2;
            if (r->trailer_len > SB_HEAD_MAX)
                return conn_fail(c, 431, "trailer section too large");
            if (n == 0)
                return req_body_done(c);
            if (!is_token(line, strcspn(line, ":")) ||
                strchr(line, ':') == NULL)
                return conn_fail(c, 400, "bad trailer field");
            break;
        }
    }
}

static te_status conn_read_body(struct sb_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct sb_req *r = &c->req;
    size_t have;

    if (r->framing == SB_CHUNKED)
        return conn_read_chunked(c, in);

    if (r->framing == SB_LENGTH) {
        have = evbuffer_get_length(in);
        if (have > r->remaining)
            have = (size_t)r->remaining;
        body_consume(c, in, have);
        r->remaining -= have;
        if (r->remaining > 0)
            return TE_AGAIN;
    }
    return req_body_done(c);
}

/* ---- response -------------------------------------------------------- */

/* The answer object for a good request, built into <b>. */
static void resp_json(struct sb_conn *c, struct evbuffer *b)
{
    const struct sb_server *srv = c->srv;
    const struct sb_req *r = &c->req;

    evbuffer_add(b, "{", 1);
    if (r->is_health)
        evbuffer_add(b, "\"ok\":true,", 10);
    evbuffer_add(b, "\"shard\":", 8);
    json_cstr(b, srv->shard);
    evbuffer_add(b, ",\"zone\":", 8);
    json_cstr(b, srv->zone);
    evbuffer_add(b, ",\"region\":", 10);
    json_cstr(b, srv->region);
    evbuffer_add_printf(b, ",\"conn\":%" PRIu64 ",\"seq\":%" PRIu64, c->id,
                        c->seq);
    evbuffer_add(b, ",\"method\":", 10);
    json_cstr(b, r->method);
    evbuffer_add(b, ",\"path\":", 8);
    json_cstr(b, r->target);
    evbuffer_add(b, ",\"version\":", 11);
    json_cstr(b, r->version);
    evbuffer_add(b, ",\"headers\":", 11);
    json_headers(b, c);
    evbuffer_add_printf(b,
                        ",\"body_length\":%" PRIu64 ",\"body_sha256\":\"%s\"}",
                        r->body_len, r->sha_hex);
}

/*
 * The answer is queued: go on with the next request, or close. Returns
 * TE_OK to parse pipelined input now, TE_AGAIN to wait for the output to
 * drain, TE_DONE when closing.
 */
static te_status resp_complete(struct sb_conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);

    if (!c->req.keep_alive)
        return conn_close_when_written(c);

    c->state = SB_HEAD;
    conn_read_timeout(c, 1);
    if (evbuffer_get_length(out) > SB_OUT_HIGH) {
        c->state = SB_DRAIN;
        return TE_AGAIN;
    }
    return TE_OK;
}

/* Queue the response head and start the body. TE_OK, TE_AGAIN, TE_DONE. */
static te_status resp_send(struct sb_conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    struct sb_req *r = &c->req;
    int status = r->q.status ? (int)r->q.status : 200;
    int bodyless = r->is_head || status == 204 || status == 304;

    if (r->q.garbage) {
        evbuffer_add(out, "NOT HTTP\r\n\r\n", 12);
        return conn_close_when_written(c);
    }

    if (c->body == NULL && (c->body = evbuffer_new()) == NULL)
        return conn_fail(c, 500, "out of memory");
    evbuffer_drain(c->body, evbuffer_get_length(c->body));

    r->resp_pattern = r->q.size != SB_UNSET;
    if (r->resp_pattern) {
        r->resp_total = r->q.size;
    } else {
        resp_json(c, c->body);
        r->resp_total = evbuffer_get_length(c->body);
    }
    /* RFC 9112 6.1: no chunked answer to an HTTP/1.0 request */
    r->resp_chunked = r->q.chunked && r->minor >= 1;
    r->resp_limit = r->resp_total;
    if (r->q.close_after < r->resp_total)
        r->resp_limit = r->q.close_after;

    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n", status,
                        status_reason(status),
                        r->resp_pattern ? "application/octet-stream"
                                        : "application/json");
    /* RFC 9110 8.6: no Content-Length in a 204 */
    if (r->resp_chunked && status != 204 && status != 304)
        evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
    else if (status != 204 && status != 304)
        evbuffer_add_printf(out, "Content-Length: %" PRIu64 "\r\n",
                            r->resp_total);
    evbuffer_add(out, "X-Shard: ", 9);
    evbuffer_add(out, c->srv->shard, strlen(c->srv->shard));
    evbuffer_add(out, "\r\nX-Zone: ", 10);
    evbuffer_add(out, c->srv->zone, strlen(c->srv->zone));
    if (!r->keep_alive)
        evbuffer_add(out, "\r\nConnection: close", 19);
    else if (r->minor == 0)
        evbuffer_add(out, "\r\nConnection: keep-alive", 24);
    evbuffer_add(out, "\r\n\r\n", 4);

    if (bodyless)
        return resp_complete(c);
    if (!r->resp_pattern && !r->resp_chunked && r->q.slow_ms == 0 &&
        r->resp_limit == r->resp_total) {
        evbuffer_add_buffer(out, c->body);
        return resp_complete(c);
    }

    c->state = SB_STREAM;
    conn_read_timeout(c, 0);
    return resp_pump(c);
}

/*
 * Produce body pieces while the output holds less than SB_OUT_HIGH; the
 * write callback comes back when it drains. TE_OK, TE_AGAIN or TE_DONE.
 */
static te_status resp_pump(struct sb_conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    struct sb_req *r = &c->req;
    uint64_t n;

    while (r->resp_sent < r->resp_limit) {
        if (evbuffer_get_length(out) >= SB_OUT_HIGH)
            return TE_AGAIN;

        n = r->resp_limit - r->resp_sent;
        if (r->q.slow_ms > 0 && n > SB_SLOW_PIECE)
            n = SB_SLOW_PIECE;
        else if (r->resp_pattern && n > SB_BLOCK)
            n = SB_BLOCK - (r->resp_sent & (SB_BLOCK - 1));

        if (r->resp_chunked)
            evbuffer_add_printf(out, "%" PRIx64 "\r\n", n);
        if (r->resp_pattern)
            pattern_add(out, r->resp_sent, n);
        else
            evbuffer_remove_buffer(c->body, out, (size_t)n);
        if (r->resp_chunked)
            evbuffer_add(out, "\r\n", 2);
        r->resp_sent += n;

        if (r->q.slow_ms > 0 && r->resp_sent < r->resp_limit) {
            c->state = SB_SLOW;
            if (conn_timer_arm(c, r->q.slow_ms) < 0)
                return conn_close_when_written(c);
            return TE_AGAIN;
        }
    }

    /* close_after=N: the declared body is cut short on purpose */
    if (r->resp_sent < r->resp_total)
        return conn_close_when_written(c);
    if (r->resp_chunked)
        evbuffer_add(out, "0\r\n\r\n", 5);
    return resp_complete(c);
}

/* ---- callbacks ------------------------------------------------------- */

/*
 * Run the request state machine over the buffered input until it needs
 * more input or time. Each round consumes input or changes state, so it
 * ends. Returns TE_DONE if <c> may be gone.
 */
static te_status conn_process(struct sb_conn *c)
{
    te_status rc = TE_OK;

    while (rc == TE_OK) {
        if (c->state == SB_HEAD)
            rc = conn_read_head(c);
        else if (c->state == SB_BODY)
            rc = conn_read_body(c);
        else
            rc = TE_AGAIN;
    }
    if (rc == TE_DONE)
        return rc;

    /* the peer has half-closed: nothing more will come */
    if (c->peer_eof && c->state == SB_HEAD)
        return conn_close_when_written(c);
    return rc;
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    struct sb_conn *c = arg;

    (void)bev;

    switch (c->state) {
    case SB_HEAD:
    case SB_BODY:
        conn_process(c);
        break;
    case SB_HANG:
    case SB_CLOSING:
    case SB_LINGER:
        conn_discard_input(c);
        break;
    default:
        /* pipelined input waits; SB_READ_HIGH pauses reading */
        break;
    }
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    struct sb_conn *c = arg;
    size_t pending = evbuffer_get_length(bufferevent_get_output(bev));

    switch (c->state) {
    case SB_STREAM:
        if (resp_pump(c) == TE_OK)
            conn_process(c);
        break;
    case SB_DRAIN:
        c->state = SB_HEAD;
        conn_process(c);
        break;
    case SB_CLOSING:
        if (pending == 0)
            conn_linger(c);
        break;
    default:
        break;
    }
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct sb_conn *c = arg;

    (void)bev;

    if ((what & BEV_EVENT_EOF) == 0 || (what & BEV_EVENT_ERROR) != 0) {
        if (c->state == SB_BODY)
            log_abort(c, (what & BEV_EVENT_TIMEOUT) ? "timed out in body"
                                                    : "error in body");
        conn_free(c);
        return;
    }

    c->peer_eof = 1;
    switch (c->state) {
    case SB_HEAD:
        conn_close_when_written(c);
        break;
    case SB_BODY:
        log_abort(c, "peer closed in body");
        conn_free(c);
        break;
    case SB_HANG:
    case SB_LINGER:
        conn_free(c);
        break;
    default:
        /* finish the answer in progress, then close */
        break;
    }
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sb_conn *c = arg;

    (void)fd;
    (void)what;

    switch (c->state) {
    case SB_DELAY:
        if (resp_send(c) == TE_OK)
            conn_process(c);
        break;
    case SB_SLOW:
        c->state = SB_STREAM;
        if (resp_pump(c) == TE_OK)
            conn_process(c);
        break;
    case SB_LINGER:
        conn_free(c);
        break;
    default:
        break;
    }
}

static void conn_free(struct sb_conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        c->srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;

    if (c->timer != NULL)
        event_free(c->timer);
    bufferevent_free(c->bev);
    EVP_MD_CTX_free(c->md);
    if (c->body != NULL)
        evbuffer_free(c->body);
    free(c->head);
    free(c->hdr);
    free(c);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *sa, int salen, void *arg)
{
    struct sb_server *srv = arg;
    struct sb_conn *c;
    int one = 1;

    (void)l;
    (void)sa;
    (void)salen;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        evutil_closesocket(fd);
        return;
    }
    c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        evutil_closesocket(fd);
        free(c);
        return;
    }

    c->srv = srv;
    c->id = ++srv->next_id;
    c->state = SB_HEAD;
    c->read_timeout_on = 1;
    c->next = srv->conns;
    if (c->next != NULL)
        c->next->prev = c;
    srv->conns = c;

    bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    bufferevent_setwatermark(c->bev, EV_READ, 0, SB_READ_HIGH);
    bufferevent_setwatermark(c->bev, EV_WRITE, SB_OUT_LOW, 0);
    bufferevent_set_max_single_read(c->bev, SB_IO_MAX);
    bufferevent_set_max_single_write(c->bev, SB_IO_MAX);
    bufferevent_set_timeouts(c->bev, &srv->idle, &srv->idle);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sb_server *srv = arg;

    (void)fd;
    (void)what;
    evconnlistener_enable(srv->listener);
}

/* Out of descriptors or similar: pause accepting for a second. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    struct sb_server *srv = arg;
    struct timeval tv = {1, 0};

    sb_warn(srv, "accept failed, pausing for 1s");
    evconnlistener_disable(l);
    evtimer_add(srv->accept_pause, &tv);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct sb_server *srv = arg;

    (void)sig;
    (void)what;
    event_base_loopbreak(srv->base);
}

/* ---- startup and shutdown -------------------------------------------- */

static void usage(void)
{
    fputs("usage: shard-backend --listen ADDR:PORT --shard NAME"
          " --zone NAME\n"
          "                     [--region NAME] [--port-file FILE]"
          " [--log FILE]\n"
          "                     [--idle-timeout SEC] [--quiet]\n",
          stderr);
    exit(2);
}

/* Names go into response headers: printable ASCII only. */
static int name_ok(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s < 0x21 || *s > 0x7e)
            return 0;
    }
    return 1;
}

/* Print the bound address and publish the port; -1 on failure. */
static int announce(struct sb_server *srv, const char *port_file)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN], tmp[4096];
    unsigned port;
    FILE *f;

    if (getsockname(evconnlistener_get_fd(srv->listener),
                    (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        port = ntohs(s6->sin6_port);
        printf("listening [%s]:%u\n", host, port);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        port = ntohs(s4->sin_port);
        printf("listening %s:%u\n", host, port);
    }
    fflush(stdout);

    if (port_file == NULL)
        return 0;
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", port_file,
                         (long)getpid()) >= sizeof(tmp))
        return -1;
    f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0 || rename(tmp, port_file) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void server_free(struct sb_server *srv)
{
    while (srv->conns != NULL)
        conn_free(srv->conns);
    if (srv->listener != NULL)
        evconnlistener_free(srv->listener);
    if (srv->sigterm != NULL)
        event_free(srv->sigterm);
    if (srv->sigint != NULL)
        event_free(srv->sigint);
    if (srv->accept_pause != NULL)
        event_free(srv->accept_pause);
    if (srv->scratch != NULL)
        evbuffer_free(srv->scratch);
    if (srv->base != NULL)
        event_base_free(srv->base);
    EVP_MD_free(srv->sha256);
    if (srv->log_fd >= 0)
        close(srv->log_fd);
}

/* SHA-256 of the empty body, the answer for requests without one. */
static int empty_sha_init(struct sb_server *srv)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0, i;

    if (!EVP_Digest("", 0, d, &dlen, srv->sha256, NULL) || dlen != 32)
        return -1;
    for (i = 0; i < dlen; i++)
        snprintf(srv->empty_sha + 2 * i, 3, "%02x", d[i]);
    return 0;
}

/*
 * Parse "a.b.c.d:PORT" or "[v6]:PORT" into <ss>; port 0 is allowed
 * (libevent's own parser refuses it). Returns the address length or -1.
 */
static int parse_listen(const char *s, struct sockaddr_storage *ss)
{
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    const char *colon = strrchr(s, ':');
    char host[INET6_ADDRSTRLEN];
    size_t hlen;
    uint64_t port;

    memset(ss, 0, sizeof(*ss));
    if (colon == NULL || parse_u64(colon + 1, strlen(colon + 1), &port) < 0 ||
        port > 65535)
        return -1;
    hlen = (size_t)(colon - s);
    if (hlen >= sizeof(host))
        return -1;

    if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
        memcpy(host, s + 1, hlen - 2);
        host[hlen - 2] = '\0';
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
            return -1;
        return (int)sizeof(*s6);
    }

    memcpy(host, s, hlen);
    host[hlen] = '\0';
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
        return -1;
    return (int)sizeof(*s4);
}

static int server_init(struct sb_server *srv, const char *listen_addr,
                       const char *log_file)
{
    struct sockaddr_storage ss;
    int sslen = parse_listen(listen_addr, &ss);

    if (sslen < 0) {
        sb_warnx(NULL, "bad --listen address %s", listen_addr);
        return -1;
    }

    srv->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    srv->base = event_base_new();
    srv->scratch = evbuffer_new();
    if (srv->sha256 == NULL || srv->base == NULL || srv->scratch == NULL ||
        empty_sha_init(srv) < 0) {
        sb_warnx(NULL, "cannot set up sha-256 or the event loop");
        return -1;
    }

    if (log_file != NULL) {
        srv->log_fd =
            open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (srv->log_fd < 0) {
            sb_warn(NULL, "cannot open log %s", log_file);
            return -1;
        }
    }

    srv->listener = evconnlistener_new_bind(
        srv->base, accept_cb, srv,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 1024,
        (struct sockaddr *)&ss, sslen);
    if (srv->listener == NULL) {
        sb_warn(NULL, "cannot listen on %s", listen_addr);
        return -1;
    }
    evconnlistener_set_error_cb(srv->listener, accept_error_cb);

    srv->accept_pause = evtimer_new(srv->base, accept_resume_cb, srv);
    srv->sigterm = evsignal_new(srv->base, SIGTERM, signal_cb, srv);
    srv->sigint = evsignal_new(srv->base, SIGINT, signal_cb, srv);
    if (srv->accept_pause == NULL || srv->sigterm == NULL ||
        srv->sigint == NULL || evsignal_add(srv->sigterm, NULL) < 0 ||
        evsignal_add(srv->sigint, NULL) < 0) {
        sb_warnx(NULL, "cannot set up signal handling");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"shard", required_argument, NULL, 's'},
        {"zone", required_argument, NULL, 'z'},
        {"region", required_argument, NULL, 'r'},
        {"port-file", required_argument, NULL, 'p'},
        {"log", required_argument, NULL, 'L'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct sb_server srv;
    const char *listen_addr = NULL, *port_file = NULL, *log_file = NULL;
    uint64_t idle = SB_IDLE_DEFAULT;
    int opt, rc = 1;

    memset(&srv, 0, sizeof(srv));
    srv.log_fd = -1;
    srv.region = "";

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'l':
            listen_addr = optarg;
            break;
        case 's':
            srv.shard = optarg;
            break;
        case 'z':
            srv.zone = optarg;
            break;
        case 'r':
            srv.region = optarg;
            break;
        case 'p':
            port_file = optarg;
            break;
        case 'L':
            log_file = optarg;
            break;
        case 'q':
            srv.quiet = 1;
            break;
        case 'i':
            if (parse_u64(optarg, strlen(optarg), &idle) < 0 || idle == 0 ||
                idle > 86400)
                usage();
            break;
        default:
            usage();
        }
    }
    if (optind != argc || listen_addr == NULL || srv.shard == NULL ||
        srv.zone == NULL)
        usage();
    if (!name_ok(srv.shard) || !name_ok(srv.zone) || !name_ok(srv.region))
        usage();
    srv.idle.tv_sec = (time_t)idle;

    signal(SIGPIPE, SIG_IGN);
    pattern_init();

    if (server_init(&srv, listen_addr, log_file) < 0)
        goto out;
    if (announce(&srv, port_file) < 0) {
        sb_warn(NULL, "cannot publish the port to %s", port_file);
        goto out;
    }
    sb_warnx(&srv, "ready, shard=%s zone=%s region=%s", srv.shard, srv.zone,
             srv.region);

    if (event_base_dispatch(srv.base) < 0) {
        sb_warnx(NULL, "event loop failed");
        goto out;
    }
    sb_warnx(&srv, "stopping, shard=%s", srv.shard);
    rc = 0;

out:
    server_free(&srv);
    libevent_global_shutdown();
    return rc;
}
