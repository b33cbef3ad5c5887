/*
 * test_http1_head.c: unit tests for src/http1_head.c, the request head a
 * backend gets: which of the client's fields pass (hop-by-hop, framing,
 * first-hop fields, internal headers, names with '_' under both settings
 * of underscores_in_headers) and the Host of an absolute-form request
 * without one.
 *
 * Each case is a raw client head, parsed by the real parser and turned
 * into a te_request as the connection does, so what is checked is the
 * head the backend would read.
 */
#define _GNU_SOURCE
#include "config.h"
#include "http1_head.h"
#include "module.h"
#include "request.h"

#include <check.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF                                                                   \
    "listen 127.0.0.1:8080;\n"                                                 \
    "domain edge.test;\n"                                                      \
    "region eu { shard eu-1 { backend 127.0.0.1:9101 zone z1; } }\n"

static char errbuf[1024];
static te_config *cf;
static te_h1_field fields[64];
static te_h1_request h1;
static te_request req;
static char out[16384];

static void teardown(void)
{
    te_config_unref(cf);
    cf = NULL;
}

/* The head the backend gets for the client head raw, under the config
 * CONF + extra; NUL-terminated in out. */
static const char *head_for(const char *extra, const char *raw)
{
    const te_h1_limits lim = {8192, 32768, 64};
    char text[1024];
    struct evbuffer *b;
    te_h1_scan s;
    size_t n;

    te_config_unref(cf);
    snprintf(text, sizeof(text), "%s%s", CONF, extra);
    cf = te_config_parse("t.conf", text, strlen(text), errbuf, sizeof(errbuf));
    ck_assert_msg(cf != NULL, "%s", errbuf);

    te_h1_scan_reset(&s);
    ck_assert_int_gt(
        te_h1_parse_request(&s, raw, strlen(raw), &lim, &h1, fields, 64), 0);

    memset(&req, 0, sizeof(req));
    req.method = h1.method;
    req.method_len = h1.method_len;
    req.method_id = h1.method_id;
    req.path = h1.path;
    req.path_len = h1.path_len;
    req.host = h1.host;
    req.host_len = h1.host_len;
    req.fields = h1.fields;
    req.nfields = h1.nfields;
    req.content_length = h1.content_length;
    req.has_content_length = h1.has_content_length;
    req.chunked = h1.chunked;
    req.client_addr = "192.0.2.7";
    req.cc = cf->chain;
    memcpy(req.id, "rid-1", 6);
    req.id_len = 5;

    b = evbuffer_new();
    ck_assert_ptr_nonnull(b);
    te_h1_head_request(b, &req);
    n = evbuffer_get_length(b);
    ck_assert_uint_lt(n, sizeof(out));
    evbuffer_remove(b, out, n);
    out[n] = '\0';
    evbuffer_free(b);
    return out;
}

/* How many lines of the head start with "name:" (ASCII case as given:
 * the edge copies names as the client spelled them). */
static int lines_named(const char *head, const char *name)
{
    size_t n = strlen(name);
    int count = 0;

    for (const char *p = strstr(head, "\r\n"); p != NULL;
         p = strstr(p + 2, "\r\n"))
        if (strncmp(p + 2, name, n) == 0 && p[2 + n] == ':')
            count++;
    return count;
}

#define ck_lines(head, name, want)                                             \
    ck_assert_msg(lines_named(head, name) == (want),                           \
                  "%d lines named %s, want %d, in:\n%s",                       \
                  lines_named(head, name), name, want, head)

/* The forged fields of the review, then their neighbours of each kind. */
#define FORGED                                                                 \
    "X_Tenant_Id: t-0002\r\n"                                                  \
    "X_Forwarded_For: 6.6.6.6\r\n"                                             \
    "Transfer_Encoding: chunked\r\n"                                           \
    "Content_Length: 5\r\n"                                                    \
    "Keep_Alive: 1\r\n"                                                        \
    "X_Real_IP: 6.6.6.6\r\n"                                                   \
    "X_Original_URL: /admin\r\n"                                               \
    "X_Request_Id: forged\r\n"                                                 \
    "X_Principal_User: root\r\n"                                               \
    "X_Custom: under\r\n"                                                      \
    "X-Custom: dash\r\n"

START_TEST(names_with_underscores_are_dropped_by_default)
{
    const char *head = head_for(
        "", "GET /wiki/ HTTP/1.1\r\nHost: acme.edge.test\r\n" FORGED "\r\n");

    ck_assert_ptr_null(strchr(head, '_'));
    ck_lines(head, "X-Custom", 1);
    ck_lines(head, "Host", 1);
    ck_lines(head, "X-Forwarded-For", 1);
    ck_assert_ptr_nonnull(strstr(head, "\r\nX-Forwarded-For: 192.0.2.7\r\n"));
    ck_assert_ptr_null(strstr(head, "chunked"));
    ck_assert_ptr_null(strstr(head, "Content-Length"));

    /* explicitly off is the same */
    head = head_for("underscores_in_headers off;\n",
                    "GET / HTTP/1.1\r\nHost: acme.edge.test\r\n" FORGED "\r\n");
    ck_assert_ptr_null(strchr(head, '_'));
}
END_TEST

