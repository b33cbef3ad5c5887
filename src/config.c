/*
 * config.c: reads the nginx-style configuration into an immutable snapshot.
 *
 * Text is cut into tokens (words, ";", "{", "}"), each statement is looked
 * up in one directive table, and the directive's setter checks and stores
 * its value. References between directives (site -> shard) and rules over
 * the whole file are checked after the last byte is read, so the order of
 * directives does not matter. Every error names the file, line and column
 * of the token at fault and stops the load: nothing is skipped or guessed.
 */
#include "config.h"
#include "log.h"
#include "module.h"
#include "tcs_store.h"
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

#define MAX_FILE_BYTES  (1024 * 1024)      /* one file */
#define MAX_TOTAL_BYTES (16 * 1024 * 1024) /* all files of one load */
#define MAX_FILES       1024               /* files read by one load */
#define MAX_DEPTH       16                 /* include nesting */
#define MAX_ARGS        16                 /* words after a directive */
#define MAX_LISTENS     256
#define MAX_BACKENDS    1024 /* per shard */
#define MAX_WORKERS     256
#define MAX_NAME        64 /* zone, region, shard, tenant id */
#define TCS_MAX_CACHE   10000000 /* cached tenants per worker */

/* The name shown for te_config_parse(NULL, ...): such text has no
 * directory, so it may not include files (the fuzzer relies on this). */
#define NO_FILE "<memory>"

enum { CTX_MAIN = 1, CTX_REGION = 2, CTX_SHARD = 4 };
/* The tenant context service's blocks: `redis ADDR { }`, `tcs { }`. */
enum { CTX_REDIS = 0x100, CTX_TCS = 0x200 };
#define CTX_ANY (CTX_MAIN | CTX_REGION | CTX_SHARD)

enum { D_ONCE = 1, D_BLOCK = 2 };
/* A block may follow, or not (`redis ADDR;`, `redis ADDR { }`). */
enum { D_OPT_BLOCK = 0x100 };

struct pos {
    const char *file; /* owned by parser.names */
    unsigned line, col;
};

enum tok_type { T_EOF, T_WORD, T_SEMI, T_LBRACE, T_RBRACE };

struct tok {
    enum tok_type type;
    struct pos at;
    char *s; /* T_WORD: NUL-terminated copy, owned by the holder */
    size_t len;
};

/* One file being read; includes chain to their parent for cycle checks. */
struct src {
    const char *name;
    const char *text;
    size_t len, off;
    unsigned line, col;
    bool has_id;
    dev_t dev;
    ino_t ino;
    const struct src *parent;
    unsigned depth;
};

struct slot {
    const char *key;
    void *val;
};

/* Names seen so far (regions, shards, sites): open addressing, so that
 * duplicates are found in the order of the file without quadratic cost. */
struct nameset {
    struct slot *slots;
    size_t cap, n;
};

/* Where a site was declared, kept until its shard is resolved. */
struct site_ref {
    char *shard;
    struct pos at, shard_at;
};

struct parser;
struct directive;
typedef int setter(struct parser *p, const struct directive *d, struct tok *a,
                   unsigned n);

struct directive {
    const char *name;
    unsigned ctx;   /* CTX_* where it is allowed */
    unsigned flags; /* D_* */
    unsigned minargs;
    unsigned maxargs;
    setter *set;
    size_t off;   /* into te_config, for the value setters */
    uint64_t min; /* range for sizes, counts and durations */
    uint64_t max;
};

#define NDIRECTIVES_MAX 64

struct parser {
    te_config *cf;
    char *err;
    size_t errlen;
    bool failed;
    bool no_include;
    struct src *src;
    unsigned ctx;
    te_region *region; /* the block being read, if any */
    te_shard *shard;
    char **names; /* file names that positions point into */
    unsigned nnames;
    size_t total;
    unsigned nfiles;
    struct nameset regions, shards, sites;
    struct site_ref *refs; /* parallel to cf->sites until sorted */
    bool seen[NDIRECTIVES_MAX];
    struct pos seen_at[NDIRECTIVES_MAX];
    struct pos eof; /* end of the top file */
    bool has_block; /* the directive being set opened a block */
};

static setter set_flag;
static setter set_redis, set_password, set_tcs, set_tcs_store, set_tcs_file,
    set_tcs_cache, set_tcs_prefix;
static int parse_top_module(struct parser *p, struct tok *name);
static setter set_include, set_workers, set_listen, set_log_level, set_name,
    set_domain, set_region, set_shard, set_backend, set_site, set_size,
    set_size64, set_count, set_duration;

/* Shorthands so that each table entry below stays one line. */
/* clang-format off */
#define CFG(f) offsetof(te_config, f)
#define SIZE(n, f, lo, hi) {n, CTX_MAIN, D_ONCE, 1, 1, set_size, CFG(f), lo, hi}
#define DUR(n, f) {n, CTX_MAIN, D_ONCE, 1, 1, set_duration, CFG(f), 1, UINT_MAX}
#define COUNT(n, f, lo, hi) \
    {n, CTX_MAIN, D_ONCE, 1, 1, set_count, CFG(f), lo, hi}
#define SIZE64(n, f) \
    {n, CTX_MAIN, D_ONCE, 1, 1, set_size64, CFG(f), 0, UINT64_MAX}
/* clang-format on */

/* Every directive there is; one line each. */
static const struct directive directives[] = {
    {"include", CTX_ANY, 0, 1, 1, set_include, 0, 0, 0},
    {"workers", CTX_MAIN, D_ONCE, 1, 1, set_workers, 0, 1, MAX_WORKERS},
    {"listen", CTX_MAIN, 0, 1, MAX_ARGS, set_listen, 0, 0, 0},
    {"log_level", CTX_MAIN, D_ONCE, 1, 1, set_log_level, 0, 0, 0},
    {"zone", CTX_MAIN, D_ONCE, 1, 1, set_name, CFG(zone), 0, 0},
    {"domain", CTX_MAIN, D_ONCE, 1, 1, set_domain, CFG(domain), 0, 0},
    {"region", CTX_MAIN, D_BLOCK, 1, 1, set_region, 0, 0, 0},
    {"shard", CTX_REGION, D_BLOCK, 1, 1, set_shard, 0, 0, 0},
    {"backend", CTX_SHARD, 0, 1, MAX_ARGS, set_backend, 0, 0, 0},
    {"site", CTX_MAIN, 0, 1, MAX_ARGS, set_site, 0, 0, 0},
    SIZE("client_max_request_line", max_request_line, 256, MIB),
    SIZE("client_max_header_size", max_header_size, KIB, MIB),
    COUNT("client_max_headers", max_headers, 1, 10000),
    SIZE64("client_max_body_size", max_body_size),
    DUR("client_header_timeout", header_timeout),
    DUR("client_body_timeout", body_timeout),
    DUR("keepalive_timeout", keepalive_timeout),
    DUR("send_timeout", send_timeout),
    DUR("upstream_connect_timeout", upstream_connect_timeout),
    DUR("upstream_send_timeout", upstream_send_timeout),
    DUR("upstream_read_timeout", upstream_read_timeout),
    COUNT("upstream_keepalive", upstream_keepalive, 0, 10000),
    DUR("upstream_keepalive_timeout", upstream_keepalive_timeout),
    COUNT("upstream_max_fails", upstream_max_fails, 1, 1000),
    DUR("upstream_fail_timeout", upstream_fail_timeout),
    SIZE("buffer_size", buffer_size, 4 * KIB, 16 * MIB),
    DUR("drain_timeout", drain_timeout),
    /* HTTP/2 */
    {"http2", CTX_MAIN, D_ONCE, 1, 1, set_flag, CFG(http2), 0, 0},
    {"h2c", CTX_MAIN, D_ONCE, 1, 1, set_flag, CFG(h2c), 0, 0},
    COUNT("http2_max_concurrent_streams", h2_max_streams, 1, 10000),
    SIZE("http2_max_header_list_size", h2_max_header_list, KIB, MIB),
    SIZE("http2_max_frame_size", h2_max_frame_size, 16 * KIB, 16 * MIB - 1),
    SIZE("http2_stream_window", h2_stream_window, 16 * KIB, 16 * MIB),
    DUR("http2_idle_timeout", h2_idle_timeout),
    COUNT("http2_max_resets", h2_max_resets, 1, 1000000),
    COUNT("http2_max_control_frames", h2_max_control, 1, 1000000),
    COUNT("http2_max_glitches", h2_max_glitches, 1, 1000000),
    /* tenant context service */
    {"redis", CTX_MAIN, D_ONCE | D_OPT_BLOCK, 1, 1, set_redis, 0, 0, 0},
    {"password", CTX_REDIS, D_ONCE, 1, 1, set_password, 0, 0, 0},
    {"database", CTX_REDIS, D_ONCE, 1, 1, set_count, CFG(redis_database), 0,
     INT_MAX},
    {"timeout", CTX_REDIS, D_ONCE, 1, 1, set_duration, CFG(redis_timeout), 1,
     UINT_MAX},
    {"connect_timeout", CTX_REDIS, D_ONCE, 1, 1, set_duration,
     CFG(redis_connect_timeout), 1, UINT_MAX},
    {"heartbeat", CTX_REDIS, D_ONCE, 1, 1, set_duration, CFG(redis_heartbeat),
     1, UINT_MAX},
    {"tcs", CTX_MAIN, D_ONCE | D_BLOCK, 0, 0, set_tcs, 0, 0, 0},
    {"store", CTX_TCS, D_ONCE, 1, 1, set_tcs_store, 0, 0, 0},
    {"file", CTX_TCS, D_ONCE, 1, 1, set_tcs_file, 0, 0, 0},
    {"cache", CTX_TCS, D_ONCE, 1, 5, set_tcs_cache, 0, 1, TCS_MAX_CACHE},
    {"negative_ttl", CTX_TCS, D_ONCE, 1, 1, set_duration, CFG(tcs_negative_ttl),
     0, UINT_MAX},
    {"prefix", CTX_TCS, D_ONCE, 1, 1, set_tcs_prefix, 0, 0, 0},
};

