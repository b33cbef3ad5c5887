/*
 * test_h2_head.c: unit tests for src/h2_head.c, the conversion of heads
 * between HTTP/2 and the edge's HTTP/1.1 model: a request's header list
 * (what nghttp2's on_header calls deliver) into a te_request, with our
 * own header list budget, host against :authority, the HTTP/1.1 rules
 * for method, path and authority, and cookies joined; a backend's
 * response head, or an answer, into an HTTP/2 header list.
 *
 * Each request case is a header list as nghttp2 would hand it over
 * (lower-case names, pseudo-fields first); what is checked is the
 * status te_h2_head_finish gives and the te_request it fills.
 */
#define _GNU_SOURCE
#include "h2_head.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http1_head.h"

#define CAP 8

static te_arena arena;
static te_h1_field fields[CAP];
static te_h2_head head;
static te_request req;

static void setup(void)
{
    te_arena_init(&arena);
    memset(&req, 0, sizeof(req));
    te_h2_head_init(&head, fields, CAP, 4096);
}

static void teardown(void)
{
    te_arena_free(&arena);
}

/* A fresh case inside a test. */
static void again(void)
{
    teardown();
    setup();
}

/* Add name/value pairs, NULL-terminated. */
static void add(const char *name, ...)
{
    va_list ap;

    va_start(ap, name);
    for (const char *n = name; n != NULL; n = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);

        ck_assert_int_eq(
            te_h2_head_add(&head, &arena, n, strlen(n), v, strlen(v)), 0);
    }
    va_end(ap);
}

/* A GET of path at authority, plus more pairs. */
static void get(const char *path, const char *authority)
{
    add(":method", "GET", ":scheme", "https", ":authority", authority, ":path",
        path, NULL);
}

static int finish(void)
{
    return te_h2_head_finish(&head, &arena, 8192, &req);
}

static const te_h1_field *field(const char *name)
{
    return te_h1_find(req.fields, req.nfields, name);
}