/* With underscores_in_headers on, an underscored name passes unless it
 * stands for a field that is stripped: '_' is matched as '-' against
 * internal headers, first-hop, hop-by-hop and framing names. */
START_TEST(names_with_underscores_fold_when_allowed)
{
    const char *head = head_for(
        "underscores_in_headers on;\n",
        "GET / HTTP/1.1\r\nHost: acme.edge.test\r\n"
        "Connection: x_hop\r\nX-Hop: 1\r\nX_Hop2: 2\r\n" FORGED "\r\n");

    ck_lines(head, "X_Custom", 1);
    ck_lines(head, "X-Custom", 1);
    ck_lines(head, "X_Hop2", 1);
    ck_lines(head, "X-Hop", 0);
    ck_lines(head, "X_Tenant_Id", 0);
    ck_lines(head, "X_Forwarded_For", 0);
    ck_lines(head, "Transfer_Encoding", 0);
    ck_lines(head, "Content_Length", 0);
    ck_lines(head, "Keep_Alive", 0);
    ck_lines(head, "X_Real_IP", 0);
    ck_lines(head, "X_Original_URL", 0);
    ck_lines(head, "X_Request_Id", 0);
    ck_lines(head, "X_Principal_User", 0);
    ck_lines(head, "Connection", 0);
    ck_assert_ptr_nonnull(strstr(head, "\r\nX-Request-Id: rid-1\r\n"));

    /* an operator's own internal header, spelled either way */
    head = head_for("underscores_in_headers on;\n"
                    "internal_headers X-Secret_Key;\n",
                    "GET / HTTP/1.1\r\nHost: acme.edge.test\r\n"
                    "X_Secret_Key: 1\r\nX-Secret-Key: 2\r\n\r\n");
    ck_lines(head, "X_Secret_Key", 0);
    ck_lines(head, "X-Secret-Key", 0);
}
END_TEST

/* The edge is the first hop: what a proxy would have asserted about the
 * client never comes from the client. */
START_TEST(first_hop_fields_of_the_client_are_dropped)
{
    const char *head = head_for("", "GET / HTTP/1.1\r\nHost: acme.edge.test\r\n"
                                    "Forwarded: for=6.6.6.6;proto=https\r\n"
                                    "X-Real-IP: 6.6.6.6\r\n"
                                    "X-Client-IP: 6.6.6.6\r\n"
                                    "Client-IP: 6.6.6.6\r\n"
                                    "True-Client-IP: 6.6.6.6\r\n"
                                    "X-Forwarded-For: 6.6.6.6\r\n"
                                    "X-Forwarded-Port: 443\r\n"
                                    "X-Forwarded-Prefix: /admin\r\n"
                                    "X-Original-URL: /jira/secret\r\n"
                                    "X-Rewrite-URL: /jira/secret\r\n"
                                    "X-Forwarded: kept\r\n"
                                    "Accept: */*\r\n\r\n");

    ck_assert_ptr_null(strstr(head, "6.6.6.6"));
    ck_assert_ptr_null(strstr(head, "/admin"));
    ck_assert_ptr_null(strstr(head, "secret"));
    ck_lines(head, "Forwarded", 0);
    ck_lines(head, "X-Forwarded-Port", 0);
    ck_lines(head, "X-Forwarded-Prefix", 0);
    ck_lines(head, "X-Forwarded", 1);
    ck_lines(head, "Accept", 1);
    ck_lines(head, "X-Forwarded-For", 1);
    ck_lines(head, "X-Forwarded-Proto", 1);
    ck_lines(head, "X-Forwarded-Host", 1);
}
END_TEST

/* RFC 9112 3.2.2: an HTTP/1.0 absolute-form request without Host is
 * routed by its authority, and the backend gets that as Host. */
START_TEST(absolute_form_authority_becomes_the_host)
{
    const char *head =
        head_for("", "GET http://acme.edge.test/jira/a HTTP/1.0\r\n\r\n");

    ck_assert(strncmp(head, "GET /jira/a HTTP/1.1\r\n", 22) == 0);
    ck_lines(head, "Host", 1);
    ck_assert_ptr_nonnull(strstr(head, "\r\nHost: acme.edge.test\r\n"));
    ck_assert_ptr_nonnull(
        strstr(head, "\r\nX-Forwarded-Host: acme.edge.test\r\n"));

    head = head_for("", "GET http://acme.edge.test/x HTTP/1.1\r\n"
                        "Host: ACME.edge.test\r\n\r\n");
    ck_lines(head, "Host", 1);
    ck_assert_ptr_nonnull(strstr(head, "\r\nHost: ACME.edge.test\r\n"));
}
END_TEST

static Suite *head_suite(void)
{
    Suite *s = suite_create("http1_head");
    TCase *tc = tcase_create("request");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, names_with_underscores_are_dropped_by_default);
    tcase_add_test(tc, names_with_underscores_fold_when_allowed);
    tcase_add_test(tc, first_hop_fields_of_the_client_are_dropped);
    tcase_add_test(tc, absolute_form_authority_becomes_the_host);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(head_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