#define NDIRECTIVES (sizeof(directives) / sizeof(directives[0]))
_Static_assert(NDIRECTIVES <= NDIRECTIVES_MAX, "raise NDIRECTIVES_MAX");

/* Records the first error as "file:line:col: message"; later ones are
 * consequences and dropped. Always returns -1 so callers can return it. */
static int fail(struct parser *p, const struct pos *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, const struct pos *at, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (p->failed)
        return -1;
    p->failed = true;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    if (p->err != NULL && p->errlen > 0)
        snprintf(p->err, p->errlen, "%s:%u:%u: %s", at->file, at->line, at->col,
                 msg);
    return -1;
}

static int oom(struct parser *p, const struct pos *at)
{
    return fail(p, at, "out of memory");
}

/* Room for one more element in arr, which holds n of them. The capacity is
 * implied (the next power of two at or above n), so no field is needed.
 * Returns the array, maybe moved, or NULL with arr untouched. */
static void *grow(void *arr, unsigned n, size_t size)
{
    size_t cap, bytes;

    if (n != 0 && (n & (n - 1)) != 0)
        return arr;
    cap = n == 0 ? 1 : (size_t)n * 2;
    if (n > UINT_MAX / 2 || __builtin_mul_overflow(cap, size, &bytes))
        return NULL;
    return realloc(arr, bytes);
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ---- name sets ---- */

static size_t hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

static struct slot *ns_find(const struct nameset *ns, const char *key)
{
    size_t i, k;

    if (ns->cap == 0)
        return NULL;
    i = hash(key) & (ns->cap - 1);
    for (k = 0; k < ns->cap; k++) {
        struct slot *sl = &ns->slots[(i + k) & (ns->cap - 1)];
        if (sl->key == NULL || strcmp(sl->key, key) == 0)
            return sl;
    }
    return NULL;
}

static void *ns_get(const struct nameset *ns, const char *key)
{
    struct slot *sl = ns_find(ns, key);

    return sl != NULL && sl->key != NULL ? sl->val : NULL;
}

/* Adds key (borrowed: it must outlive the set), which must be absent. */
static int ns_put(struct nameset *ns, const char *key, void *val)
{
    struct slot *sl;

    if ((ns->n + 1) * 2 > ns->cap) {
        struct nameset bigger = {NULL, ns->cap ? ns->cap * 2 : 16, 0};
        size_t i;

        if (bigger.cap > SIZE_MAX / 2 / sizeof(struct slot))
            return -1;
        bigger.slots = calloc(bigger.cap, sizeof(struct slot));
        if (bigger.slots == NULL)
            return -1;
        for (i = 0; i < ns->cap; i++) {
            if (ns->slots[i].key != NULL)
                *ns_find(&bigger, ns->slots[i].key) = ns->slots[i];
        }
        bigger.n = ns->n;
        free(ns->slots);
        *ns = bigger;
    }

    sl = ns_find(ns, key);
    sl->key = key;
    sl->val = val;
    ns->n++;
    return 0;
}

/* ---- the lexer ---- */

static int peek(const struct src *s)
{
    return s->off < s->len ? (unsigned char)s->text[s->off] : -1;
}

static void advance(struct src *s)
{
    if (s->text[s->off] == '\n') {
        s->line++;
        s->col = 1;
    } else {
        s->col++;
    }
    s->off++;
}

static struct pos here(const struct src *s)
{
    return (struct pos){s->name, s->line, s->col};
}

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_ctrl(int c)
{
    return (c >= 0 && c < 0x20) || c == 0x7f;
}

/* Skips blanks and comments; bounded because each pass eats a byte. */
static void skip_space(struct src *s)
{
    int c;

    while ((c = peek(s)) >= 0) {
        if (c == '#') {
            while ((c = peek(s)) >= 0 && c != '\n')
                advance(s);
        } else if (is_space(c)) {
            advance(s);
        } else {
            break;
        }
    }
}

static bool ends_word(int c)
{
    return c < 0 || is_space(c) || c == ';' || c == '{' || c == '}';
}

static int lex_bare(struct parser *p, struct tok *t)
{
    struct src *s = p->src;
    size_t start = s->off;
    struct pos at;
    int c;

    while (!ends_word(c = peek(s)) && c != '"' && !is_ctrl(c))
        advance(s);

    at = here(s);
    if (c == '"')
        return fail(p, &at, "unexpected quote inside a word");
    if (is_ctrl(c) && !is_space(c))
        return fail(p, &at, "invalid character 0x%02x", (unsigned)c);

    t->len = s->off - start;
    t->s = strndup(s->text + start, t->len);
    if (t->s == NULL)
        return oom(p, &t->at);
    t->type = T_WORD;
    return 0;
}

/* A "quoted" word; \" and \\ are its only escapes and it ends on its own
 * line. The first pass only bounds the length so one buffer suffices. */
static int lex_quoted(struct parser *p, struct tok *t)
{
    struct src *s = p->src;
    size_t i, cap, n = 0;
    struct pos at;
    char *buf;
    int c;

    advance(s);
    for (i = s->off; i < s->len && s->text[i] != '"' && s->text[i] != '\n';
         i++) {
        if (s->text[i] == '\\' && i + 1 < s->len && s->text[i + 1] != '\n')
            i++;
    }
    cap = i - s->off;
    buf = malloc(cap + 1);
    if (buf == NULL)
        return oom(p, &t->at);

    for (;;) {
        c = peek(s);
        at = here(s);
        if (c == '"')
            break;
        if (c < 0 || c == '\n' || n == cap) {
            fail(p, &t->at, "unterminated quoted string");
            goto fail;
        }
        if (c == '\\') {
            advance(s);
            c = peek(s);
            if (c != '"' && c != '\\') {
                fail(p, &at, "invalid escape in quoted string");
                goto fail;
            }
        } else if (is_ctrl(c) && c != '\t') {
            fail(p, &at, "invalid character 0x%02x", (unsigned)c);
            goto fail;
        }
        buf[n++] = (char)c;
        advance(s);
    }
    advance(s);

    at = here(s);
    if (!ends_word(peek(s))) {
        fail(p, &at, "unexpected character after quoted string");
        goto fail;
    }
    buf[n] = '\0';
    t->s = buf;
    t->len = n;
    t->type = T_WORD;
    return 0;

fail:
    free(buf);
    return -1;
}

/* The next token of the current file into t; -1 on a lexical error. */
static int lex(struct parser *p, struct tok *t)
{
    struct src *s = p->src;

    skip_space(s);
    t->at = here(s);
    t->s = NULL;
    t->len = 0;

    switch (peek(s)) {
    case -1:
        t->type = T_EOF;
        return 0;
    case ';':
        t->type = T_SEMI;
        break;
    case '{':
        t->type = T_LBRACE;
        break;
    case '}':
        t->type = T_RBRACE;
        break;
    case '"':
        return lex_quoted(p, t);
    default:
        return lex_bare(p, t);
    }
    advance(s);
    return 0;
}

/* ---- values ---- */

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (len == 0)
        return -1;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
            return -1;
    }
    *out = v;
    return 0;
}

int te_parse_size(const char *s, size_t len, uint64_t *out)
{
    uint64_t v, mul = 1;

    if (s == NULL || len == 0)
        return -1;
    switch (s[len - 1]) {
    case 'k':
    case 'K':
        mul = KIB;
        break;
    case 'm':
    case 'M':
        mul = MIB;
        break;
    case 'g':
    case 'G':
        mul = GIB;
        break;
    }
    if (mul != 1)
        len--;

    if (parse_u64(s, len, &v) < 0 || __builtin_mul_overflow(v, mul, &v))
        return -1;
    *out = v;
    return 0;
}

