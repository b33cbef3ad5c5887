/*
 * test_http1_cases.c: the hostile HTTP/1.1 inputs of tests/cases/http1/
 * run through the parser and the chunked decoder the way the proxy reads
 * a connection: a head, then its body by Content-Length or chunked, then
 * the next pipelined request, stopping at the first error. Each request
 * must get the verdict expect.tsv gives it, fed whole and byte by byte.
 *
 * The directory comes from TE_TOP_SRCDIR (set by `make check`), else the
 * current directory is taken as the top of the source tree.
 */
#include "http1_parser.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CASES    128
#define MAX_REQUESTS 8
#define MAX_FILE     (1024 * 1024)
#define CAP          100

/* A request that parsed and whose body ended; anything else is minus a
 * status, or INCOMPLETE when the bytes ran out mid-message. */
#define SERVED     0
#define INCOMPLETE 1

typedef struct http1_case {
    char file[128];
    char expected[64];
    char note[256];
} http1_case;

static http1_case cases[MAX_CASES];
static size_t ncases;
static char case_dir[4096];

static const te_h1_limits lim = {8192, 32768, 100};

/* Reads expect.tsv: "file TAB expected TAB note", '#' for comments. */
static int load_cases(void)
{
    const char *top = getenv("TE_TOP_SRCDIR");
    char path[4200];
    char line[1024];
    FILE *f;

    snprintf(case_dir, sizeof(case_dir), "%s/tests/cases/http1",
             top && *top ? top : ".");
    snprintf(path, sizeof(path), "%s/expect.tsv", case_dir);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;

    while (ncases < MAX_CASES && fgets(line, sizeof(line), f) != NULL) {
        char *file = strtok(line, "\t\n");
        char *expected = strtok(NULL, "\t\n");
        char *note = strtok(NULL, "\n");

        if (file == NULL || file[0] == '#' || expected == NULL)
            continue;
        snprintf(cases[ncases].file, sizeof(cases[ncases].file), "%s", file);
        snprintf(cases[ncases].expected, sizeof(cases[ncases].expected), "%s",
                 expected);
        snprintf(cases[ncases].note, sizeof(cases[ncases].note), "%s",
                 note ? note : "");
        ncases++;
    }
    fclose(f);
    return 0;
}

static char *read_case(const char *file, size_t *len)
{
    char path[4400];
    char *buf = malloc(MAX_FILE);
    FILE *f;

    ck_assert_ptr_nonnull(buf);
    snprintf(path, sizeof(path), "%s/%s", case_dir, file);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    *len = fread(buf, 1, MAX_FILE, f);
    ck_assert_msg(feof(f), "%s is larger than %d bytes", path, MAX_FILE);
    fclose(f);
    return buf;
}

/* Parses one head at buf[0..len), whole or one byte more per call. */
static int parse_head(const char *buf, size_t len, int bytewise,
                      te_h1_request *req, te_h1_field *fields)
{
    te_h1_scan scan;
    int rc = TE_H1_INCOMPLETE;

    te_h1_scan_reset(&scan);
    if (!bytewise)
        return te_h1_parse_request(&scan, buf, len, &lim, req, fields, CAP);
    for (size_t k = 1; k <= len && rc == TE_H1_INCOMPLETE; k++)
        rc = te_h1_parse_request(&scan, buf, k, &lim, req, fields, CAP);
    return rc;
}

/*
 * Walks a chunked body at buf[0..len), the decoder given everything or
 * one more byte at a time. Returns SERVED with *used, INCOMPLETE, or
 * minus a status.
 */
static int skip_chunked(const char *buf, size_t len, int bytewise, size_t *used)
{
    te_h1_chunked c;
    size_t pos = 0;
    size_t end = 0;

    te_h1_chunked_init(&c, 0);
    for (size_t guard = 0; guard < 2 * len + 4; guard++) {
        size_t framing;
        size_t data;
        int rc;

        if (pos == end) {
            if (end == len)
                break;
            end = bytewise ? end + 1 : len;
        }
        rc = te_h1_chunked_step(&c, buf + pos, end - pos, &framing, &data);
        if (rc < 0)
            return rc;
        ck_assert(framing + data <= end - pos);
        pos += framing + data;
        if (rc == TE_H1_CHUNK_DONE) {
            *used = pos;
            return SERVED;
        }
    }
    return INCOMPLETE;
}

