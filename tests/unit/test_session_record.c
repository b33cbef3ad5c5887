/*
 * test_session_record.c: session ids and session records
 * (src/session_record.c): what is accepted, and each way a record is
 * refused, with the reason the service logs.
 */
#include "session_record.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID "s-0123456789abcdef"

static char err[256];

static te_session *parse(const char *json)
{
    err[0] = '\0';
    return te_session_parse(ID, strlen(ID), json, strlen(json), err,
                            sizeof(err));
}

/* <json> is refused with a reason that contains <why>. */
static void refused(const char *json, const char *why)
{
    te_session *s = parse(json);

    ck_assert_msg(s == NULL, "accepted: %s", json);
    ck_assert_msg(strstr(err, why) != NULL, "%s: reason \"%s\", not \"%s\"",
                  json, err, why);
    ck_assert_msg(strncmp(err, "session record: ", 16) == 0, "%s", err);
}

START_TEST(ids_charset_and_length)
{
    char max[TE_SESSION_ID_MAX + 2];

    ck_assert(te_session_id_valid(ID, strlen(ID)));
    ck_assert(te_session_id_valid("A-Z_a.z-0123456789", 18));
    ck_assert(!te_session_id_valid("short", 5));
    ck_assert(!te_session_id_valid("s-0123456789abcde", 15));
    ck_assert(te_session_id_valid("s-0123456789abcd", 16));
    ck_assert(!te_session_id_valid("s-0123456789abc/ef", 18));
    ck_assert(!te_session_id_valid("s-0123456789abc ef", 18));
    ck_assert(!te_session_id_valid("s-0123456789abc:ef", 18));
    ck_assert(!te_session_id_valid("s-0123456789abc*ef", 18));
    ck_assert(!te_session_id_valid("s-0123456789abc\"ef", 18));
    ck_assert(!te_session_id_valid("s-0123456789abc\0ef", 18));
    ck_assert(!te_session_id_valid("s-0123456789abc\xc3\xa9", 18));
    ck_assert(!te_session_id_valid(NULL, 0));

    memset(max, 'a', sizeof(max));
    ck_assert(te_session_id_valid(max, TE_SESSION_ID_MAX));
    ck_assert(!te_session_id_valid(max, TE_SESSION_ID_MAX + 1));
}
END_TEST

START_TEST(valid_record)
{
    te_session *s = parse("{\"user\":\"u-1\",\"tenant\":\"t-0001\","
                          "\"expires\":1893456000}");
    te_session *c;

    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_str_eq(s->id, ID);
    ck_assert_str_eq(s->user, "u-1");
    ck_assert_str_eq(s->tenant, "t-0001");
    ck_assert_int_eq(s->expires, 1893456000);

    c = te_session_copy(s);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_ne(c->user, s->user);
    ck_assert_str_eq(c->id, ID);
    ck_assert_str_eq(c->user, "u-1");
    ck_assert_str_eq(c->tenant, "t-0001");
    ck_assert_int_eq(c->expires, 1893456000);
    free(c);
    free(s);
}
END_TEST

START_TEST(other_members_ignored_and_expired_parses)
{
    te_session *s = parse("{\"created\":1,\"user\":\"alice@example.com\","
                          "\"ip\":\"10.0.0.1\",\"tenant\":\"t.x_1\","
                          "\"expires\":1,\"roles\":[\"a\",{\"b\":null}]}");

    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_str_eq(s->user, "alice@example.com");
    ck_assert_int_eq(s->expires, 1);
    free(s);
}
END_TEST