int te_parse_duration(const char *s, size_t len, unsigned *out_ms)
{
    uint64_t v, mul = 1000;

    if (s == NULL || len == 0)
        return -1;
    if (len >= 2 && s[len - 2] == 'm' && s[len - 1] == 's') {
        mul = 1;
        len -= 2;
    } else if (s[len - 1] == 's') {
        len--;
    } else if (s[len - 1] == 'm') {
        mul = 60 * 1000;
        len--;
    } else if (s[len - 1] == 'h') {
        mul = 3600 * 1000;
        len--;
    }

    if (parse_u64(s, len, &v) < 0 || __builtin_mul_overflow(v, mul, &v) ||
        v > UINT_MAX)
        return -1;
    *out_ms = (unsigned)v;
    return 0;
}

/* "8k" for 8192 and so on, for range messages. */
static const char *fmt_size(char *buf, size_t len, uint64_t v)
{
    if (v != 0 && v % GIB == 0)
        snprintf(buf, len, "%llug", (unsigned long long)(v / GIB));
    else if (v != 0 && v % MIB == 0)
        snprintf(buf, len, "%llum", (unsigned long long)(v / MIB));
    else if (v != 0 && v % KIB == 0)
        snprintf(buf, len, "%lluk", (unsigned long long)(v / KIB));
    else
        snprintf(buf, len, "%llu", (unsigned long long)v);
    return buf;
}

/* Zone, region, shard and tenant names: [A-Za-z0-9._-], 1..64. */
static bool valid_name(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > MAX_NAME)
        return false;
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* RFC 1035 2.3.1 label: letters, digits and inner hyphens, 1..63 bytes,
 * either case (names compare case-insensitively and are stored lower). */