/*
 * Reads requests from buf[0..len) until an error, the end of the bytes,
 * or a connection that does not persist; one verdict per request read.
 * A request that parsed must never be one of the smuggled markers.
 */
static size_t run_connection(const char *buf, size_t len, int bytewise,
                             int *verdicts)
{
    static te_h1_field fields[CAP];
    size_t pos = 0;
    size_t n = 0;

    while (pos < len && n < MAX_REQUESTS) {
        te_h1_request req;
        size_t used = 0;
        int rc = parse_head(buf + pos, len - pos, bytewise, &req, fields);

        if (rc <= 0) {
            verdicts[n++] = rc == 0 ? INCOMPLETE : rc;
            break;
        }
        ck_assert_msg(req.path_len < 9 || memcmp(req.path, "/smuggled", 9),
                      "a smuggled request parsed at offset %zu", pos);
        pos += (size_t)rc;

        if (req.chunked) {
            rc = skip_chunked(buf + pos, len - pos, bytewise, &used);
        } else if (req.has_content_length) {
            rc = req.content_length <= len - pos ? SERVED : INCOMPLETE;
            used = rc == SERVED ? (size_t)req.content_length : 0;
        } else {
            rc = SERVED;
        }
        verdicts[n++] = rc;
        if (rc != SERVED || !req.keep_alive)
            break;
        pos += used;
    }
    return n;
}

/* Does verdict v satisfy the word w of expect.tsv? */
static int verdict_matches(int v, const char *w, size_t wlen)
{
    static const int refusals[] = {-400, -413, -414, -431, -501, -505};

    if (wlen == 4 && memcmp(w, "pass", 4) == 0)
        return v == SERVED;
    if (wlen == 6 && memcmp(w, "reject", 6) == 0) {
        for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
            if (v == refusals[i])
                return 1;
        }
        return 0;
    }
    return v < 0 && -v == atoi(w);
}

static void check_verdicts(const http1_case *c, const int *v, size_t n,
                           const char *how)
{
    const char *w = c->expected;
    size_t k = 0;

    while (*w != '\0') {
        size_t wlen = strcspn(w, ",");

        ck_assert_msg(k < n, "%s (%s): request %zu was never read; want %s",
                      c->file, how, k, c->expected);
        ck_assert_msg(verdict_matches(v[k], w, wlen),
                      "%s (%s): request %zu got %d, want %.*s (%s)", c->file,
                      how, k, v[k], (int)wlen, w, c->note);
        k++;
        w += wlen;
        if (*w == ',')
            w++;
    }
    ck_assert_msg(k == n, "%s (%s): %zu requests read, %zu expected", c->file,
                  how, n, k);
}

START_TEST(case_table_is_complete)
{
    ck_assert_msg(ncases >= 49, "%zu cases in %s/expect.tsv", ncases, case_dir);
}
END_TEST

START_TEST(each_case_gets_its_expected_verdict_at_parser_level)
{
    const http1_case *c = &cases[_i];
    size_t len;
    char *buf = read_case(c->file, &len);
    int whole[MAX_REQUESTS];
    int bytes[MAX_REQUESTS];
    size_t nw = run_connection(buf, len, 0, whole);
    size_t nb = run_connection(buf, len, 1, bytes);

    check_verdicts(c, whole, nw, "whole");
    check_verdicts(c, bytes, nb, "byte by byte");
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http1_cases");
    TCase *tc = tcase_create("cases");
    SRunner *sr;
    int failed;

    if (load_cases() < 0)
        fprintf(stderr, "cannot read %s/expect.tsv\n", case_dir);

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, case_table_is_complete);
    tcase_add_loop_test(tc, each_case_gets_its_expected_verdict_at_parser_level,
                        0, (int)ncases);
    suite_add_tcase(s, tc);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
