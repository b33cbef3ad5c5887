/*
 * fuzz_http1_parser.c: libFuzzer target for src/http1_parser.c.
 *
 * The input is read as a request stream (whole, split at a point derived
 * from the data with the rest in another buffer, and one byte at a time,
 * all of which must agree), as a response head, and as a chunked body.
 * Beyond the sanitizers it checks the contract's invariants: heads fit in
 * the input, every pointer lands inside the head, the decoder never
 * claims more bytes than it was given and always makes progress.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -Iinclude \
 *       src/http1_parser.c src/path.c tests/fuzz/fuzz_http1_parser.c
 */
#include "http1_parser.h"
#include "path.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP          64
#define MAX_PIPELINE 8
#define BYTEWISE_MAX 4096

#define CHECK(x)                                                               \
    do {                                                                       \
        if (!(x)) {                                                            \
            fprintf(stderr, "invariant failed: %s (line %d)\n", #x, __LINE__); \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* A few limit sets, so that the small ones are reached by small inputs. */
static const te_h1_limits limit_sets[] = {
    {8192, 32768, 100},
    {64, 256, 8},
    {24, 48, 2},
};

/* FNV-1a: a cheap, stable function of the input to pick split points. */
static uint64_t hash(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int inside(const char *p, size_t n, const char *buf, size_t len)
{
    uintptr_t a = (uintptr_t)p;
    uintptr_t b = (uintptr_t)buf;

    return p != NULL && a >= b && a - b <= len && n <= len - (a - b);
}

static long off(const char *p, const char *buf)
{
    return p == NULL ? -1 : (long)((uintptr_t)p - (uintptr_t)buf);
}

static void check_fields(const te_h1_field *f, unsigned n, const char *buf,
                         size_t head_len)
{
    for (unsigned i = 0; i < n; i++) {
        CHECK(f[i].name_len > 0);
        CHECK(inside(f[i].name, f[i].name_len, buf, head_len));
        CHECK(inside(f[i].value, f[i].value_len, buf, head_len));
    }
}

static void check_request(const te_h1_request *r, int rc, const char *buf,
                          size_t len, const te_h1_limits *l)
{
    size_t h;

    if (rc < 0) {
        CHECK(rc == -400 || rc == -414 || rc == -417 || rc == -431 ||
              rc == -501 || rc == -505);
        return;
    }
    if (rc == 0)
        return;

    h = (size_t)rc;
    CHECK(r->head_len == h && h <= len);
    CHECK(r->nfields <= CAP && r->nfields <= l->max_fields);
    CHECK(h <= l->max_head);
    CHECK(inside(r->method, r->method_len, buf, h) && r->method_len > 0);
    CHECK(inside(r->target, r->target_len, buf, h) && r->target_len > 0);
    CHECK(inside(r->path, r->path_len, buf, h) ||
          (r->path_len == 1 && r->path[0] == '/'));
    CHECK(r->host == NULL || inside(r->host, r->host_len, buf, h));
    CHECK(r->version_minor == 1 ? r->host != NULL : r->version_minor == 0);
    CHECK(!(r->chunked && r->has_content_length));
    CHECK(buf[h - 1] == '\n' && buf[h - 2] == '\r');
    check_fields(r->fields, r->nfields, buf, h);
}

static void same_request(const te_h1_request *x, const char *xb,
                         const te_h1_request *y, const char *yb)
{
    CHECK(x->head_len == y->head_len);
    CHECK(off(x->method, xb) == off(y->method, yb));
    CHECK(x->method_len == y->method_len && x->method_id == y->method_id);
    CHECK(off(x->target, xb) == off(y->target, yb));
    CHECK(x->path_len == y->path_len);
    CHECK(off(x->host, xb) == off(y->host, yb));
    CHECK(x->host_len == y->host_len);
    CHECK(x->nfields == y->nfields);
    for (unsigned i = 0; i < x->nfields; i++) {
        CHECK(off(x->fields[i].name, xb) == off(y->fields[i].name, yb));
        CHECK(off(x->fields[i].value, xb) == off(y->fields[i].value, yb));
        CHECK(x->fields[i].value_len == y->fields[i].value_len);
    }
    CHECK(x->content_length == y->content_length);
    CHECK(x->has_content_length == y->has_content_length);
    CHECK(x->chunked == y->chunked && x->keep_alive == y->keep_alive);
    CHECK(x->expect_continue == y->expect_continue);
    CHECK(x->upgrade == y->upgrade);
}

/*
 * Runs the chunked decoder over p[0..n), given everything at once or one
 * more byte per call; returns the last result and the bytes used.
 */
static int run_chunked(const char *p, size_t n, int bytewise, size_t *used,
                       uint64_t *total)
{
    te_h1_chunked c;
    size_t pos = 0;
    size_t end = 0;
    int rc = TE_H1_CHUNK_MORE;

    te_h1_chunked_init(&c, 0);
    for (size_t guard = 0; guard < 2 * n + 4; guard++) {
        size_t framing;
        size_t data;

        if (pos == end) {
            if (end == n)
                break;
            end = bytewise ? end + 1 : n;
        }
        rc = te_h1_chunked_step(&c, p + pos, end - pos, &framing, &data);
        CHECK(framing <= end - pos && data <= end - pos - framing);
        if (rc < 0) {
            CHECK(rc == -400);
            break;
        }
        pos += framing + data;
        if (rc == TE_H1_CHUNK_DONE)
            break;
        CHECK(framing + data > 0);
    }
    CHECK(pos <= n);
    *used = pos;
    *total = c.total;
    return rc;
}

static void fuzz_chunked(const char *p, size_t n)
{
    size_t used_w;
    size_t used_b;
    uint64_t total_w;
    uint64_t total_b;
    int rc_w = run_chunked(p, n, 0, &used_w, &total_w);
    int rc_b = run_chunked(p, n, 1, &used_b, &total_b);

    CHECK(rc_w == rc_b);
    if (rc_w >= 0) {
        CHECK(used_w == used_b);
        CHECK(total_w == total_b);
        CHECK(total_w <= used_w);
    }
}

/* One request head at buf[0..len): whole, split at k, byte by byte. */
static int fuzz_one_request(const char *buf, size_t len, size_t k,
                            const te_h1_limits *l, te_h1_request *out)
{
    static te_h1_field f1[CAP];
    static te_h1_field f2[CAP];
    te_h1_request r2;
    te_h1_scan s;
    char *copy = malloc(len ? len : 1);
    const char *where = buf;
    int rc;
    int rc2;

    CHECK(copy != NULL);
    memcpy(copy, buf, len);

    te_h1_scan_reset(&s);
    rc = te_h1_parse_request(&s, buf, len, l, out, f1, CAP);
    check_request(out, rc, buf, len, l);

    if (k > len)
        k = len;
    te_h1_scan_reset(&s);
    rc2 = te_h1_parse_request(&s, buf, k, l, &r2, f2, CAP);
    if (rc2 == TE_H1_INCOMPLETE) {
        where = copy;
        rc2 = te_h1_parse_request(&s, copy, len, l, &r2, f2, CAP);
    }
    CHECK(rc2 == rc);
    if (rc > 0)
        same_request(out, buf, &r2, where);

    if (len <= BYTEWISE_MAX) {
        te_h1_scan_reset(&s);
        rc2 = te_h1_parse_request(&s, copy, 0, l, &r2, f2, CAP);
        for (size_t i = 1; i <= len && rc2 == TE_H1_INCOMPLETE; i++)
            rc2 = te_h1_parse_request(&s, copy, i, l, &r2, f2, CAP);
        CHECK(rc2 == rc);
        if (rc > 0)
            same_request(out, buf, &r2, copy);
    }

    free(copy);
    return rc;
}

/* Reads the input as a connection: heads, bodies, pipelined heads. */
static void fuzz_requests(const char *buf, size_t len, uint64_t h)
{
    const te_h1_limits *l = &limit_sets[(h >> 8) % 3];
    size_t pos = 0;

    for (int n = 0; n < MAX_PIPELINE && pos < len; n++) {
        te_h1_request req;
        size_t k = (size_t)(h % (len - pos + 1));
        int rc = fuzz_one_request(buf + pos, len - pos, k, l, &req);
        size_t used;
        uint64_t total;

        if (rc <= 0)
            return;
        pos += (size_t)rc;

        if (req.chunked) {
            rc = run_chunked(buf + pos, len - pos, 0, &used, &total);
            if (rc != TE_H1_CHUNK_DONE)
                return;
            pos += used;
        } else if (req.has_content_length) {
            if (req.content_length > len - pos)
                return;
            pos += (size_t)req.content_length;
        }
        h = h * 31 + 7;
    }
}

static void fuzz_response(const char *buf, size_t len, uint64_t h)
{
    static te_h1_field f1[CAP];
    static te_h1_field f2[CAP];
    static const int methods[] = {TE_H1_GET, TE_H1_HEAD, TE_H1_POST,
                                  TE_H1_CONNECT};
    const te_h1_limits *l = &limit_sets[(h >> 16) % 3];
    int method = methods[(h >> 24) % 4];
    size_t k = (size_t)((h >> 32) % (len + 1));
    te_h1_response r1;
    te_h1_response r2;
    te_h1_scan s;
    int rc;
    int rc2;

    te_h1_scan_reset(&s);
    rc = te_h1_parse_response(&s, buf, len, l, method, &r1, f1, CAP);
    if (rc > 0) {
        size_t hl = (size_t)rc;

        CHECK(r1.head_len == hl && hl <= len && hl <= l->max_head);
        CHECK(r1.status >= 100 && r1.status <= 599);
        CHECK(inside(r1.reason, r1.reason_len, buf, hl));
        CHECK(r1.nfields <= CAP && r1.nfields <= l->max_fields);
        CHECK(!(r1.chunked && r1.has_content_length));
        check_fields(r1.fields, r1.nfields, buf, hl);
        if (!te_h1_response_has_body(method, r1.status))
            CHECK(!r1.chunked && !r1.has_content_length);
    }

    te_h1_scan_reset(&s);
    rc2 = te_h1_parse_response(&s, buf, k, l, method, &r2, f2, CAP);
    if (rc2 == TE_H1_INCOMPLETE)
        rc2 = te_h1_parse_response(&s, buf, len, l, method, &r2, f2, CAP);
    CHECK(rc2 == rc);
    if (rc > 0) {
        CHECK(r2.status == r1.status && r2.nfields == r1.nfields);
        CHECK(r2.keep_alive == r1.keep_alive && r2.chunked == r1.chunked);
        CHECK(r2.content_length == r1.content_length);
    }
}

/* te_h1_hop_match and te_h1_find on whatever fields parsed; the path
 * of an accepted origin-form target is always te_path_is_safe. */
static void fuzz_lookups(const char *buf, size_t len)
{
    static te_h1_field f[CAP];
    te_h1_request req;
    te_h1_scan s;
    te_h1_hop hop;
    const te_h1_limits l = {8192, 32768, CAP};

    te_h1_scan_reset(&s);
    if (te_h1_parse_request(&s, buf, len, &l, &req, f, CAP) <= 0)
        return;
    te_h1_hop_init(&hop, f, req.nfields, (int)(len & 1));
    CHECK(hop.nopt <= TE_H1_MAX_CONN_OPTIONS);
    for (unsigned i = 0; i < req.nfields; i++)
        (void)te_h1_hop_match(&hop, f[i].name, f[i].name_len);
    CHECK(req.host == NULL || te_h1_find(f, req.nfields, "host") != NULL ||
          req.target[0] != '/');
    CHECK(req.path[0] == '*' || te_path_is_safe(req.path, req.path_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, so that reads past the end trip ASan. */
    char *buf = malloc(size ? size : 1);
    uint64_t h = hash(data, size);

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);

    fuzz_requests(buf, size, h);
    fuzz_response(buf, size, h);
    fuzz_chunked(buf, size);
    fuzz_lookups(buf, size);

    free(buf);
    return 0;
}