static bool valid_label(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
        return false;
    for (i = 0; i < len; i++) {
        char c = lower(s[i]);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

static void to_lower(char *s)
{
    for (; *s != '\0'; s++)
        *s = lower(*s);
}

/* RFC 1035 2.3.4: dot-separated labels, 253 bytes at most. */
static bool valid_domain(const char *s, size_t len)
{
    size_t start = 0, i;

    if (len == 0 || len > 253)
        return false;
    for (i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (!valid_label(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

/* Parses a numeric "a.b.c.d:port" or "[v6]:port"; no names, no DNS.
 * Returns 0, -1 for a bad address or -2 for a bad port. */
static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
    char host[INET6_ADDRSTRLEN];
    const char *colon, *end;
    bool v6 = s[0] == '[';
    uint64_t port;
    size_t hlen;

    if (v6) {
        end = strchr(s, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        colon = end + 1;
        s++;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return -1;
        end = colon;
    }
    hlen = (size_t)(end - s);
    if (hlen == 0 || hlen >= sizeof(host))
        return -1;
    memcpy(host, s, hlen);
    host[hlen] = '\0';

    if (strlen(colon + 1) > 5 ||
        parse_u64(colon + 1, strlen(colon + 1), &port) < 0 || port < 1 ||
        port > 65535)
        return -2;

    memset(ss, 0, sizeof(*ss));
    if (v6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
            return -1;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        *sl = sizeof(*sin6);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
            return -1;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        *sl = sizeof(*sin);
    }
    return 0;
}

static int addr_arg(struct parser *p, const struct tok *a,
                    struct sockaddr_storage *ss, socklen_t *sl)
{
    int rc = parse_addr(a->s, ss, sl);

    if (rc == -2)
        return fail(p, &a->at, "invalid port in \"%s\": expected 1..65535",
                    a->s);
    if (rc < 0)
        return fail(p, &a->at,
                    "invalid address \"%s\": expected IPv4:PORT or "
                    "[IPv6]:PORT",
                    a->s);
    return 0;
}

static bool same_addr(const struct sockaddr_storage *a,
                      const struct sockaddr_storage *b)
{
    const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
    const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return a4->sin_port == b4->sin_port &&
               a4->sin_addr.s_addr == b4->sin_addr.s_addr;
    return a6->sin6_port == b6->sin6_port &&
           memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* ---- setters: a[0..n-1] are the words after the name ---- */

#define FIELD(p, d, type) ((type *)(void *)((char *)(p)->cf + (d)->off))

static int set_size_any(struct parser *p, const struct directive *d,
                        const struct tok *a, uint64_t *v)
{
    char lo[32], hi[32];

    if (te_parse_size(a->s, a->len, v) < 0)
        return fail(p, &a->at, "invalid size \"%s\" in \"%s\"", a->s, d->name);
    if (*v < d->min || *v > d->max || *v > SIZE_MAX)
        return fail(p, &a->at, "\"%s\" must be between %s and %s", d->name,
                    fmt_size(lo, sizeof(lo), d->min),
                    fmt_size(hi, sizeof(hi), d->max));
    return 0;
}

static int set_size(struct parser *p, const struct directive *d, struct tok *a,
                    unsigned n)
{
    uint64_t v;

    (void)n;
    if (set_size_any(p, d, a, &v) < 0)
        return -1;
    *FIELD(p, d, size_t) = (size_t)v;
    return 0;
}

static int set_size64(struct parser *p, const struct directive *d,
                      struct tok *a, unsigned n)
{
    uint64_t v;

    (void)n;
    if (set_size_any(p, d, a, &v) < 0)
        return -1;
    *FIELD(p, d, uint64_t) = v;
    return 0;
}

static int set_count(struct parser *p, const struct directive *d, struct tok *a,
                     unsigned n)
{
    uint64_t v;

    (void)n;
    if (parse_u64(a->s, a->len, &v) < 0)
        return fail(p, &a->at, "invalid number \"%s\" in \"%s\"", a->s,
                    d->name);
    if (v < d->min || v > d->max)
        return fail(p, &a->at, "\"%s\" must be between %llu and %llu", d->name,
                    (unsigned long long)d->min, (unsigned long long)d->max);
    *FIELD(p, d, unsigned) = (unsigned)v;
    return 0;
}

static int set_duration(struct parser *p, const struct directive *d,
                        struct tok *a, unsigned n)
{
    unsigned v;

    (void)n;
    if (te_parse_duration(a->s, a->len, &v) < 0)
        return fail(p, &a->at, "invalid duration \"%s\" in \"%s\"", a->s,
                    d->name);
    if (v < d->min)
        return fail(p, &a->at, "\"%s\" must be at least 1ms", d->name);
    *FIELD(p, d, unsigned) = v;
    return 0;
}

/* "auto" is the number of online CPUs, clamped to the allowed range. */
static int set_workers(struct parser *p, const struct directive *d,
                       struct tok *a, unsigned n)
{
    uint64_t v;

    (void)n;
    if (strcmp(a->s, "auto") == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        v = cpus < 1 ? 1 : cpus > MAX_WORKERS ? MAX_WORKERS : (uint64_t)cpus;
    } else if (parse_u64(a->s, a->len, &v) < 0 || v < d->min || v > d->max) {
        return fail(p, &a->at,
                    "invalid workers \"%s\": expected 1..%d or \"auto\"", a->s,
                    MAX_WORKERS);
    }
    p->cf->workers = (unsigned)v;
    return 0;
}

static int set_log_level(struct parser *p, const struct directive *d,
                         struct tok *a, unsigned n)
{
    int level = te_log_level_parse(a->s);

    (void)d;
    (void)n;
    if (level < 0)
        return fail(p, &a->at,
                    "invalid log level \"%s\": expected debug, info, "
                    "notice, warn or error",
                    a->s);
    p->cf->log_level = level;
    return 0;
}

static int set_name(struct parser *p, const struct directive *d, struct tok *a,
                    unsigned n)
{
    (void)n;
    if (!valid_name(a->s, a->len))
        return fail(p, &a->at, "invalid %s name \"%s\"", d->name, a->s);
    *FIELD(p, d, char *) = a->s;
    a->s = NULL;
    return 0;
}

static int set_domain(struct parser *p, const struct directive *d,
                      struct tok *a, unsigned n)
{
    (void)n;
    if (!valid_domain(a->s, a->len))
        return fail(p, &a->at, "invalid domain \"%s\"", a->s);
    to_lower(a->s);
    *FIELD(p, d, char *) = a->s;
    a->s = NULL;
    return 0;
}

static int set_listen(struct parser *p, const struct directive *d,
                      struct tok *a, unsigned n)
{
    te_config *cf = p->cf;
    struct sockaddr_storage ss;
    te_listen *l;
    socklen_t sl;
    unsigned i;

    (void)d;
    if (n > 2 || (n == 2 && strcmp(a[1].s, "tls") != 0))
        return fail(p, &a[n - 1].at, "unknown listen parameter \"%s\"",
                    a[n - 1].s);
    if (addr_arg(p, a, &ss, &sl) < 0)
        return -1;
    for (i = 0; i < cf->nlistens; i++) {
        if (same_addr(&cf->listens[i].addr, &ss))
            return fail(p, &a->at, "duplicate listen \"%s\"", a->s);
    }
    if (cf->nlistens >= MAX_LISTENS)
        return fail(p, &a->at, "too many listen addresses (max %d)",
                    MAX_LISTENS);

    l = grow(cf->listens, cf->nlistens, sizeof(*l));
    if (l == NULL)
        return oom(p, &a->at);
    cf->listens = l;
    l += cf->nlistens++;
    l->name = a->s;
    a->s = NULL;
    l->addr = ss;
    l->addrlen = sl;
    l->tls = n == 2;
    return 0;
}

/* on | off into an int of te_config. */
static int set_flag(struct parser *p, const struct directive *d,
                    struct tok *a, unsigned n)
{
    int *v = (int *)((char *)p->cf + d->off);

    (void)n;
    if (strcmp(a->s, "on") == 0)
        *v = 1;
    else if (strcmp(a->s, "off") == 0)
        *v = 0;
    else
        return fail(p, &a->at, "\"%s\" takes on or off, not \"%s\"",
                    d->name, a->s);
    return 0;
}

static unsigned find_key(const char *const *keys, unsigned nkeys,
                         const char *key)
{
    unsigned k;

    for (k = 0; k < nkeys; k++) {
        if (strcmp(keys[k], key) == 0)
            break;
    }
    return k;
}

/* The words after the first as "key value" pairs; keys[] lists those
 * allowed, vals[] receives the value words. what names the directive. */
static int key_values(struct parser *p, const char *what, struct tok *a,
                      unsigned n, const char *const *keys, struct tok **vals,
                      unsigned nkeys)
{
    unsigned i, k;

    for (i = 1; i < n; i += 2) {
        k = find_key(keys, nkeys, a[i].s);
        if (k == nkeys)
            return fail(p, &a[i].at, "unknown %s parameter \"%s\"", what,
                        a[i].s);
        if (vals[k] != NULL)
            return fail(p, &a[i].at, "duplicate %s parameter \"%s\"", what,
                        a[i].s);
        if (i + 1 == n)
            return fail(p, &a[i].at, "missing value after \"%s\"", a[i].s);
        vals[k] = &a[i + 1];
    }
    return 0;
}

static int set_backend(struct parser *p, const struct directive *d,
                       struct tok *a, unsigned n)
{
    static const char *const keys[] = {"zone"};
    struct tok *vals[1] = {NULL};
    te_shard *sh = p->shard;
    struct sockaddr_storage ss;
    te_backend *b, **arr;
    socklen_t sl;
    unsigned i;

    (void)d;
    if (addr_arg(p, a, &ss, &sl) < 0 ||
        key_values(p, "backend", a, n, keys, vals, 1) < 0)
        return -1;
    if (vals[0] != NULL && !valid_name(vals[0]->s, vals[0]->len))
        return fail(p, &vals[0]->at, "invalid zone name \"%s\"", vals[0]->s);
    for (i = 0; i < sh->nbackends; i++) {
        if (same_addr(&sh->backends[i]->addr, &ss))
            return fail(p, &a->at, "duplicate backend \"%s\" in shard \"%s\"",
                        a->s, sh->name);
    }
    if (sh->nbackends >= MAX_BACKENDS)
        return fail(p, &a->at, "too many backends in shard \"%s\" (max %d)",
                    sh->name, MAX_BACKENDS);

    arr = grow(sh->backends, sh->nbackends, sizeof(*arr));
    if (arr == NULL)
        return oom(p, &a->at);
    sh->backends = arr;
    b = calloc(1, sizeof(*b));
    if (b == NULL)
        return oom(p, &a->at);
    b->name = a->s;
    a->s = NULL;
    if (vals[0] != NULL) {
        b->zone = vals[0]->s;
        vals[0]->s = NULL;
    }
    b->addr = ss;
    b->addrlen = sl;
    b->shard = sh;
    sh->backends[sh->nbackends++] = b;
    return 0;
}

/* Reads the statements of the block just opened; defined below. */
static int parse_stmts(struct parser *p, unsigned ctx, bool in_block);

static int set_region(struct parser *p, const struct directive *d,
                      struct tok *a, unsigned n)
{
    te_config *cf = p->cf;
    te_region *r, **arr;

    (void)d;
    (void)n;
    if (!valid_name(a->s, a->len))
        return fail(p, &a->at, "invalid region name \"%s\"", a->s);
    if (ns_get(&p->regions, a->s) != NULL)
        return fail(p, &a->at, "duplicate region \"%s\"", a->s);

    arr = grow(cf->regions, cf->nregions, sizeof(*arr));
    if (arr == NULL)
        return oom(p, &a->at);
    cf->regions = arr;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return oom(p, &a->at);
    r->name = a->s;
    a->s = NULL;
    cf->regions[cf->nregions++] = r;
    if (ns_put(&p->regions, r->name, r) < 0)
        return oom(p, &a->at);

    p->region = r;
    if (parse_stmts(p, CTX_REGION, true) < 0)
        return -1;
    p->region = NULL;

    if (r->nshards == 0)
        return fail(p, &a->at, "region \"%s\" has no shards", r->name);
    return 0;
}

static int set_shard(struct parser *p, const struct directive *d, struct tok *a,
                     unsigned n)
{
    te_region *r = p->region;
    te_shard *sh, **arr;

    (void)d;
    (void)n;
    if (!valid_name(a->s, a->len))
        return fail(p, &a->at, "invalid shard name \"%s\"", a->s);
    if (ns_get(&p->shards, a->s) != NULL)
        return fail(p, &a->at, "duplicate shard \"%s\"", a->s);

    arr = grow(r->shards, r->nshards, sizeof(*arr));
    if (arr == NULL)
        return oom(p, &a->at);
    r->shards = arr;
    sh = calloc(1, sizeof(*sh));
    if (sh == NULL)
        return oom(p, &a->at);
    sh->name = a->s;
    a->s = NULL;
    sh->region = r;
    r->shards[r->nshards++] = sh;
    if (ns_put(&p->shards, sh->name, sh) < 0)
        return oom(p, &a->at);

    p->shard = sh;
    if (parse_stmts(p, CTX_SHARD, true) < 0)
        return -1;
    p->shard = NULL;

    if (sh->nbackends == 0)
        return fail(p, &a->at, "shard \"%s\" has no backends", sh->name);
    return 0;
}

/* site NAME shard S [id T]: the shard is resolved once all is read. */
static int set_site(struct parser *p, const struct directive *d, struct tok *a,
                    unsigned n)
{
    static const char *const keys[] = {"shard", "id"};
    struct tok *vals[2] = {NULL, NULL};
    te_config *cf = p->cf;
    struct site_ref *refs;
    te_site *site, **arr;

    (void)d;
    if (!valid_label(a->s, a->len))
        return fail(p, &a->at, "invalid site name \"%s\"", a->s);
    if (key_values(p, "site", a, n, keys, vals, 2) < 0)
        return -1;
    if (vals[0] == NULL)
        return fail(p, &a->at, "site \"%s\" has no shard", a->s);
    if (vals[1] != NULL && !valid_name(vals[1]->s, vals[1]->len))
        return fail(p, &vals[1]->at, "invalid tenant id \"%s\"", vals[1]->s);
    to_lower(a->s);
    if (ns_get(&p->sites, a->s) != NULL)
        return fail(p, &a->at, "duplicate site \"%s\"", a->s);

    arr = grow(cf->sites, cf->nsites, sizeof(*arr));
    if (arr == NULL)
        return oom(p, &a->at);
    cf->sites = arr;
    refs = grow(p->refs, cf->nsites, sizeof(*refs));
    if (refs == NULL)
        return oom(p, &a->at);
    p->refs = refs;
    site = calloc(1, sizeof(*site));
    if (site == NULL)
        return oom(p, &a->at);
    site->name = a->s;
    a->s = NULL;
    cf->sites[cf->nsites] = site;
    refs[cf->nsites] = (struct site_ref){vals[0]->s, a->at, vals[0]->at};
    vals[0]->s = NULL;
    cf->nsites++;

    if (vals[1] != NULL) {
        site->tenant_id = vals[1]->s;
        vals[1]->s = NULL;
    } else {
        site->tenant_id = strdup(site->name);
    }
    if (site->tenant_id == NULL || ns_put(&p->sites, site->name, site) < 0)
        return oom(p, &a->at);
    return 0;
}

/* ---- the tenant context service: redis and tcs ---- */

static char *join_path(const char *from, const char *path);

/* redis ADDR [{ password; database; timeout; connect_timeout;
 * heartbeat; }]: a numeric address only, since hiredis resolves names
 * with a blocking call on the worker's loop. */
static int set_redis(struct parser *p, const struct directive *d,
                     struct tok *a, unsigned n)
{
    char host[INET6_ADDRSTRLEN];
    struct sockaddr_storage ss;
    te_config *cf = p->cf;
    bool block = p->has_block;
    const void *ip;
    socklen_t sl;

    (void)d;
    (void)n;
    if (addr_arg(p, a, &ss, &sl) < 0)
        return -1;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

        ip = &sin->sin_addr;
        cf->redis_port = ntohs(sin->sin_port);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

        ip = &sin6->sin6_addr;
        cf->redis_port = ntohs(sin6->sin6_port);
    }
    if (inet_ntop(ss.ss_family, ip, host, sizeof(host)) == NULL ||
        (cf->redis_host = strdup(host)) == NULL)
        return oom(p, &a->at);
    cf->redis_name = a->s;
    a->s = NULL;

    if (block)
        return parse_stmts(p, CTX_REDIS, true);
    return 0;
}

static int set_password(struct parser *p, const struct directive *d,
                        struct tok *a, unsigned n)
{
    (void)d;
    (void)n;
    if (a->len == 0)
        return fail(p, &a->at, "empty redis password");
    p->cf->redis_password = a->s;
    a->s = NULL;
    return 0;
}

static int set_tcs(struct parser *p, const struct directive *d, struct tok *a,
                   unsigned n)
{
    (void)d;
    (void)a;
    (void)n;
    return parse_stmts(p, CTX_TCS, true);
}

static int set_tcs_store(struct parser *p, const struct directive *d,
                         struct tok *a, unsigned n)
{
    (void)d;
    (void)n;
    if (strcmp(a->s, "static") == 0)
        p->cf->tcs_store = TE_TCS_STORE_STATIC;
    else if (strcmp(a->s, "file") == 0)
        p->cf->tcs_store = TE_TCS_STORE_FILE;
    else if (strcmp(a->s, "redis") == 0)
        p->cf->tcs_store = TE_TCS_STORE_REDIS;
    else
        return fail(p, &a->at,
                    "invalid store \"%s\": expected static, file or redis",
                    a->s);
    return 0;
}

/* file PATH: relative to the file that names it, like include; read and
 * checked once the whole configuration is known (finish_tcs). */
static int set_tcs_file(struct parser *p, const struct directive *d,
                        struct tok *a, unsigned n)
{
    (void)d;
    (void)n;
    if (p->no_include)
        return fail(p, &a->at, "file is not allowed in unnamed text");
    if (a->len == 0)
        return fail(p, &a->at, "empty tenants file path");
    p->cf->tcs_file = join_path(p->src->name, a->s);
    if (p->cf->tcs_file == NULL && errno == ENAMETOOLONG)
        return fail(p, &a->at, "tenants file path too long");
    if (p->cf->tcs_file == NULL)
        return oom(p, &a->at);
    return 0;
}

static int duration_arg(struct parser *p, const struct tok *a,
                        const char *what, unsigned *out)
{
    if (te_parse_duration(a->s, a->len, out) < 0)
        return fail(p, &a->at, "invalid duration \"%s\" in \"%s\"", a->s,
                    what);
    return 0;
}

/* cache N [ttl D] [stale D], as DESIGN.md writes it on one line. */
static int set_tcs_cache(struct parser *p, const struct directive *d,
                         struct tok *a, unsigned n)
{
    static const char *const keys[] = {"ttl", "stale"};
    struct tok *vals[2] = {NULL, NULL};
    te_config *cf = p->cf;
    uint64_t v;

    if (parse_u64(a->s, a->len, &v) < 0)
        return fail(p, &a->at, "invalid number \"%s\" in \"%s\"", a->s,
                    d->name);
    if (v < d->min || v > d->max)
        return fail(p, &a->at, "\"%s\" must be between %llu and %llu", d->name,
                    (unsigned long long)d->min, (unsigned long long)d->max);
    if (key_values(p, "cache", a, n, keys, vals, 2) < 0)
        return -1;
    if (vals[0] != NULL && duration_arg(p, vals[0], "ttl", &cf->tcs_ttl) < 0)
        return -1;
    if (vals[1] != NULL &&
        duration_arg(p, vals[1], "stale", &cf->tcs_stale) < 0)
        return -1;
    cf->tcs_cache = (size_t)v;
    return 0;
}

/* The prefix goes into every key and channel name: a plain word. */
static int set_tcs_prefix(struct parser *p, const struct directive *d,
                          struct tok *a, unsigned n)
{
    (void)d;
    (void)n;
    if (a->len == 0 || a->len > TE_TCS_PREFIX_MAX)
        return fail(p, &a->at, "invalid prefix \"%s\": 1..%d bytes", a->s,
                    TE_TCS_PREFIX_MAX);
    if (!te_tcs_prefix_valid(a->s, a->len))
        return fail(p, &a->at, "invalid prefix \"%s\": only [A-Za-z0-9:._-]",
                    a->s);
    p->cf->tcs_prefix = a->s;
    a->s = NULL;
    return 0;
}

/* ---- files ---- */

/* Reads the regular file at path, at most MAX_FILE_BYTES of it, into a new
 * buffer. Returns 0 or an errno value; EINVAL means "not a regular file",
 * EFBIG "too large". Never blocks on a FIFO or a device. */
static int read_file(const char *path, char **out, size_t *outlen,
                     struct stat *st)
{
    size_t len, got = 0;
    char *buf = NULL;
    ssize_t r;
    int fd, e = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno;
    if (fstat(fd, st) < 0) {
        e = errno;
        goto fail;
    }
    if (!S_ISREG(st->st_mode)) {
        e = EINVAL;
        goto fail;
    }
    if (st->st_size > MAX_FILE_BYTES) {
        e = EFBIG;
        goto fail;
    }

    len = (size_t)st->st_size;
    buf = malloc(len + 1);
    if (buf == NULL) {
        e = ENOMEM;
        goto fail;
    }
    /* Bounded: each pass reads at least a byte or ends the loop. */
    while (got < len) {
        r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            e = errno;
            goto fail;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *out = buf;
    *outlen = got;
    return 0;

fail:
    free(buf);
    close(fd);
    return e;
}

static const char *read_error(int e)
{
    if (e == EINVAL)
        return "not a regular file";
    if (e == EFBIG)
        return "larger than 1 MiB";
    return strerror(e);
}

/* Keeps a file name alive for positions; takes ownership of name. */
static int keep_name(struct parser *p, char *name)
{
    char **names = grow(p->names, p->nnames, sizeof(*names));

    if (names == NULL) {
        free(name);
        return -1;
    }
    p->names = names;
    names[p->nnames++] = name;
    return 0;
}

/* path as seen from the directory of the file that names it. */
static char *join_path(const char *from, const char *path)
{
    const char *slash = strrchr(from, '/');
    size_t dlen, plen = strlen(path), total;
    char *out;

    if (path[0] == '/' || slash == NULL)
        return strdup(path);
    dlen = (size_t)(slash - from) + 1;
    if (__builtin_add_overflow(dlen, plen, &total) || total >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    out = malloc(total + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, from, dlen);
    memcpy(out + dlen, path, plen + 1);
    return out;
}

static void src_init(struct src *s, const char *name, const char *text,
                     size_t len, const struct stat *st)
{
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->text = text;
    s->len = len;
    s->line = 1;
    s->col = 1;
    if (st != NULL) {
        s->has_id = true;
        s->dev = st->st_dev;
        s->ino = st->st_ino;
    }
}

/* include PATH: reads the file in the context of the include itself. */
static int set_include(struct parser *p, const struct directive *d,
                       struct tok *a, unsigned n)
{
    struct src *parent = p->src, child;
    const struct src *s;
    char *path, *text = NULL;
    struct stat st;
    size_t len;
    int e, rc = -1;

    (void)d;
    (void)n;
    if (p->no_include)
        return fail(p, &a->at, "include is not allowed in unnamed text");
    if (a->len == 0)
        return fail(p, &a->at, "empty include path");
    if (parent->depth >= MAX_DEPTH)
        return fail(p, &a->at, "includes nested deeper than %d", MAX_DEPTH);
    if (p->nfiles >= MAX_FILES)
        return fail(p, &a->at, "more than %d files included", MAX_FILES);

    path = join_path(parent->name, a->s);
    if (path == NULL && errno == ENAMETOOLONG)
        return fail(p, &a->at, "include path too long");
    if (path == NULL || keep_name(p, path) < 0)
        return oom(p, &a->at);

    e = read_file(path, &text, &len, &st);
    if (e != 0)
        return fail(p, &a->at, "cannot read \"%s\": %s", path, read_error(e));
    for (s = parent; s != NULL; s = s->parent) {
        if (s->has_id && s->dev == st.st_dev && s->ino == st.st_ino) {
            fail(p, &a->at, "include cycle: \"%s\" is already being read",
                 path);
            goto out;
        }
    }
    if (len > MAX_TOTAL_BYTES - p->total) {
        fail(p, &a->at, "configuration larger than 16 MiB in all");
        goto out;
    }
    p->total += len;
    p->nfiles++;

    src_init(&child, path, text, len, &st);
    child.parent = parent;
    child.depth = parent->depth + 1;
    p->src = &child;
    rc = parse_stmts(p, p->ctx, false);
    p->src = parent;

out:
    free(text);
    return rc;
}

/* ---- statements ---- */

static const struct directive *find_directive(const char *name)
{
    size_t i;

    for (i = 0; i < NDIRECTIVES; i++) {
        if (strcmp(directives[i].name, name) == 0)
            return &directives[i];
    }
    return NULL;
}

static const char *ctx_name(unsigned ctx)
{
    if (ctx == CTX_REDIS)
        return "inside \"redis\"";
    if (ctx == CTX_TCS)
        return "inside \"tcs\"";
    if (ctx == CTX_SHARD)
        return "inside \"shard\"";
    if (ctx == CTX_REGION)
        return "inside \"region\"";
    return "at top level";
}

/* One statement whose name is the word in name (consumed): its words up
 * to ";" or "{", checks against the table, then the setter. */
static int parse_directive(struct parser *p, struct tok *name)
{
    const struct directive *d;
    struct tok a[MAX_ARGS], t;
    unsigned n = 0, i;
    size_t idx;
    int rc = -1;

    d = find_directive(name->s);
    if (d == NULL && p->ctx == CTX_MAIN)
        return parse_top_module(p, name);
    if (d == NULL) {
        fail(p, &name->at, "unknown directive \"%s\"", name->s);
        goto out;
    }
    if ((d->ctx & p->ctx) == 0) {
        fail(p, &name->at, "directive \"%s\" is only allowed %s", d->name,
             ctx_name(d->ctx));
        goto out;
    }
    idx = (size_t)(d - directives);
    if ((d->flags & D_ONCE) && p->seen[idx]) {
        fail(p, &name->at, "duplicate directive \"%s\"", d->name);
        goto out;
    }

    /* Bounded: at most MAX_ARGS + 1 tokens. */
    for (;;) {
        if (lex(p, &t) < 0)
            goto out;
        if (t.type != T_WORD)
            break;
        if (n == d->maxargs) {
            free(t.s);
            fail(p, &t.at, "too many arguments for \"%s\" (missing \";\"?)",
                 d->name);
            goto out;
        }
        a[n++] = t;
    }

    if (t.type == T_EOF || t.type == T_RBRACE) {
        fail(p, &t.at, "unexpected %s, expecting \"%s\"",
             t.type == T_EOF ? "end of file" : "\"}\"",
             (d->flags & D_BLOCK) ? "{" : ";");
        goto out;
    }
    if (n < d->minargs) {
        fail(p, &name->at, "too few arguments for \"%s\"", d->name);
        goto out;
    }
    if (t.type == T_LBRACE && !(d->flags & (D_BLOCK | D_OPT_BLOCK))) {
        fail(p, &t.at, "directive \"%s\" takes no block", d->name);
        goto out;
    }
    if (t.type == T_SEMI && (d->flags & D_BLOCK)) {
        fail(p, &t.at, "directive \"%s\" needs a block", d->name);
        goto out;
    }

    p->seen[idx] = true;
    p->seen_at[idx] = name->at;
    p->has_block = t.type == T_LBRACE;
    rc = d->set(p, d, a, n);

out:
    for (i = 0; i < n; i++)
        free(a[i].s);
    free(name->s);
    return rc;
}

/* Statements until "}" (in_block) or the end of the current file.
 * Bounded: every pass consumes at least one token of the input. */
static int parse_stmts(struct parser *p, unsigned ctx, bool in_block)
{
    unsigned saved = p->ctx;
    struct tok t;
    int rc = 0;

    p->ctx = ctx;
    for (;;) {
        if (lex(p, &t) < 0) {
            rc = -1;
            break;
        }
        if (t.type == T_EOF) {
            if (in_block)
                rc = fail(p, &t.at,
                          "unexpected end of file, expecting "
                          "\"}\"");
            p->eof = t.at;
            break;
        }
        if (t.type == T_RBRACE) {
            if (!in_block)
                rc = fail(p, &t.at, "unexpected \"}\"");
            break;
        }
        if (t.type != T_WORD) {
            rc = fail(p, &t.at, "unexpected \"%s\"",
                      t.type == T_SEMI ? ";" : "{");
            break;
        }
        rc = parse_directive(p, &t);
        if (rc < 0)
            break;
    }
    p->ctx = saved;
    return rc;
}

/* ---- module directives (tenantedge/module.h) ---- */

/* Words a module directive may take; core directives keep MAX_ARGS. */
#define MAX_WORDS 64

/* What a module's setter or finish_conf gets: the directive's tokens for
 * error positions, or a fixed position when there is none. */
struct te_conf_ctx {
    struct parser *p;
    const struct tok *name; /* NULL in finish_conf */
    const struct tok *args;
    unsigned nargs;
    struct pos at;
    const te_directive *block; /* te_conf_enter_block */
    te_mod_entry *block_me;
    bool entered;
};

int te_conf_error(te_conf_ctx *cx, unsigned argi, const char *fmt, ...)
{
    const struct pos *at = &cx->at;
    char msg[512];
    va_list ap;

    if (cx->name != NULL)
        at = argi == 0 || argi > cx->nargs ? &cx->name->at
                                           : &cx->args[argi - 1].at;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return fail(cx->p, at, "%s", msg);
}

/* The directive's name for messages. */
static const char *cx_name(const te_conf_ctx *cx)
{
    return cx->name != NULL ? cx->name->s : "module";
}

int te_conf_size(te_conf_ctx *cx, unsigned argi, const char *s,
                 uint64_t *out)
{
    if (te_parse_size(s, strlen(s), out) < 0)
        return te_conf_error(cx, argi, "invalid size \"%s\" in \"%s\"", s,
                             cx_name(cx));
    return 0;
}

int te_conf_duration(te_conf_ctx *cx, unsigned argi, const char *s,
                     unsigned *out_ms)
{
    if (te_parse_duration(s, strlen(s), out_ms) < 0)
        return te_conf_error(cx, argi, "invalid duration \"%s\" in \"%s\"",
                             s, cx_name(cx));
    return 0;
}

int te_conf_uint(te_conf_ctx *cx, unsigned argi, const char *s,
                 unsigned min, unsigned max, unsigned *out)
{
    uint64_t v;

    if (parse_u64(s, strlen(s), &v) < 0)
        return te_conf_error(cx, argi, "invalid number \"%s\" in \"%s\"", s,
                             cx_name(cx));
    if (v < min || v > max)
        return te_conf_error(cx, argi, "\"%s\" must be between %u and %u",
                             cx_name(cx), min, max);
    *out = (unsigned)v;
    return 0;
}

const char *te_conf_strdup(te_conf_ctx *cx, const char *s)
{
    return te_chainconf_keep(cx->p->cf->chain, strdup(s));
}

int te_conf_principal_header(te_conf_ctx *cx, unsigned argi,
                             const char *which, const char *name)
{
    static const char *const whats[] = {"user", "kind", "scopes"};
    static const char tchars[] = "abcdefghijklmnopqrstuvwxyz"
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789!#$%&'*+-.^_`|~";
    te_chainconf *cc = cx->p->cf->chain;
    const char *s;

    if (name[0] == '\0' || name[strspn(name, tchars)] != '\0')
        return te_conf_error(cx, argi, "not a field name");
    for (unsigned i = 0; i < 3; i++) {
        if (strcmp(which, whats[i]) != 0)
            continue;
        s = te_conf_strdup(cx, name);
        if (s == NULL)
            return te_conf_error(cx, argi, "out of memory");
        cc->principal_hdr[i] = s;
        return 0;
    }
    return te_conf_error(cx, 0, "unknown principal field \"%s\"", which);
}

/* "dir/" of the file being read ("./" when it names none); NULL for
 * unnamed text, which may not name files. */
const char *te_conf_dir(te_conf_ctx *cx)
{
    const char *name = cx->p->src->name, *slash;

    if (cx->p->no_include)
        return NULL;
    slash = strrchr(name, '/');
    if (slash == NULL)
        return "./";
    return te_chainconf_keep(cx->p->cf->chain,
                             strndup(name, (size_t)(slash - name) + 1));
}

int te_conf_shard_region(te_conf_ctx *cx, const char *shard,
                         const char **region)
{
    const te_shard *sh = ns_get(&cx->p->shards, shard);

    if (sh == NULL)
        return 0;
    if (region != NULL)
        *region = sh->region->name;
    return 1;
}

int te_conf_product_prefix(te_conf_ctx *cx, const char *name,
                           const char **prefix)
{
    const te_chainconf *cc = cx->p->cf->chain;

    for (unsigned i = 0; cc != NULL && i < cc->nproducts; i++) {
        if (strcmp(cc->products[i].name, name) == 0) {
            if (prefix != NULL)
                *prefix = cc->products[i].prefix;
            return 1;
        }
    }
    return 0;
}

int te_conf_sessions_available(te_conf_ctx *cx)
{
    return cx->p->cf->tcs_store == TE_TCS_STORE_REDIS;
}

void te_conf_enter_block(te_conf_ctx *cx, te_mod_entry *me,
                         const te_directive *table)
{
    cx->entered = true;
    cx->block = table;
    cx->block_me = me;
}

void te_conf_where_arg(te_conf_ctx *cx, unsigned argi, te_conf_where *w)
{
    const struct pos *at = &cx->at;

    if (cx->name != NULL)
        at = argi == 0 || argi > cx->nargs ? &cx->name->at
                                           : &cx->args[argi - 1].at;
    *w = (te_conf_where){at->file, at->line, at->col};
}

void te_conf_at(te_conf_ctx *cx, const te_conf_where *w)
{
    cx->name = NULL;
    cx->at = (struct pos){w->file, w->line, w->col};
}

int te_config_core_directive(const char *name)
{
    return find_directive(name) != NULL;
}

static const te_directive *mod_find(const te_directive *t, const char *name)
{
    for (; t != NULL && t->name != NULL; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

static int parse_mod_stmts(struct parser *p, te_mod_entry *me,
                           const te_directive *table, void *mconf);

/* Reads the block the directive opened with the table its setter chose
 * (te_conf_enter_block) or its own, for that module's conf. */
static int parse_mod_block(struct parser *p, const te_conf_ctx *cx,
                           const te_directive *d, te_mod_entry *me,
                           void *mconf)
{
    const struct tok *name = cx->name;

    if (cx->entered) {
        me = cx->block_me;
        if (me != NULL && te_mod_entry_conf(me, &mconf) < 0)
            return oom(p, &name->at);
        return parse_mod_stmts(p, me, cx->block, mconf);
    }
    return parse_mod_stmts(p, me, d->block, mconf);
}

/* One directive of a te_directive table (module me, or the core's when
 * NULL), its name already read into name (freed here): its words, the
 * arity and block checks, the setter, then its block if any. */
static int parse_mod_directive(struct parser *p, te_mod_entry *me,
                               const te_directive *d, void *mconf,
                               struct tok *name)
{
    bool block = (d->flags & TE_DIR_BLOCK) != 0;
    unsigned max = d->max_args, n = 0, i;
    const char *argv[MAX_WORDS + 2];
    struct tok a[MAX_WORDS], t;
    te_conf_ctx cx;
    int rc = -1;

    if (max > MAX_WORDS)
        max = MAX_WORDS;
    /* Bounded: at most MAX_WORDS + 1 tokens. */
    for (;;) {
        if (lex(p, &t) < 0)
            goto out;
        if (t.type != T_WORD)
            break;
        if (n == max) {
            free(t.s);
            fail(p, &t.at, "too many arguments for \"%s\" (missing \";\"?)",
                 d->name);
            goto out;
        }
        a[n++] = t;
    }

    if (t.type == T_EOF || t.type == T_RBRACE) {
        fail(p, &t.at, "unexpected %s, expecting \"%s\"",
             t.type == T_EOF ? "end of file" : "\"}\"", block ? "{" : ";");
        goto out;
    }
    if (n < d->min_args) {
        fail(p, &name->at, "too few arguments for \"%s\"", d->name);
        goto out;
    }
    if (t.type == T_LBRACE && !block) {
        fail(p, &t.at, "directive \"%s\" takes no block", d->name);
        goto out;
    }
    if (t.type == T_SEMI && block) {
        fail(p, &t.at, "directive \"%s\" needs a block", d->name);
        goto out;
    }

    if (me != NULL && !me->placed) {
        me->where = (te_conf_where){name->at.file, name->at.line,
                                    name->at.col};
        me->placed = true;
    }
    cx = (te_conf_ctx){.p = p, .name = name, .args = a, .nargs = n,
                       .at = name->at};
    argv[0] = name->s;
    for (i = 0; i < n; i++)
        argv[i + 1] = a[i].s;
    argv[n + 1] = NULL;

    rc = d->set != NULL ? d->set(&cx, mconf, n + 1, argv) : 0;
    if (rc < 0 && !p->failed)
        fail(p, &name->at, "invalid \"%s\"", d->name);
    if (rc == 0 && block)
        rc = parse_mod_block(p, &cx, d, me, mconf);

out:
    for (i = 0; i < n; i++)
        free(a[i].s);
    free(name->s);
    return rc < 0 ? -1 : 0;
}

/* The statements of a module block, up to its "}". Bounded: every pass
 * consumes at least one token of the input. */
static int parse_mod_stmts(struct parser *p, te_mod_entry *me,
                           const te_directive *table, void *mconf)
{
    const te_directive *d;
    struct tok t;

    for (;;) {
        if (lex(p, &t) < 0)
            return -1;
        if (t.type == T_EOF)
            return fail(p, &t.at, "unexpected end of file, expecting \"}\"");
        if (t.type == T_RBRACE)
            return 0;
        if (t.type != T_WORD)
            return fail(p, &t.at, "unexpected \"%s\"",
                        t.type == T_SEMI ? ";" : "{");
        d = mod_find(table, t.s);
        if (d == NULL) {
            fail(p, &t.at, "unknown directive \"%s\" in module \"%s\"", t.s,
                 me != NULL ? me->m->name : "core");
            free(t.s);
            return -1;
        }
        if (parse_mod_directive(p, me, d, mconf, &t) < 0)
            return -1;
    }
}

/* A top-level word that is none of the core table's: a directive of the
 * chain (chain, module, load_module, product, internal_headers) or a
 * module's TE_DIR_TOP one. Consumes name. */
static int parse_top_module(struct parser *p, struct tok *name)
{
    te_chainconf *cc = p->cf->chain;
    const te_directive *d;
    te_mod_entry *me = NULL;
    void *mconf = cc;

    d = mod_find(te_chainconf_directives, name->s);
    if (d == NULL) {
        d = mod_find(te_tls_directives, name->s);
        mconf = p->cf->tls_conf;
    }
    if (d == NULL) {
        mconf = cc;
        d = te_chainconf_top(cc, name->s, &me);
        if (d != NULL && te_mod_entry_conf(me, &mconf) < 0) {
            free(name->s);
            return oom(p, &name->at);
        }
    }
    if (d == NULL) {
        fail(p, &name->at, "unknown directive \"%s\"", name->s);
        free(name->s);
        return -1;
    }
    return parse_mod_directive(p, me, d, mconf, name);
}

/* Once everything is read: the chain's modules finish their confs. */
static int finish_modules(struct parser *p)
{
    te_conf_ctx cx = {.p = p, .at = p->eof};

    if (te_chainconf_finish(p->cf->chain, &cx, p->cf) < 0) {
        if (!p->failed)
            fail(p, &p->eof, "module configuration failed");
        return -1;
    }
    return 0;
}

/* Once everything is read: the tls block is checked against the
 * listeners and its certificates are loaded (src/tls_conf.c). */
static int finish_tls(struct parser *p)
{
    te_conf_ctx cx = {.p = p, .at = p->eof};

    if (te_tls_conf_finish(&cx, p->cf) < 0) {
        if (!p->failed)
            fail(p, &p->eof, "tls configuration failed");
        return -1;
    }
    return 0;
}

/* ---- the snapshot ---- */

static te_config *config_new(void)
{
    te_config *cf = calloc(1, sizeof(*cf));

    if (cf == NULL)
        return NULL;
    cf->chain = te_chainconf_new();
    if (cf->chain == NULL) {
        free(cf);
        return NULL;
    }
    cf->tls_conf = te_tls_conf_new();
    if (cf->tls_conf == NULL) {
        te_chainconf_free(cf->chain);
        free(cf);
        return NULL;
    }
    cf->refs = 1;
    cf->workers = 1;
    cf->http2 = 1;
    cf->h2_max_streams = 100;
    cf->h2_max_header_list = 32 * KIB;
    cf->h2_max_frame_size = 16 * KIB;
    cf->h2_stream_window = 64 * KIB;
    cf->h2_idle_timeout = 3 * 60 * 1000;
    cf->h2_max_resets = 100;
    cf->h2_max_control = 1000;
    cf->h2_max_glitches = 100;
    cf->log_level = TE_LOG_INFO;
    cf->max_request_line = 8 * KIB;
    cf->max_header_size = 32 * KIB;
    cf->max_headers = 100;
    cf->max_body_size = 16 * MIB;
    cf->header_timeout = 10 * 1000;
    cf->body_timeout = 30 * 1000;
    cf->keepalive_timeout = 60 * 1000;
    cf->send_timeout = 30 * 1000;
    cf->upstream_connect_timeout = 3 * 1000;
    cf->upstream_send_timeout = 30 * 1000;
    cf->upstream_read_timeout = 60 * 1000;
    cf->upstream_keepalive = 32;
    cf->upstream_keepalive_timeout = 60 * 1000;
    cf->upstream_max_fails = 3;
    cf->upstream_fail_timeout = 10 * 1000;
    cf->buffer_size = 64 * KIB;
    cf->drain_timeout = 10 * 1000;
    cf->redis_timeout = 500;
    cf->redis_connect_timeout = 1000;
    cf->redis_heartbeat = 1000;
    cf->tcs_store = TE_TCS_STORE_STATIC;
    cf->tcs_cache = 100000;
    cf->tcs_ttl = 30 * 1000;
    cf->tcs_stale = 10 * 60 * 1000;
    cf->tcs_negative_ttl = 5 * 1000;
    return cf;
}

/* Frees a snapshot, complete or left half-built by an error. */
static void config_free(te_config *cf)
{
    unsigned i, j, k;

    te_tls_unref(cf->tls);
    te_tls_conf_free(cf->tls_conf);
    for (i = 0; i < cf->nlistens; i++)
        free(cf->listens[i].name);
    free(cf->listens);

    for (i = 0; i < cf->nregions; i++) {
        te_region *r = cf->regions[i];
        for (j = 0; j < r->nshards; j++) {
            te_shard *sh = r->shards[j];
            for (k = 0; k < sh->nbackends; k++) {
                free(sh->backends[k]->name);
                free(sh->backends[k]->zone);
                free(sh->backends[k]);
            }
            free(sh->backends);
            free(sh->name);
            free(sh);
        }
        free(r->shards);
        free(r->name);
        free(r);
    }
    free(cf->regions);
    free(cf->backends);

    for (i = 0; i < cf->nsites; i++) {
        free(cf->sites[i]->name);
        free(cf->sites[i]->tenant_id);
        free(cf->sites[i]);
    }
    free(cf->sites);
    free(cf->zone);
    free(cf->domain);
    free(cf->path);
    free(cf->redis_name);
    free(cf->redis_host);
    free(cf->redis_password);
    free(cf->tcs_file);
    free(cf->tcs_file_text);
    free(cf->tcs_prefix);
    te_chainconf_free(cf->chain);
    free(cf);
}

static int cmp_site(const void *a, const void *b)
{
    const te_site *const *x = a, *const *y = b;

    return strcmp((*x)->name, (*y)->name);
}

/* Collects every backend into cf->backends, numbered for pool arrays. */
static int index_backends(struct parser *p)
{
    te_config *cf = p->cf;
    unsigned i, j, k, total = 0;

    for (i = 0; i < cf->nregions; i++) {
        for (j = 0; j < cf->regions[i]->nshards; j++) {
            if (__builtin_add_overflow(
                    total, cf->regions[i]->shards[j]->nbackends, &total))
                return fail(p, &p->eof, "too many backends");
        }
    }
    if (total == 0)
        return 0;
    cf->backends = calloc(total, sizeof(*cf->backends));
    if (cf->backends == NULL)
        return oom(p, &p->eof);

    for (i = 0; i < cf->nregions; i++) {
        for (j = 0; j < cf->regions[i]->nshards; j++) {
            te_shard *sh = cf->regions[i]->shards[j];
            for (k = 0; k < sh->nbackends; k++) {
                sh->backends[k]->index = cf->nbackends;
                cf->backends[cf->nbackends++] = sh->backends[k];
            }
        }
    }
    return 0;
}

/* The store's needs, once every directive is known; the tenants file is
 * read and checked here so that `tenantedge -t` names a bad one. */
static int finish_tcs(struct parser *p)
{
    const struct pos *store_at = &p->seen_at[find_directive("store") -
                                             directives];
    const struct pos *file_at = &p->seen_at[find_directive("file") -
                                            directives];
    te_config *cf = p->cf;
    char why[512];

    if (cf->tcs_prefix == NULL && (cf->tcs_prefix = strdup("tcs:")) == NULL)
        return oom(p, &p->eof);

    if (cf->tcs_store == TE_TCS_STORE_REDIS && cf->redis_host == NULL)
        return fail(p, store_at, "\"store redis\" needs a \"redis\" directive");
    if (cf->tcs_store == TE_TCS_STORE_FILE && cf->tcs_file == NULL)
        return fail(p, store_at, "\"store file\" needs a \"file\" directive");
    if (cf->tcs_store != TE_TCS_STORE_FILE && cf->tcs_file != NULL)
        return fail(p, file_at, "\"file\" is only used with \"store file\"");

    if (cf->tcs_store == TE_TCS_STORE_FILE &&
        te_tcs_file_load(cf->tcs_file, cf, &cf->tcs_file_text,
                         &cf->tcs_file_len, why, sizeof(why)) < 0)
        return fail(p, file_at, "tenants file \"%s\": %s", cf->tcs_file, why);
    return 0;
}

/* Rules over the whole configuration, then the lookup structures. */
static int finish(struct parser *p)
{
    const struct directive *rl = find_directive("client_max_request_line");
    const struct directive *hs = find_directive("client_max_header_size");
    te_config *cf = p->cf;
    unsigned i;

    if (cf->nlistens == 0)
        return fail(p, &p->eof, "no \"listen\" directive");
    if (cf->nsites > 0 && cf->domain == NULL)
        return fail(p, &p->refs[0].at,
                    "site \"%s\" needs a \"domain\" directive",
                    cf->sites[0]->name);

    for (i = 0; i < cf->nsites; i++) {
        cf->sites[i]->shard = ns_get(&p->shards, p->refs[i].shard);
        if (cf->sites[i]->shard == NULL)
            return fail(p, &p->refs[i].shard_at,
                        "unknown shard \"%s\" in site \"%s\"", p->refs[i].shard,
                        cf->sites[i]->name);
    }

    if (cf->max_request_line > cf->max_header_size) {
        const struct directive *at = p->seen[rl - directives] ? rl : hs;
        return fail(p, &p->seen_at[at - directives],
                    "client_max_request_line (%zu) exceeds "
                    "client_max_header_size (%zu)",
                    cf->max_request_line, cf->max_header_size);
    }

    if (finish_tcs(p) < 0 || index_backends(p) < 0 || finish_modules(p) < 0 ||
        finish_tls(p) < 0)
        return -1;
    if (cf->nsites > 1)
        qsort(cf->sites, cf->nsites, sizeof(*cf->sites), cmp_site);
    return 0;
}

static void parser_free(struct parser *p)
{
    unsigned i;

    for (i = 0; i < p->nnames; i++)
        free(p->names[i]);
    free(p->names);
    for (i = 0; p->refs != NULL && i < p->cf->nsites; i++)
        free(p->refs[i].shard);
    free(p->refs);
    free(p->regions.slots);
    free(p->shards.slots);
    free(p->sites.slots);
}

/* The whole load: text is the top file named name (NULL: no file, and
 * then no includes); st identifies it for include cycles when known. */
static te_config *parse_top(const char *name, const char *text, size_t len,
                            const struct stat *st, char *err, size_t errlen)
{
    const char *shown = name != NULL ? name : NO_FILE;
    struct parser p;
    struct src top;
    char *copy = NULL;

    memset(&p, 0, sizeof(p));
    p.err = err;
    p.errlen = errlen;
    p.no_include = name == NULL;
    p.cf = config_new();
    if (p.cf == NULL || (name != NULL && (p.cf->path = strdup(name)) == NULL) ||
        (copy = strdup(shown)) == NULL || keep_name(&p, copy) < 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s:1:1: out of memory", shown);
        p.failed = true;
        goto done;
    }

    src_init(&top, copy, text, len, st);
    p.src = &top;
    p.eof = here(&top);
    if (len > MAX_FILE_BYTES) {
        fail(&p, &p.eof, "larger than 1 MiB");
        goto done;
    }
    p.total = len;
    p.nfiles = 1;

    if (parse_stmts(&p, CTX_MAIN, false) == 0)
        finish(&p);

done:
    parser_free(&p);
    if (p.failed && p.cf != NULL) {
        config_free(p.cf);
        return NULL;
    }
    return p.cf;
}

te_config *te_config_parse(const char *name, const char *text, size_t len,
                           char *err, size_t errlen)
{
    struct stat st;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (text == NULL)
        len = 0;
    if (name != NULL && stat(name, &st) == 0)
        return parse_top(name, text, len, &st, err, errlen);
    return parse_top(name, text, len, NULL, err, errlen);
}

te_config *te_config_load(const char *path, char *err, size_t errlen)
{
    te_config *cf;
    struct stat st;
    char *text;
    size_t len;
    int e;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s:1:1: no file name given", NO_FILE);
        return NULL;
    }
    e = read_file(path, &text, &len, &st);
    if (e != 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s:1:1: cannot read \"%s\": %s", path, path,
                     read_error(e));
        return NULL;
    }
    cf = parse_top(path, text, len, &st, err, errlen);
    free(text);
    return cf;
}

te_config *te_config_ref(te_config *cf)
{
    if (cf != NULL)
        __atomic_add_fetch(&cf->refs, 1, __ATOMIC_RELAXED);
    return cf;
}

/* The last reference frees; acq_rel so every reader's accesses happen
 * before the free. */
void te_config_unref(te_config *cf)
{
    if (cf != NULL && __atomic_sub_fetch(&cf->refs, 1, __ATOMIC_ACQ_REL) == 0)
        config_free(cf);
}

/* Compares the length-bounded key, folded to lowercase, with a stored
 * (lowercase) name, in the byte order the sites are sorted in. */
static int cmp_key(const char *key, size_t len, const char *name)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char a = (unsigned char)lower(key[i]);
        unsigned char b = (unsigned char)name[i];
        if (b == '\0')
            return 1;
        if (a != b)
            return a < b ? -1 : 1;
    }
    return name[len] == '\0' ? 0 : -1;
}

const te_site *te_config_find_site(const te_config *cf, const char *name,
                                   size_t len)
{
    unsigned lo = 0, hi;

    if (cf == NULL || name == NULL)
        return NULL;
    hi = cf->nsites;
    /* Bounded: the range halves on every pass. */
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int c = cmp_key(name, len, cf->sites[mid]->name);
        if (c == 0)
            return cf->sites[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