static int span_is(const char *p, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* --------------------------------------------------------- requests -- */

START_TEST(a_plain_get_fills_the_request)
{
    get("/jira/x?y=1", "acme.edge.test");
    add("accept", "*/*", "x-request-id", "abc", NULL);
    ck_assert_int_eq(finish(), 0);
    ck_assert(span_is(req.method, req.method_len, "GET"));
    ck_assert_int_eq(req.method_id, TE_H1_GET);
    ck_assert(span_is(req.path, req.path_len, "/jira/x?y=1"));
    ck_assert(span_is(req.host, req.host_len, "acme.edge.test"));
    ck_assert_uint_eq(req.nfields, 2);
    ck_assert_ptr_nonnull(field("accept"));
    ck_assert(!req.has_content_length && !req.chunked);
}
END_TEST

START_TEST(split_cookies_are_joined_into_one_field)
{
    get("/", "acme.edge.test");
    add("cookie", "a=1", "accept", "*/*", "cookie", "b=2", "cookie", "",
        "cookie", "c=3", NULL);
    ck_assert_int_eq(finish(), 0);
    ck_assert_uint_eq(req.nfields, 2);
    ck_assert(span_is(field("cookie")->value, field("cookie")->value_len,
                      "a=1; b=2; c=3"));
}
END_TEST

START_TEST(host_must_name_the_authority)
{
    get("/", "acme.edge.test");
    add("host", "ACME.edge.TEST", NULL);
    ck_assert_int_eq(finish(), 0);
    ck_assert(span_is(req.host, req.host_len, "acme.edge.test"));
    ck_assert_ptr_null(field("host")); /* Host is written from r->host */

    again();
    get("/", "acme.edge.test");
    add("host", "evil.edge.test", NULL);
    ck_assert_int_eq(finish(), 400);

    again();
    get("/", "acme.edge.test");
    add("host", "acme.edge.test:8443", NULL);
    ck_assert_int_eq(finish(), 400);
}
END_TEST

START_TEST(host_stands_in_for_a_missing_authority)
{
    add(":method", "GET", ":scheme", "https", ":path", "/", "host",
        "acme.edge.test", NULL);
    ck_assert_int_eq(finish(), 0);
    ck_assert(span_is(req.host, req.host_len, "acme.edge.test"));

    again();
    add(":method", "GET", ":scheme", "https", ":path", "/", NULL);
    ck_assert_int_eq(finish(), 400);

    again();
    add(":method", "GET", ":scheme", "https", ":path", "/", "host", "a", "host",
        "a", NULL);
    ck_assert_int_eq(finish(), 400);
}
END_TEST

START_TEST(authority_follows_the_http1_host_rules)
{
    static const char *const bad[] = {
        "user@acme.edge.test",  "user:pw@acme.edge.test", "acme.edge.test:",
        "acme.edge.test:99999", "acme.edge.test:8x",      "[::1",
        "acme edge.test",       "acme.edge.test%00",      "",
    };
    static const char *const good[] = {
        "acme.edge.test",
        "acme.edge.test:8443",
        "[::1]:443",
        "127.0.0.1",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        again();
        get("/", bad[i]);
        ck_assert_msg(finish() == 400, "\"%s\" was allowed", bad[i]);
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        again();
        get("/", good[i]);
        ck_assert_msg(finish() == 0, "\"%s\" was refused", good[i]);
    }
}
END_TEST

START_TEST(path_follows_the_http1_target_rules)
{
    static const char *const bad[] = {
        "/wiki/../jira", "/%2e%2e/jira", "/a/./b",
        "/a#frag",       "/a%00b",       "/a\\..\\b",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        again();
        get(bad[i], "acme.edge.test");
        ck_assert_msg(finish() == 400, "\"%s\" was allowed", bad[i]);
    }

    again();
    add(":method", "OPTIONS", ":scheme", "https", ":authority", "a", ":path",
        "*", NULL);
    ck_assert_int_eq(finish(), 0);
    ck_assert_int_eq(req.method_id, TE_H1_OPTIONS);

    again();
    get("*", "a");
    ck_assert_int_eq(finish(), 400);
}
END_TEST

START_TEST(a_path_over_the_request_line_limit_is_414)
{
    char path[9000];

    memset(path, 'a', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    te_h2_head_init(&head, fields, CAP, 65536);
    get(path, "acme.edge.test");
    ck_assert_int_eq(finish(), 414);
}
END_TEST

START_TEST(connect_and_missing_pseudo_fields)
{
    add(":method", "CONNECT", ":authority", "acme.edge.test:443", NULL);
    ck_assert_int_eq(finish(), 501);

    again();
    add(":scheme", "https", ":authority", "a", ":path", "/", NULL);
    ck_assert_int_eq(finish(), 400);

    again();
    add(":method", "GET", ":scheme", "https", ":authority", "a", NULL);
    ck_assert_int_eq(finish(), 400);

    again();
    add(":method", "GET", ":protocol", "websocket", ":authority", "a", ":path",
        "/", NULL);
    ck_assert_int_eq(finish(), 400);
}
END_TEST

START_TEST(the_header_list_budget_is_ours)
{
    char big[1024];

    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    get("/", "acme.edge.test");
    /* 4096: the pseudo-fields and three of these fit, four do not */
    add("x-a", big, "x-b", big, "x-c", big, NULL);
    ck_assert_int_eq(head.status, 0);
    add("x-d", big, NULL);
    ck_assert_int_eq(head.status, 431);
    ck_assert_uint_eq(head.nfields, 3); /* nothing more kept */
    ck_assert_int_eq(finish(), 431);
}
END_TEST

START_TEST(more_fields_than_the_array_is_431)
{
    get("/", "acme.edge.test");
    for (int i = 0; i < CAP; i++)
        add("x-f", "1", NULL);
    ck_assert_int_eq(head.status, 0);
    add("x-f", "1", NULL);
    ck_assert_int_eq(finish(), 431);

    /* the joined cookie needs a slot too */
    again();
    get("/", "acme.edge.test");
    for (int i = 0; i < CAP; i++)
        add("x-f", "1", NULL);
    add("cookie", "a=1", NULL);
    ck_assert_int_eq(finish(), 431);
}
END_TEST

START_TEST(content_length_is_read)
{
    add(":method", "POST", ":scheme", "https", ":authority", "a", ":path", "/",
        "content-length", "1234", NULL);
    ck_assert_int_eq(finish(), 0);
    ck_assert(req.has_content_length);
    ck_assert_uint_eq(req.content_length, 1234);

    again();
    add(":method", "POST", ":scheme", "https", ":authority", "a", ":path", "/",
        "content-length", "99999999999999999999999", NULL);
    ck_assert_int_eq(finish(), 400);
}
END_TEST

/* -------------------------------------------------------- responses -- */

/* The value of name in nv[0..n), NUL-terminated in a static buffer;
 * NULL when absent. */
static const char *nv_get(const nghttp2_nv *nv, size_t n, const char *name)
{
    static char v[256];

    for (size_t i = 0; i < n; i++) {
        if (nv[i].namelen == strlen(name) &&
            memcmp(nv[i].name, name, nv[i].namelen) == 0) {
            snprintf(v, sizeof(v), "%.*s", (int)nv[i].valuelen,
                     (const char *)nv[i].value);
            return v;
        }
    }
    return NULL;
}

static te_h1_field f(const char *name, const char *value)
{
    te_h1_field x = {name, strlen(name), value, strlen(value)};

    return x;
}

START_TEST(the_response_head_loses_hop_by_hop_fields)
{
    te_h1_field rf[] = {
        f("Content-Type", "text/plain"),
        f("Connection", "close, X-Hop"),
        f("Keep-Alive", "timeout=5"),
        f("X-Hop", "1"),
        f("Transfer-Encoding", "chunked"),
        f("Upgrade", "h2c"),
        f("TE", "trailers"),
        f("Proxy-Connection", "x"),
        f("X-Request-Id", "theirs"),
        f("Content-Length", "12"),
        f("Set-Cookie", "a=1"),
    };
    te_h1_response res = {.status = 201, .fields = rf, .nfields = 11};
    te_field_add add1 = {NULL, "X-Added", "yes", 7, 3};
    nghttp2_nv *nv;
    size_t n;

    strcpy(req.id, "ours");
    req.id_len = 4;
    req.resp_add = &add1;
    nv = te_h2_response_nv(&arena, &res, &req, "max-age=60", &n);
    ck_assert_ptr_nonnull(nv);
    ck_assert_uint_eq(n, 7);
    ck_assert(nv[0].namelen == 7 && memcmp(nv[0].name, ":status", 7) == 0);
    ck_assert_str_eq(nv_get(nv, n, ":status"), "201");
    ck_assert_str_eq(nv_get(nv, n, "content-type"), "text/plain");
    ck_assert_str_eq(nv_get(nv, n, "content-length"), "12");
    ck_assert_str_eq(nv_get(nv, n, "set-cookie"), "a=1");
    ck_assert_str_eq(nv_get(nv, n, "x-request-id"), "ours");
    ck_assert_str_eq(nv_get(nv, n, "x-added"), "yes");
    ck_assert_str_eq(nv_get(nv, n, "strict-transport-security"), "max-age=60");
    for (const char *const *h =
             (const char *const[]){"connection", "keep-alive", "x-hop",
                                   "transfer-encoding", "upgrade", "te",
                                   "proxy-connection", NULL};
         *h != NULL; h++)
        ck_assert_msg(nv_get(nv, n, *h) == NULL, "%s passed", *h);
}
END_TEST

START_TEST(an_answer_has_length_type_and_id)
{
    te_field_add add1 = {NULL, "Retry-After", "5", 11, 1};
    nghttp2_nv *nv;
    size_t n;

    strcpy(req.id, "id1");
    req.id_len = 3;
    req.resp_add = &add1;
    nv =
        te_h2_answer_nv(&arena, &req, 503, "application/json", 42, 1, NULL, &n);
    ck_assert_ptr_nonnull(nv);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(nv_get(nv, n, ":status"), "503");
    ck_assert_str_eq(nv_get(nv, n, "content-type"), "application/json");
    ck_assert_str_eq(nv_get(nv, n, "content-length"), "42");
    ck_assert_str_eq(nv_get(nv, n, "x-request-id"), "id1");
    ck_assert_str_eq(nv_get(nv, n, "retry-after"), "5");

    /* RFC 9110 8.6: no content-length on 204 and 304; edge errors
     * leave the modules' fields out */
    nv = te_h2_answer_nv(&arena, &req, 204, NULL, 0, 0, NULL, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_ptr_null(nv_get(nv, n, "content-length"));
    ck_assert_ptr_null(nv_get(nv, n, "retry-after"));
}
END_TEST

START_TEST(error_bodies_are_the_http1_ones)
{
    struct evbuffer *b = evbuffer_new();
    char body[TE_ERROR_JSON_MAX];
    size_t n;
    char *h1;
    size_t h1len;

    n = te_error_json(431, "req-1", body, sizeof(body));
    ck_assert_uint_gt(n, 0);
    te_h1_write_error(b, 431, "req-1", "max-age=60");
    h1len = evbuffer_get_length(b);
    h1 = (char *)evbuffer_pullup(b, -1);
    ck_assert(h1len > n && memcmp(h1 + h1len - n, body, n) == 0);
    ck_assert(memmem(body, n, "\"request_id\":\"req-1\"", 20) != NULL);
    ck_assert(memmem(h1, h1len, "\r\nStrict-Transport-Security: "
                                "max-age=60\r\n", 41) != NULL);
    evbuffer_drain(b, h1len);

    te_h1_write_error(b, 431, "req-1", NULL);
    h1len = evbuffer_get_length(b);
    h1 = (char *)evbuffer_pullup(b, -1);
    ck_assert(memmem(h1, h1len, "Strict-Transport", 16) == NULL);
    evbuffer_free(b);

    ck_assert_uint_eq(te_error_json(400, "x", body, 8), 0);
}
END_TEST

static Suite *h2_head_suite(void)
{
    Suite *s = suite_create("h2_head");
    TCase *tq = tcase_create("request");
    TCase *tr = tcase_create("response");

    tcase_add_checked_fixture(tq, setup, teardown);
    tcase_add_test(tq, a_plain_get_fills_the_request);
    tcase_add_test(tq, split_cookies_are_joined_into_one_field);
    tcase_add_test(tq, host_must_name_the_authority);
    tcase_add_test(tq, host_stands_in_for_a_missing_authority);
    tcase_add_test(tq, authority_follows_the_http1_host_rules);
    tcase_add_test(tq, path_follows_the_http1_target_rules);
    tcase_add_test(tq, a_path_over_the_request_line_limit_is_414);
    tcase_add_test(tq, connect_and_missing_pseudo_fields);
    tcase_add_test(tq, the_header_list_budget_is_ours);
    tcase_add_test(tq, more_fields_than_the_array_is_431);
    tcase_add_test(tq, content_length_is_read);
    suite_add_tcase(s, tq);

    tcase_add_checked_fixture(tr, setup, teardown);
    tcase_add_test(tr, the_response_head_loses_hop_by_hop_fields);
    tcase_add_test(tr, an_answer_has_length_type_and_id);
    tcase_add_test(tr, error_bodies_are_the_http1_ones);
    suite_add_tcase(s, tr);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(h2_head_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