START_TEST(malformed_records_refused)
{
    char big[TE_SESSION_MAX_RECORD + 64], user[TE_SESSION_USER_MAX + 2];
    char json[2 * TE_SESSION_USER_MAX];
    te_session *s;

    s = te_session_parse(ID, strlen(ID), "", 0, err, sizeof(err));
    ck_assert_ptr_null(s);
    ck_assert_str_eq(err, "session record: empty");

    snprintf(big, sizeof(big),
             "{\"user\":\"u\",\"tenant\":\"t\",\"expires\":9,\"pad\":\"%*s\"}",
             TE_SESSION_MAX_RECORD, "x");
    refused(big, "over the limit of 4096");

    refused("{\"user\":\"u\"", "invalid JSON");
    refused("[\"user\",\"u\"]", "not a JSON object");
    refused("\"u\"", "invalid JSON");
    refused("{\"user\":\"u\",\"user\":\"v\",\"tenant\":\"t\",\"expires\":9}",
            "invalid JSON");
    refused("{\"user\":\"u\",\"tenant\":\"t\",\"expires\":9,"
            "\"x\":{\"a\":1,\"a\":2}}",
            "invalid JSON");

    refused("{\"tenant\":\"t\",\"expires\":9}", "user: missing");
    refused("{\"user\":7,\"tenant\":\"t\",\"expires\":9}",
            "user: not a string");
    refused("{\"user\":\"\",\"tenant\":\"t\",\"expires\":9}",
            "user: invalid value");
    refused("{\"user\":\"a b\",\"tenant\":\"t\",\"expires\":9}",
            "user: invalid value");
    refused("{\"user\":\"a\\r\\nX-Evil: 1\",\"tenant\":\"t\",\"expires\":9}",
            "user: invalid value");
    refused("{\"user\":\"a\\u0000b\",\"tenant\":\"t\",\"expires\":9}",
            "invalid JSON");
    refused("{\"user\":\"\\u00e9\",\"tenant\":\"t\",\"expires\":9}",
            "user: invalid value");
    memset(user, 'u', TE_SESSION_USER_MAX + 1);
    user[TE_SESSION_USER_MAX + 1] = '\0';
    snprintf(json, sizeof(json),
             "{\"user\":\"%s\",\"tenant\":\"t\",\"expires\":9}", user);
    refused(json, "user: invalid value");
    user[TE_SESSION_USER_MAX] = '\0';
    snprintf(json, sizeof(json),
             "{\"user\":\"%s\",\"tenant\":\"t\",\"expires\":9}", user);
    s = parse(json);
    ck_assert_msg(s != NULL, "a user of the longest length: %s", err);
    free(s);

    refused("{\"user\":\"u\",\"expires\":9}", "tenant: missing");
    refused("{\"user\":\"u\",\"tenant\":null,\"expires\":9}",
            "tenant: not a string");
    refused("{\"user\":\"u\",\"tenant\":\"-t\",\"expires\":9}",
            "tenant: invalid value");
    refused("{\"user\":\"u\",\"tenant\":\"t/1\",\"expires\":9}",
            "tenant: invalid value");

    refused("{\"user\":\"u\",\"tenant\":\"t\"}", "expires: missing");
    refused("{\"user\":\"u\",\"tenant\":\"t\",\"expires\":\"9\"}",
            "expires: not an integer");
    refused("{\"user\":\"u\",\"tenant\":\"t\",\"expires\":9.5}",
            "expires: not an integer");
    refused("{\"user\":\"u\",\"tenant\":\"t\",\"expires\":true}",
            "expires: not an integer");
    refused("{\"user\":\"u\",\"tenant\":\"t\",\"expires\":0}",
            "expires: out of range");
    refused("{\"user\":\"u\",\"tenant\":\"t\",\"expires\":-5}",
            "expires: out of range");
    refused("{\"user\":\"u\",\"tenant\":\"t\",\"expires\":253402300800}",
            "expires: out of range");
    refused("{\"user\":\"u\",\"tenant\":\"t\","
            "\"expires\":99999999999999999999999}",
            "invalid JSON");
}
END_TEST

START_TEST(reason_never_quotes_the_record)
{
    refused("{\"user\":\"secret-user-name\" \"tenant\"}", "invalid JSON");
    ck_assert_ptr_null(strstr(err, "secret"));
}
END_TEST

static Suite *session_record_suite(void)
{
    Suite *s = suite_create("session_record");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, ids_charset_and_length);
    tcase_add_test(tc, valid_record);
    tcase_add_test(tc, other_members_ignored_and_expired_parses);
    tcase_add_test(tc, malformed_records_refused);
    tcase_add_test(tc, reason_never_quotes_the_record);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(session_record_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
