/*
 * test_config.c: the configuration loader, src/config.c.
 *
 * Every error the loader can report is provoked here and its full text,
 * file:line:col included, is compared, because operators and the
 * integration tests rely on those positions. Valid files are checked down
 * to the snapshot they build.
 */
#define _GNU_SOURCE
#include "config.h"
#include "log.h"

#include <arpa/inet.h>
#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LISTEN "listen 127.0.0.1:8080;\n"

static const char example[] = "workers 2;\n"
                              "listen 127.0.0.1:8080;\n"
                              "zone z1;\n"
                              "domain edge.test;\n"
                              "region eu { shard eu-1 { backend "
                              "127.0.0.1:9101 zone z1; } }\n"
                              "region us { shard us-1 { backend "
                              "127.0.0.1:9201 zone z1; } }\n"
                              "site acme shard eu-1;\n"
                              "site globex shard us-1;\n";

static char errbuf[1024];

static te_config *parse(const char *text)
{
    return te_config_parse("t.conf", text, strlen(text), errbuf,
                           sizeof(errbuf));
}

/* text must fail with exactly msg. */
static void expect_error(const char *text, const char *msg)
{
    te_config *cf = parse(text);

    ck_assert_msg(cf == NULL, "accepted: %s", text);
    ck_assert_str_eq(errbuf, msg);
}

/* ---- temporary files ---- */

static char tmpdir[64];

static void tmp_setup(void)
{
    strcpy(tmpdir, "/tmp/te-config-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void tmp_teardown(void)
{
    nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes text to tmpdir/name and returns the full path (static buffer). */
static const char *put(const char *name, const char *text)
{
    static char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static te_config *load(const char *name)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    return te_config_load(path, errbuf, sizeof(errbuf));
}

/* Expects tmpdir/name to fail with "<tmpdir>/<where>: <msg>". */
static void expect_load_error(const char *name, const char *where,
                              const char *msg)
{
    char want[2048];
    te_config *cf = load(name);

    ck_assert_ptr_null(cf);
    snprintf(want, sizeof(want), "%s/%s: %s", tmpdir, where, msg);
    ck_assert_str_eq(errbuf, want);
}

/* ---- valid files ---- */

START_TEST(example_loads)
{
    te_config *cf = parse(example);
    const te_site *s;

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(cf->workers, 2);
    ck_assert_uint_eq(cf->nlistens, 1);
    ck_assert_str_eq(cf->listens[0].name, "127.0.0.1:8080");
    ck_assert_str_eq(cf->zone, "z1");
    ck_assert_str_eq(cf->domain, "edge.test");
    ck_assert_str_eq(cf->path, "t.conf");
    ck_assert_int_eq(cf->refs, 1);

    s = te_config_find_site(cf, "acme", 4);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->tenant_id, "acme");
    ck_assert_str_eq(s->shard->name, "eu-1");
    ck_assert_str_eq(s->shard->region->name, "eu");
    ck_assert_str_eq(s->shard->backends[0]->name, "127.0.0.1:9101");
    ck_assert_str_eq(s->shard->backends[0]->zone, "z1");

    s = te_config_find_site(cf, "globex", 6);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->shard->region->name, "us");
    te_config_unref(cf);
}
END_TEST

START_TEST(defaults_as_documented)
{
    te_config *cf = parse(LISTEN);

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(cf->workers, 1);
    ck_assert_int_eq(cf->log_level, TE_LOG_INFO);
    ck_assert_ptr_null(cf->zone);
    ck_assert_ptr_null(cf->domain);
    ck_assert_uint_eq(cf->nregions, 0);
    ck_assert_uint_eq(cf->nbackends, 0);
    ck_assert_uint_eq(cf->nsites, 0);
    ck_assert_uint_eq(cf->max_request_line, 8 * 1024);
    ck_assert_uint_eq(cf->max_header_size, 32 * 1024);
    ck_assert_uint_eq(cf->max_headers, 100);
    ck_assert_uint_eq(cf->max_body_size, 16 * 1024 * 1024);
    ck_assert_uint_eq(cf->header_timeout, 10000);
    ck_assert_uint_eq(cf->body_timeout, 30000);
    ck_assert_uint_eq(cf->keepalive_timeout, 60000);
    ck_assert_uint_eq(cf->send_timeout, 30000);
    ck_assert_uint_eq(cf->upstream_connect_timeout, 3000);
    ck_assert_uint_eq(cf->upstream_send_timeout, 30000);
    ck_assert_uint_eq(cf->upstream_read_timeout, 60000);
    ck_assert_uint_eq(cf->upstream_keepalive, 32);
    ck_assert_uint_eq(cf->upstream_keepalive_timeout, 60000);
    ck_assert_uint_eq(cf->buffer_size, 64 * 1024);
    ck_assert_uint_eq(cf->drain_timeout, 10000);
    te_config_unref(cf);
}
END_TEST

START_TEST(every_value_directive_sets_its_field)
{
    te_config *cf = parse(LISTEN "log_level warn;\n"
                                 "client_max_request_line 1k;\n"
                                 "client_max_header_size 2K;\n"
                                 "client_max_headers 7;\n"
                                 "client_max_body_size 1g;\n"
                                 "client_header_timeout 250ms;\n"
                                 "client_body_timeout 2;\n"
                                 "keepalive_timeout 1m;\n"
                                 "send_timeout 1h;\n"
                                 "upstream_connect_timeout 1ms;\n"
                                 "upstream_send_timeout 3s;\n"
                                 "upstream_read_timeout 4s;\n"
                                 "upstream_keepalive 0;\n"
                                 "upstream_keepalive_timeout 5s;\n"
                                 "buffer_size 4k;\n"
                                 "drain_timeout 6s;\n");

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_int_eq(cf->log_level, TE_LOG_WARN);
    ck_assert_uint_eq(cf->max_request_line, 1024);
    ck_assert_uint_eq(cf->max_header_size, 2048);
    ck_assert_uint_eq(cf->max_headers, 7);
    ck_assert_uint_eq(cf->max_body_size, 1024 * 1024 * 1024);
    ck_assert_uint_eq(cf->header_timeout, 250);
    ck_assert_uint_eq(cf->body_timeout, 2000);
    ck_assert_uint_eq(cf->keepalive_timeout, 60000);
    ck_assert_uint_eq(cf->send_timeout, 3600000);
    ck_assert_uint_eq(cf->upstream_connect_timeout, 1);
    ck_assert_uint_eq(cf->upstream_send_timeout, 3000);
    ck_assert_uint_eq(cf->upstream_read_timeout, 4000);
    ck_assert_uint_eq(cf->upstream_keepalive, 0);
    ck_assert_uint_eq(cf->upstream_keepalive_timeout, 5000);
    ck_assert_uint_eq(cf->buffer_size, 4096);
    ck_assert_uint_eq(cf->drain_timeout, 6000);
    te_config_unref(cf);
}
END_TEST

START_TEST(range_edges_accepted)
{
    te_config *cf = parse(LISTEN "workers 256;\n"
                                 "client_max_request_line 256;\n"
                                 "client_max_header_size 1m;\n"
                                 "client_max_headers 10000;\n"
                                 "client_max_body_size 0;\n"
                                 "buffer_size 16m;\n"
                                 "upstream_keepalive 10000;\n"
                                 "drain_timeout 4294967295ms;\n");

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(cf->workers, 256);
    ck_assert_uint_eq(cf->max_request_line, 256);
    ck_assert_uint_eq(cf->max_header_size, 1024 * 1024);
    ck_assert_uint_eq(cf->max_body_size, 0);
    ck_assert_uint_eq(cf->buffer_size, 16 * 1024 * 1024);
    ck_assert_uint_eq(cf->drain_timeout, 4294967295u);
    te_config_unref(cf);
}
END_TEST

START_TEST(workers_auto_is_cpu_count)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    te_config *cf = parse(LISTEN "workers auto;\n");

    ck_assert_msg(cf != NULL, "%s", errbuf);
    if (cpus < 1)
        cpus = 1;
    if (cpus > 256)
        cpus = 256;
    ck_assert_uint_eq(cf->workers, (unsigned)cpus);
    te_config_unref(cf);
}
END_TEST

START_TEST(listen_ipv4_and_ipv6)
{
    te_config *cf = parse("listen 127.0.0.1:8080;\n"
                          "listen [::1]:8080;\n"
                          "listen 127.0.0.1:8081;\n");
    const struct sockaddr_in *sin;
    const struct sockaddr_in6 *sin6;

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(cf->nlistens, 3);
    sin = (const struct sockaddr_in *)&cf->listens[0].addr;
    ck_assert_int_eq(sin->sin_family, AF_INET);
    ck_assert_uint_eq(ntohs(sin->sin_port), 8080);
    ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0x7f000001);
    ck_assert_uint_eq(cf->listens[0].addrlen, sizeof(*sin));
    sin6 = (const struct sockaddr_in6 *)&cf->listens[1].addr;
    ck_assert_int_eq(sin6->sin6_family, AF_INET6);
    ck_assert_uint_eq(ntohs(sin6->sin6_port), 8080);
    ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
    ck_assert_uint_eq(cf->listens[1].addrlen, sizeof(*sin6));
    ck_assert_str_eq(cf->listens[1].name, "[::1]:8080");
    te_config_unref(cf);
}
END_TEST

START_TEST(snapshot_links_and_indexes)
{
    te_config *cf = parse(LISTEN "domain d.test;\n"
                                 "region r1 {\n"
                                 "  shard a { backend 10.0.0.1:1; "
                                 "backend 10.0.0.2:1 zone x; }\n"
                                 "  shard b { backend [::1]:2; }\n"
                                 "}\n"
                                 "region r2 { shard c { backend "
                                 "10.0.0.1:1; } }\n"
                                 "site s shard c;\n");
    unsigned i;

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(cf->nregions, 2);
    ck_assert_uint_eq(cf->regions[0]->nshards, 2);
    ck_assert_uint_eq(cf->regions[1]->nshards, 1);
    ck_assert_uint_eq(cf->nbackends, 4);
    for (i = 0; i < cf->nbackends; i++) {
        te_backend *b = cf->backends[i];
        ck_assert_uint_eq(b->index, i);
        ck_assert_ptr_nonnull(b->shard);
        ck_assert_ptr_nonnull(b->shard->region);
    }
    ck_assert_ptr_eq(cf->regions[0]->shards[1]->region, cf->regions[0]);
    ck_assert_ptr_eq(cf->backends[1]->shard, cf->regions[0]->shards[0]);
    ck_assert_ptr_null(cf->backends[0]->zone);
    ck_assert_str_eq(cf->backends[1]->zone, "x");
    ck_assert_str_eq(cf->backends[2]->name, "[::1]:2");
    ck_assert_str_eq(cf->backends[3]->shard->name, "c");
    ck_assert_ptr_eq(cf->sites[0]->shard, cf->regions[1]->shards[0]);
    te_config_unref(cf);
}
END_TEST

START_TEST(sites_sorted_found_case_insensitively)
{
    te_config *cf = parse(LISTEN "domain Edge.TEST;\n"
                                 "region r { shard s1 { backend "
                                 "127.0.0.1:1; } }\n"
                                 "site zeta shard s1;\n"
                                 "site Alpha shard s1 id T-1;\n"
                                 "site mid-1 shard s1;\n"
                                 "site b shard s1;\n");
    const te_site *s;

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_str_eq(cf->domain, "edge.test");
    ck_assert_uint_eq(cf->nsites, 4);
    ck_assert_str_eq(cf->sites[0]->name, "alpha");
    ck_assert_str_eq(cf->sites[1]->name, "b");
    ck_assert_str_eq(cf->sites[2]->name, "mid-1");
    ck_assert_str_eq(cf->sites[3]->name, "zeta");

    s = te_config_find_site(cf, "ALPHA", 5);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->tenant_id, "T-1");
    ck_assert_ptr_eq(te_config_find_site(cf, "Zeta.edge.test", 4),
                     cf->sites[3]);
    ck_assert_ptr_eq(te_config_find_site(cf, "mId-1", 5), cf->sites[2]);
    ck_assert_ptr_eq(te_config_find_site(cf, "bb", 1), cf->sites[1]);
    ck_assert_ptr_null(te_config_find_site(cf, "bb", 2));
    ck_assert_ptr_null(te_config_find_site(cf, "alph", 4));
    ck_assert_ptr_null(te_config_find_site(cf, "", 0));
    ck_assert_ptr_null(te_config_find_site(cf, "nope", 4));
    ck_assert_ptr_null(te_config_find_site(NULL, "b", 1));
    te_config_unref(cf);
}
END_TEST

START_TEST(find_site_in_many)
{
    char *text = malloc(64 * 1024), name[16];
    size_t off;
    te_config *cf;
    int i;

    ck_assert_ptr_nonnull(text);
    off = (size_t)sprintf(text, LISTEN "domain d.test;\n"
                                       "region r { shard s { backend "
                                       "127.0.0.1:1; } }\n");
    for (i = 999; i >= 0; i--)
        off += (size_t)sprintf(text + off, "site s%d shard s;\n", i);
    cf = parse(text);
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(cf->nsites, 1000);
    for (i = 0; i < 1000; i++) {
        int n = sprintf(name, "S%d", i);
        const te_site *s = te_config_find_site(cf, name, (size_t)n);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_eq(s->name + 1, name + 1);
    }
    te_config_unref(cf);
    free(text);
}
END_TEST

START_TEST(syntax_comments_quotes_and_blanks)
{
    te_config *cf = parse("# leading comment\n"
                          "\"listen\" \"127.0.0.1:8080\"; # trailing\n"
                          "zone\t\"a\\\\b\"\r\n"
                          "  ;\n"
                          "domain\n  d.test\n;\n"
                          "region r{shard s{backend 127.0.0.1:1;}}"
                          "site x#y shard s;\n"
                          "id#x;\n");

    ck_assert_ptr_null(cf);
    ck_assert_str_eq(errbuf, "t.conf:3:6: invalid zone name \"a\\b\"");

    cf = parse("# leading comment\n"
               "\"listen\" \"127.0.0.1:8080\"; # trailing\n"
               "zone\t\"a-b\"\r\n"
               "  ;\n"
               "domain\n  d.test\n;\n"
               "region r{shard s{backend 127.0.0.1:1;}}"
               "site x shard s id \"t.1\";# no newline at the end");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_str_eq(cf->zone, "a-b");
    ck_assert_str_eq(cf->domain, "d.test");
    ck_assert_str_eq(cf->sites[0]->tenant_id, "t.1");
    te_config_unref(cf);
}
END_TEST

START_TEST(refcounting)
{
    te_config *cf = parse(example);

    ck_assert_ptr_nonnull(cf);
    ck_assert_ptr_eq(te_config_ref(cf), cf);
    ck_assert_int_eq(cf->refs, 2);
    te_config_unref(cf);
    ck_assert_int_eq(cf->refs, 1);
    te_config_unref(cf); /* frees: LSan would report a leak otherwise */
    ck_assert_ptr_null(te_config_ref(NULL));
    te_config_unref(NULL);
}
END_TEST

START_TEST(err_buffer_may_be_small_or_absent)
{
    char small[8];

    ck_assert_ptr_null(
        te_config_parse("t.conf", "x;", 2, small, sizeof(small)));
    ck_assert_str_eq(small, "t.conf:");
    ck_assert_ptr_null(te_config_parse("t.conf", "x;", 2, NULL, 0));
    ck_assert_ptr_null(te_config_load("/nonexistent/t.conf", NULL, 0));
    ck_assert_ptr_null(te_config_load(NULL, errbuf, sizeof(errbuf)));
    ck_assert_str_eq(errbuf, "<memory>:1:1: no file name given");
}
END_TEST

START_TEST(unnamed_text_parses)
{
    te_config *cf =
        te_config_parse(NULL, LISTEN, strlen(LISTEN), errbuf, sizeof(errbuf));

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_ptr_null(cf->path);
    te_config_unref(cf);
    ck_assert_ptr_null(te_config_parse(NULL, NULL, 0, errbuf, sizeof(errbuf)));
    ck_assert_str_eq(errbuf, "<memory>:1:1: no \"listen\" directive");
}
END_TEST

/* ---- units ---- */

START_TEST(sizes)
{
    static const struct {
        const char *s;
        uint64_t v;
    } ok[] = {
        {"0", 0},
        {"123", 123},
        {"8k", 8192},
        {"8K", 8192},
        {"16m", 16777216},
        {"16M", 16777216},
        {"1g", 1073741824},
        {"1G", 1073741824},
        {"18446744073709551615", UINT64_MAX},
        {"17179869183g", 17179869183ULL << 30},
    };
    static const char *const bad[] = {
        "",
        "k",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1kb",
        "1t",
        "1.5k",
        "0x10",
        "18446744073709551616",
        "17179869184g",
        "99999999999999999999999",
    };
    uint64_t v;
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_msg(te_parse_size(ok[i].s, strlen(ok[i].s), &v) == 0, "%s",
                      ok[i].s);
        ck_assert_uint_eq(v, ok[i].v);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(te_parse_size(bad[i], strlen(bad[i]), &v) == -1, "%s",
                      bad[i]);
    ck_assert_int_eq(te_parse_size(NULL, 0, &v), -1);
    ck_assert_int_eq(te_parse_size("12", 1, &v), 0); /* length bound */
    ck_assert_uint_eq(v, 1);
}
END_TEST

START_TEST(durations)
{
    static const struct {
        const char *s;
        unsigned v;
    } ok[] = {
        {"0", 0},
        {"250ms", 250},
        {"10s", 10000},
        {"10", 10000},
        {"5m", 300000},
        {"1h", 3600000},
        {"4294967295ms", 4294967295u},
        {"4294967s", 4294967000u},
        {"71582m", 4294920000u},
        {"1193h", 4294800000u},
    };
    static const char *const bad[] = {
        "",         "ms",
        "s",        "-1s",
        "1 s",      "1S",
        "1d",       "1.5s",
        "1sm",      "4294967296ms",
        "4294968s", "71583m",
        "1194h",    "99999999999999999999999h",
    };
    unsigned v;
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_msg(te_parse_duration(ok[i].s, strlen(ok[i].s), &v) == 0,
                      "%s", ok[i].s);
        ck_assert_uint_eq(v, ok[i].v);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(te_parse_duration(bad[i], strlen(bad[i]), &v) == -1, "%s",
                      bad[i]);
    ck_assert_int_eq(te_parse_duration(NULL, 0, &v), -1);
}
END_TEST

/* ---- lexical errors ---- */

START_TEST(lexical_errors)
{
    expect_error(LISTEN "workers 2\"x\";",
                 "t.conf:2:10: unexpected quote inside a word");
    expect_error(LISTEN "workers \x01;", "t.conf:2:9: invalid character 0x01");
    expect_error(LISTEN "workers 2\x7f;",
                 "t.conf:2:10: invalid character 0x7f");
    expect_error(LISTEN "zone \"a\x02\";",
                 "t.conf:2:8: invalid character 0x02");
    expect_error(LISTEN "zone \"abc", "t.conf:2:6: unterminated quoted string");
    expect_error(LISTEN "zone \"abc\n\";",
                 "t.conf:2:6: unterminated quoted string");
    expect_error(LISTEN "zone \"a\\",
                 "t.conf:2:8: invalid escape in quoted string");
    expect_error(LISTEN "zone \"a\\nb\";",
                 "t.conf:2:8: invalid escape in quoted string");
    expect_error(LISTEN "zone \"a\"b;",
                 "t.conf:2:9: unexpected character after quoted string");
    expect_error(LISTEN "zone \"a\"\"b\";",
                 "t.conf:2:9: unexpected character after quoted string");
}
END_TEST

START_TEST(nul_byte_refused)
{
    static const char text[] = LISTEN "zone a\0b;";
    te_config *cf = te_config_parse("t.conf", text, sizeof(text) - 1, errbuf,
                                    sizeof(errbuf));

    ck_assert_ptr_null(cf);
    ck_assert_str_eq(errbuf, "t.conf:2:7: invalid character 0x00");
}
END_TEST

/* ---- statement errors ---- */

START_TEST(statement_errors)
{
    expect_error(LISTEN "worker 2;",
                 "t.conf:2:1: unknown directive \"worker\"");
    expect_error(LISTEN "backend 127.0.0.1:1;",
                 "t.conf:2:1: directive \"backend\" is only allowed inside "
                 "\"shard\"");
    expect_error(LISTEN "shard s { backend 127.0.0.1:1; }",
                 "t.conf:2:1: directive \"shard\" is only allowed inside "
                 "\"region\"");
    expect_error(LISTEN "region r { region q { } }",
                 "t.conf:2:12: directive \"region\" is only allowed at top "
                 "level");
    expect_error(LISTEN "region r { shard s { shard t { } } }",
                 "t.conf:2:22: directive \"shard\" is only allowed inside "
                 "\"region\"");
    expect_error(LISTEN "region r { shard s { workers 2; } }",
                 "t.conf:2:22: directive \"workers\" is only allowed at top "
                 "level");
    expect_error(LISTEN "region r { site a shard s; }",
                 "t.conf:2:12: directive \"site\" is only allowed at top "
                 "level");
    expect_error("workers 2\n" LISTEN,
                 "t.conf:2:1: too many arguments for \"workers\" (missing "
                 "\";\"?)");
    expect_error(LISTEN "workers 2",
                 "t.conf:2:10: unexpected end of file, expecting \";\"");
    expect_error(LISTEN "region r { shard s { backend 127.0.0.1:1 } }",
                 "t.conf:2:42: unexpected \"}\", expecting \";\"");
    expect_error(LISTEN "region r", "t.conf:2:9: unexpected end of file, "
                                    "expecting \"{\"");
    expect_error(LISTEN "region r }",
                 "t.conf:2:10: unexpected \"}\", expecting \"{\"");
    expect_error(LISTEN "workers;",
                 "t.conf:2:1: too few arguments for \"workers\"");
    expect_error(LISTEN "workers 2 { }",
                 "t.conf:2:11: directive \"workers\" takes no block");
    expect_error(LISTEN "region r;",
                 "t.conf:2:9: directive \"region\" needs a block");
    expect_error(LISTEN "region r {\n shard s {\n backend 127.0.0.1:1;\n }\n",
                 "t.conf:6:1: unexpected end of file, expecting \"}\"");
    expect_error(LISTEN "}", "t.conf:2:1: unexpected \"}\"");
    expect_error(LISTEN " ;", "t.conf:2:2: unexpected \";\"");
    expect_error(LISTEN "{ }", "t.conf:2:1: unexpected \"{\"");
    expect_error(LISTEN "listen 127.0.0.1:1 a b c d e f g h i j k l m n o p;",
                 "t.conf:2:50: too many arguments for \"listen\" (missing "
                 "\";\"?)");
}
END_TEST

START_TEST(once_only_directives)
{
    static const char *const once[] = {
        "workers 1",
        "log_level info",
        "zone z",
        "domain d.test",
        "client_max_request_line 1k",
        "client_max_header_size 8k",
        "client_max_headers 1",
        "client_max_body_size 1",
        "client_header_timeout 1",
        "client_body_timeout 1",
        "keepalive_timeout 1",
        "send_timeout 1",
        "upstream_connect_timeout 1",
        "upstream_send_timeout 1",
        "upstream_read_timeout 1",
        "upstream_keepalive 1",
        "upstream_keepalive_timeout 1",
        "buffer_size 8k",
        "drain_timeout 1",
    };
    char text[256], want[256];
    size_t i;

    for (i = 0; i < sizeof(once) / sizeof(once[0]); i++) {
        snprintf(text, sizeof(text), LISTEN "%s;\n  %s;\n", once[i], once[i]);
        snprintf(want, sizeof(want),
                 "t.conf:3:3: duplicate directive "
                 "\"%.*s\"",
                 (int)strcspn(once[i], " "), once[i]);
        expect_error(text, want);
    }
}
END_TEST

/* ---- value errors ---- */

START_TEST(value_errors)
{
    expect_error(LISTEN "buffer_size 8q;",
                 "t.conf:2:13: invalid size \"8q\" in \"buffer_size\"");
    expect_error(LISTEN "buffer_size 4095;",
                 "t.conf:2:13: \"buffer_size\" must be between 4k and 16m");
    expect_error(LISTEN "buffer_size 17m;",
                 "t.conf:2:13: \"buffer_size\" must be between 4k and 16m");
    expect_error(LISTEN "client_max_header_size 1023;",
                 "t.conf:2:24: \"client_max_header_size\" must be between "
                 "1k and 1m");
    expect_error(LISTEN "client_max_header_size 2m;",
                 "t.conf:2:24: \"client_max_header_size\" must be between "
                 "1k and 1m");
    expect_error(LISTEN "client_max_request_line 255;",
                 "t.conf:2:25: \"client_max_request_line\" must be between "
                 "256 and 1m");
    expect_error(LISTEN "client_max_body_size 99999999999999999999;",
                 "t.conf:2:22: invalid size \"99999999999999999999\" in "
                 "\"client_max_body_size\"");
    expect_error(LISTEN "client_max_headers x;",
                 "t.conf:2:20: invalid number \"x\" in "
                 "\"client_max_headers\"");
    expect_error(LISTEN "client_max_headers 0;",
                 "t.conf:2:20: \"client_max_headers\" must be between 1 and "
                 "10000");
    expect_error(LISTEN "client_max_headers 10001;",
                 "t.conf:2:20: \"client_max_headers\" must be between 1 and "
                 "10000");
    expect_error(LISTEN "upstream_keepalive -1;",
                 "t.conf:2:20: invalid number \"-1\" in "
                 "\"upstream_keepalive\"");
    expect_error(LISTEN "send_timeout 5x;",
                 "t.conf:2:14: invalid duration \"5x\" in \"send_timeout\"");
    expect_error(LISTEN "send_timeout 0s;",
                 "t.conf:2:14: \"send_timeout\" must be at least 1ms");
    expect_error(LISTEN "drain_timeout 4294968s;",
                 "t.conf:2:15: invalid duration \"4294968s\" in "
                 "\"drain_timeout\"");
    expect_error(LISTEN "workers 0;",
                 "t.conf:2:9: invalid workers \"0\": expected 1..256 or "
                 "\"auto\"");
    expect_error(LISTEN "workers 257;",
                 "t.conf:2:9: invalid workers \"257\": expected 1..256 or "
                 "\"auto\"");
    expect_error(LISTEN "workers Auto;",
                 "t.conf:2:9: invalid workers \"Auto\": expected 1..256 or "
                 "\"auto\"");
    expect_error(LISTEN "log_level loud;",
                 "t.conf:2:11: invalid log level \"loud\": expected debug, "
                 "info, notice, warn or error");
    expect_error(LISTEN "zone a/b;", "t.conf:2:6: invalid zone name \"a/b\"");
    expect_error(LISTEN "zone \"\";", "t.conf:2:6: invalid zone name \"\"");
    expect_error(LISTEN "zone "
                        "a123456789012345678901234567890123456789012345678901"
                        "2345678901234;",
                 "t.conf:2:6: invalid zone name "
                 "\"a123456789012345678901234567890123456789012345678901"
                 "2345678901234\"");
    expect_error(LISTEN "domain -a.test;",
                 "t.conf:2:8: invalid domain \"-a.test\"");
    expect_error(LISTEN "domain a..test;",
                 "t.conf:2:8: invalid domain \"a..test\"");
    expect_error(LISTEN "domain a.test.;",
                 "t.conf:2:8: invalid domain \"a.test.\"");
    expect_error(LISTEN "domain a_b.test;",
                 "t.conf:2:8: invalid domain \"a_b.test\"");
    expect_error(LISTEN "domain "
                        "a1234567890123456789012345678901234567890123456789"
                        "01234567890123.test;",
                 "t.conf:2:8: invalid domain "
                 "\"a1234567890123456789012345678901234567890123456789"
                 "01234567890123.test\"");
}
END_TEST

START_TEST(long_domain_refused)
{
    char text[512], label[64];
    te_config *cf;

    memset(label, 'a', 62);
    label[62] = '\0';
    /* four labels of 62 and one of 5: 4 * 63 + 5 = 257 bytes */
    snprintf(text, sizeof(text), LISTEN "domain %s.%s.%s.%s.abcde;", label,
             label, label, label);
    cf = parse(text);
    ck_assert_ptr_null(cf);
    ck_assert_str_eq(errbuf + strcspn(errbuf, " "),
                     " invalid domain \"aaa"
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                     "aaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                     "aaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaa"
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.abcde\"");
    ck_assert_int_eq(strncmp(errbuf, "t.conf:2:8:", 11), 0);

    /* 253 bytes is fine */
    snprintf(text, sizeof(text), LISTEN "domain %s.%s.%s.%s.a;", label, label,
             label, label);
    cf = parse(text);
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(strlen(cf->domain), 253);
    te_config_unref(cf);
}
END_TEST

START_TEST(listen_errors)
{
    expect_error("listen 127.0.0.1:8080 ssl;",
                 "t.conf:1:23: unknown listen parameter \"ssl\"");
    expect_error("listen localhost:8080;",
                 "t.conf:1:8: invalid address \"localhost:8080\": expected "
                 "IPv4:PORT or [IPv6]:PORT");
    expect_error("listen 127.0.0.1;",
                 "t.conf:1:8: invalid address \"127.0.0.1\": expected "
                 "IPv4:PORT or [IPv6]:PORT");
    expect_error("listen ::1:80;",
                 "t.conf:1:8: invalid address \"::1:80\": expected "
                 "IPv4:PORT or [IPv6]:PORT");
    expect_error("listen [::1]80;",
                 "t.conf:1:8: invalid address \"[::1]80\": expected "
                 "IPv4:PORT or [IPv6]:PORT");
    expect_error("listen [::1:80;",
                 "t.conf:1:8: invalid address \"[::1:80\": expected "
                 "IPv4:PORT or [IPv6]:PORT");
    expect_error("listen []:80;",
                 "t.conf:1:8: invalid address \"[]:80\": expected "
                 "IPv4:PORT or [IPv6]:PORT");
    expect_error("listen [127.0.0.1]:80;",
                 "t.conf:1:8: invalid address \"[127.0.0.1]:80\": expected "
                 "IPv4:PORT or [IPv6]:PORT");
    expect_error("listen 1.2.3:80;",
                 "t.conf:1:8: invalid address \"1.2.3:80\": expected "
                 "IPv4:PORT or [IPv6]:PORT");
    expect_error("listen 256.0.0.1:80;",
                 "t.conf:1:8: invalid address \"256.0.0.1:80\": expected "
                 "IPv4:PORT or [IPv6]:PORT");
    expect_error("listen 127.0.0.1:0;",
                 "t.conf:1:8: invalid port in \"127.0.0.1:0\": expected "
                 "1..65535");
    expect_error("listen 127.0.0.1:65536;",
                 "t.conf:1:8: invalid port in \"127.0.0.1:65536\": expected "
                 "1..65535");
    expect_error("listen 127.0.0.1:;",
                 "t.conf:1:8: invalid port in \"127.0.0.1:\": expected "
                 "1..65535");
    expect_error("listen 127.0.0.1:+80;",
                 "t.conf:1:8: invalid port in \"127.0.0.1:+80\": expected "
                 "1..65535");
    expect_error("listen [::1]:0000080;",
                 "t.conf:1:8: invalid port in \"[::1]:0000080\": expected "
                 "1..65535");
    expect_error("listen 127.0.0.1:80;\nlisten  127.0.0.1:80;",
                 "t.conf:2:9: duplicate listen \"127.0.0.1:80\"");
    expect_error("listen [::1]:80;\nlisten [0:0::1]:80;",
                 "t.conf:2:8: duplicate listen \"[0:0::1]:80\"");
}
END_TEST

START_TEST(too_many_listens)
{
    char *text = malloc(257 * 32);
    size_t off = 0;
    int i;

    ck_assert_ptr_nonnull(text);
    for (i = 1; i <= 257; i++)
        off += (size_t)sprintf(text + off, "listen 127.0.0.1:%d;\n", i);
    expect_error(text, "t.conf:257:8: too many listen addresses (max 256)");
    free(text);
}
END_TEST

START_TEST(region_shard_backend_errors)
{
    expect_error(LISTEN "region r/1 { }",
                 "t.conf:2:8: invalid region name \"r/1\"");
    expect_error(LISTEN "region r { }",
                 "t.conf:2:8: region \"r\" has no shards");
    expect_error(LISTEN "region r { shard s { backend 127.0.0.1:1; } }\n"
                        "region r { shard t { backend 127.0.0.1:1; } }",
                 "t.conf:3:8: duplicate region \"r\"");
    expect_error(LISTEN "region r { shard \"\" { } }",
                 "t.conf:2:18: invalid shard name \"\"");
    expect_error(LISTEN "region r { shard s { } }",
                 "t.conf:2:18: shard \"s\" has no backends");
    expect_error(LISTEN "region r { shard s { backend 127.0.0.1:1; } }\n"
                        "region q { shard s { backend 127.0.0.1:1; } }",
                 "t.conf:3:18: duplicate shard \"s\"");
    expect_error(LISTEN "region r { shard s { backend 127.0.0.1:1; }\n"
                        "           shard s { backend 127.0.0.1:1; } }",
                 "t.conf:3:18: duplicate shard \"s\"");
    expect_error(LISTEN "region r { shard s { backend 127.0.0.1:1 weight 2; "
                        "} }",
                 "t.conf:2:42: unknown backend parameter \"weight\"");
    expect_error(LISTEN "region r { shard s { backend 127.0.0.1:1 zone a "
                        "zone b; } }",
                 "t.conf:2:49: duplicate backend parameter \"zone\"");
    expect_error(LISTEN "region r { shard s { backend 127.0.0.1:1 zone; } }",
                 "t.conf:2:42: missing value after \"zone\"");
    expect_error(LISTEN "region r { shard s { backend 127.0.0.1:1 zone "
                        "\"a b\"; } }",
                 "t.conf:2:47: invalid zone name \"a b\"");
    expect_error(LISTEN "region r { shard s { backend h:1; } }",
                 "t.conf:2:30: invalid address \"h:1\": expected IPv4:PORT "
                 "or [IPv6]:PORT");
    expect_error(LISTEN "region r { shard s { backend 127.0.0.1:99999; } }",
                 "t.conf:2:30: invalid port in \"127.0.0.1:99999\": "
                 "expected 1..65535");
    expect_error(LISTEN "region r { shard s { backend 127.0.0.1:1;\n"
                        "backend 127.0.0.1:1 zone z; } }",
                 "t.conf:3:9: duplicate backend \"127.0.0.1:1\" in shard "
                 "\"s\"");
}
END_TEST

START_TEST(too_many_backends)
{
    char *text = malloc(1100 * 40);
    size_t off;
    int i;

    ck_assert_ptr_nonnull(text);
    off = (size_t)sprintf(text, LISTEN "region r { shard s {\n");
    for (i = 1; i <= 1025; i++)
        off += (size_t)sprintf(text + off, "backend 127.0.0.1:%d;\n", i);
    sprintf(text + off, "} }\n");
    expect_error(text, "t.conf:1027:9: too many backends in shard \"s\" "
                       "(max 1024)");
    free(text);
}
END_TEST

#define SHARD "region r { shard s { backend 127.0.0.1:1; } }\n"

START_TEST(site_errors)
{
    expect_error(LISTEN SHARD "domain d.test;\nsite a_b shard s;",
                 "t.conf:4:6: invalid site name \"a_b\"");
    expect_error(LISTEN SHARD "domain d.test;\nsite a.b shard s;",
                 "t.conf:4:6: invalid site name \"a.b\"");
    expect_error(LISTEN SHARD "domain d.test;\nsite -a shard s;",
                 "t.conf:4:6: invalid site name \"-a\"");
    expect_error(LISTEN SHARD
                 "domain d.test;\nsite "
                 "a123456789012345678901234567890123456789012345678901234567"
                 "890123 shard s;",
                 "t.conf:4:6: invalid site name \""
                 "a123456789012345678901234567890123456789012345678901234567"
                 "890123\"");
    expect_error(LISTEN SHARD "domain d.test;\nsite a;",
                 "t.conf:4:6: site \"a\" has no shard");
    expect_error(LISTEN SHARD "domain d.test;\nsite a id t;",
                 "t.conf:4:6: site \"a\" has no shard");
    expect_error(LISTEN SHARD "domain d.test;\nsite a shard;",
                 "t.conf:4:8: missing value after \"shard\"");
    expect_error(LISTEN SHARD "domain d.test;\nsite a shard s id;",
                 "t.conf:4:16: missing value after \"id\"");
    expect_error(LISTEN SHARD "domain d.test;\nsite a shard s region r;",
                 "t.conf:4:16: unknown site parameter \"region\"");
    expect_error(LISTEN SHARD "domain d.test;\nsite a shard s shard s;",
                 "t.conf:4:16: duplicate site parameter \"shard\"");
    expect_error(LISTEN SHARD "domain d.test;\nsite a shard s id t/1;",
                 "t.conf:4:19: invalid tenant id \"t/1\"");
    expect_error(LISTEN SHARD
                 "domain d.test;\nsite a shard s id "
                 "t12345678901234567890123456789012345678901234567890123456"
                 "78901234;",
                 "t.conf:4:19: invalid tenant id \""
                 "t12345678901234567890123456789012345678901234567890123456"
                 "78901234\"");
    expect_error(LISTEN SHARD "domain d.test;\nsite a shard s;\n"
                              "site A shard s;",
                 "t.conf:5:6: duplicate site \"a\"");
    expect_error(LISTEN SHARD "site a shard s;",
                 "t.conf:3:6: site \"a\" needs a \"domain\" directive");
    expect_error(LISTEN SHARD "domain d.test;\nsite a shard s;\n"
                              "site b shard nope;\nsite c shard nope2;",
                 "t.conf:5:14: unknown shard \"nope\" in site \"b\"");
}
END_TEST

START_TEST(site_before_its_shard)
{
    te_config *cf = parse("site a shard later;\ndomain d.test;\n" LISTEN
                          "region r { shard later { backend 127.0.0.1:1; } "
                          "}\n");

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_str_eq(te_config_find_site(cf, "a", 1)->shard->name, "later");
    te_config_unref(cf);
}
END_TEST

START_TEST(whole_file_errors)
{
    expect_error("", "t.conf:1:1: no \"listen\" directive");
    expect_error("workers 2;\n# end\n", "t.conf:3:1: no \"listen\" directive");
    expect_error("workers 2;", "t.conf:1:11: no \"listen\" directive");
    expect_error(LISTEN "client_max_request_line 64k;\n"
                        "client_max_header_size 16k;\n",
                 "t.conf:2:1: client_max_request_line (65536) exceeds "
                 "client_max_header_size (16384)");
    expect_error(LISTEN "client_max_header_size 4k;\n",
                 "t.conf:2:1: client_max_request_line (8192) exceeds "
                 "client_max_header_size (4096)");
}
END_TEST

START_TEST(oversized_text_refused)
{
    size_t len = 1024 * 1024 + 1;
    char *text = malloc(len);
    te_config *cf;

    ck_assert_ptr_nonnull(text);
    memset(text, '#', len);
    cf = te_config_parse("t.conf", text, len, errbuf, sizeof(errbuf));
    ck_assert_ptr_null(cf);
    ck_assert_str_eq(errbuf, "t.conf:1:1: larger than 1 MiB");
    free(text);
}
END_TEST

START_TEST(unnamed_text_cannot_include)
{
    static const char text[] = LISTEN "include /etc/hostname;";
    te_config *cf =
        te_config_parse(NULL, text, strlen(text), errbuf, sizeof(errbuf));

    ck_assert_ptr_null(cf);
    ck_assert_str_eq(errbuf, "<memory>:2:9: include is not allowed in "
                             "unnamed text");
}
END_TEST

/* ---- files and includes ---- */

START_TEST(load_sample_file)
{
    char path[PATH_MAX];
    const char *top = getenv("TE_TOP_SRCDIR");
    te_config *cf;

    snprintf(path, sizeof(path), "%s/conf/tenantedge.conf",
             top != NULL ? top : ".");
    cf = te_config_load(path, errbuf, sizeof(errbuf));
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_str_eq(cf->path, path);
    ck_assert_str_eq(te_config_find_site(cf, "acme", 4)->shard->name, "eu-1");
    ck_assert_uint_eq(cf->workers, 2);
    te_config_unref(cf);
}
END_TEST

START_TEST(load_example_file)
{
    te_config *cf;

    put("edge.conf", example);
    cf = load("edge.conf");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_str_eq(te_config_find_site(cf, "acme", 4)->shard->region->name,
                     "eu");
    te_config_unref(cf);
}
END_TEST

START_TEST(load_errors)
{
    char want[2 * PATH_MAX + 128], path[PATH_MAX];
    te_config *cf;
    FILE *f;

    snprintf(path, sizeof(path), "%s/none.conf", tmpdir);
    cf = te_config_load(path, errbuf, sizeof(errbuf));
    ck_assert_ptr_null(cf);
    snprintf(want, sizeof(want),
             "%s:1:1: cannot read \"%s\": No such file or directory", path,
             path);
    ck_assert_str_eq(errbuf, want);

    cf = te_config_load(tmpdir, errbuf, sizeof(errbuf));
    ck_assert_ptr_null(cf);
    snprintf(want, sizeof(want),
             "%s:1:1: cannot read \"%s\": not a regular "
             "file",
             tmpdir, tmpdir);
    ck_assert_str_eq(errbuf, want);

    snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 1024 * 1024, SEEK_SET), 0);
    ck_assert_int_eq(fputc('\n', f), '\n');
    ck_assert_int_eq(fclose(f), 0);
    cf = te_config_load(path, errbuf, sizeof(errbuf));
    ck_assert_ptr_null(cf);
    snprintf(want, sizeof(want),
             "%s:1:1: cannot read \"%s\": larger than 1 "
             "MiB",
             path, path);
    ck_assert_str_eq(errbuf, want);

    put("bad.conf", LISTEN "\n  nope;\n");
    expect_load_error("bad.conf", "bad.conf:3:3", "unknown directive \"nope\"");
}
END_TEST

START_TEST(include_relative_to_includer)
{
    char sub[PATH_MAX];
    te_config *cf;

    snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    put("main.conf", "include sub/a.conf;\n"
                     "domain d.test;\n"
                     "region r { include sub/shards.conf; }\n"
                     "site x shard s2;\n");
    put("sub/a.conf", "include b.conf; # relative to sub/\n");
    put("sub/b.conf", LISTEN "workers 3;\n");
    put("sub/shards.conf", "shard s1 { backend 127.0.0.1:1; }\n"
                           "shard s2 { include backends.conf; }\n");
    put("sub/backends.conf", "backend 127.0.0.1:2 zone z;\n");

    cf = load("main.conf");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(cf->workers, 3);
    ck_assert_uint_eq(cf->nlistens, 1);
    ck_assert_uint_eq(cf->regions[0]->nshards, 2);
    ck_assert_str_eq(te_config_find_site(cf, "x", 1)->shard->backends[0]->name,
                     "127.0.0.1:2");
    te_config_unref(cf);
}
END_TEST

START_TEST(include_absolute_and_from_parse)
{
    char text[PATH_MAX + 64], name[PATH_MAX];
    te_config *cf;

    put("abs.conf", LISTEN);
    snprintf(text, sizeof(text), "include %s/abs.conf;", tmpdir);
    cf = parse(text);
    ck_assert_msg(cf != NULL, "%s", errbuf);
    te_config_unref(cf);

    /* te_config_parse resolves against the directory of its name */
    snprintf(name, sizeof(name), "%s/virtual.conf", tmpdir);
    cf = te_config_parse(name, "include abs.conf;", 17, errbuf, sizeof(errbuf));
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_str_eq(cf->path, name);
    te_config_unref(cf);
}
END_TEST

START_TEST(include_errors_name_the_right_file)
{
    char sub[PATH_MAX], want[PATH_MAX + 128];

    snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);

    put("missing.conf", LISTEN "include  nothere.conf;\n");
    snprintf(want, sizeof(want),
             "cannot read \"%s/nothere.conf\": No such "
             "file or directory",
             tmpdir);
    expect_load_error("missing.conf", "missing.conf:2:10", want);

    put("dir.conf", LISTEN "include sub;\n");
    snprintf(want, sizeof(want),
             "cannot read \"%s/sub\": not a regular "
             "file",
             tmpdir);
    expect_load_error("dir.conf", "dir.conf:2:9", want);

    /* a FIFO with no writer must not block the load */
    snprintf(want, sizeof(want), "%s/fifo", tmpdir);
    ck_assert_int_eq(mkfifo(want, 0600), 0);
    put("fifo.conf", LISTEN "include fifo;\n");
    snprintf(want, sizeof(want),
             "cannot read \"%s/fifo\": not a regular "
             "file",
             tmpdir);
    expect_load_error("fifo.conf", "fifo.conf:2:9", want);

    put("empty.conf", LISTEN "include \"\";\n");
    expect_load_error("empty.conf", "empty.conf:2:9", "empty include path");

    put("inner.conf", LISTEN "include sub/inner.conf;\n");
    put("sub/inner.conf", "# ok\n\n   workers x;\n");
    expect_load_error("inner.conf", "sub/inner.conf:3:12",
                      "invalid workers \"x\": expected 1..256 or \"auto\"");

    put("open.conf", LISTEN "region r { include sub/open.conf; }\n");
    put("sub/open.conf", "shard s { backend 127.0.0.1:1;\n");
    expect_load_error("open.conf", "sub/open.conf:2:1",
                      "unexpected end of file, expecting \"}\"");

    put("close.conf", LISTEN "region r { shard s { backend 127.0.0.1:1; }\n"
                             "include sub/close.conf;\n");
    put("sub/close.conf", "}\n");
    expect_load_error("close.conf", "sub/close.conf:1:1", "unexpected \"}\"");

    put("ctx.conf", LISTEN "region r { include sub/ctx.conf; }\n");
    put("sub/ctx.conf", "workers 2;\n");
    expect_load_error("ctx.conf", "sub/ctx.conf:1:1",
                      "directive \"workers\" is only allowed at top level");

    put("dup.conf", "workers 2;\ninclude sub/dup.conf;\n");
    put("sub/dup.conf", LISTEN "workers 2;\n");
    expect_load_error("dup.conf", "sub/dup.conf:2:1",
                      "duplicate directive \"workers\"");

    put("nolisten.conf", "include sub/nolisten.conf;\n\n");
    put("sub/nolisten.conf", "workers 2;\n");
    expect_load_error("nolisten.conf", "nolisten.conf:3:1",
                      "no \"listen\" directive");

    put("semi.conf", LISTEN "include sub/semi.conf\n");
    expect_load_error("semi.conf", "semi.conf:3:1",
                      "unexpected end of file, expecting \";\"");
}
END_TEST

START_TEST(include_cycle_refused)
{
    char want[PATH_MAX + 128];

    put("self.conf", LISTEN "include self.conf;\n");
    snprintf(want, sizeof(want),
             "include cycle: \"%s/self.conf\" is already "
             "being read",
             tmpdir);
    expect_load_error("self.conf", "self.conf:2:9", want);

    put("a.conf", LISTEN "include b.conf;\n");
    put("b.conf", "\ninclude c.conf;\n");
    put("c.conf", "include ./a.conf;\n");
    snprintf(want, sizeof(want),
             "include cycle: \"%s/./a.conf\" is already "
             "being read",
             tmpdir);
    expect_load_error("a.conf", "c.conf:1:9", want);

    /* the same file twice side by side is no cycle */
    put("twice.conf", "include d.conf;\ninclude d.conf;\n" LISTEN);
    put("d.conf", "# nothing\n");
    te_config *cf = load("twice.conf");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    te_config_unref(cf);
}
END_TEST

START_TEST(include_depth_limited)
{
    char name[32], text[64], want[64];
    te_config *cf;
    int i;

    /* f0 includes f1 ... f16: sixteen levels are allowed */
    for (i = 0; i < 16; i++) {
        snprintf(name, sizeof(name), "f%d.conf", i);
        snprintf(text, sizeof(text), "include f%d.conf;\n", i + 1);
        put(name, text);
    }
    put("f16.conf", LISTEN);
    cf = load("f0.conf");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    te_config_unref(cf);

    /* the seventeenth is refused where it is named */
    put("f16.conf", "include f17.conf;\n");
    put("f17.conf", LISTEN);
    snprintf(want, sizeof(want), "includes nested deeper than 16");
    expect_load_error("f0.conf", "f16.conf:1:9", want);
}
END_TEST

START_TEST(include_count_limited)
{
    char *text = malloc(1100 * 20);
    size_t off = 0;
    int i;

    ck_assert_ptr_nonnull(text);
    put("leaf.conf", "");
    for (i = 0; i < 1024; i++)
        off += (size_t)sprintf(text + off, "include leaf.conf;\n");
    sprintf(text + off, LISTEN);
    put("many.conf", text);
    expect_load_error("many.conf", "many.conf:1024:9",
                      "more than 1024 files included");
    free(text);
}
END_TEST

START_TEST(include_total_size_limited)
{
    char *big = malloc(1024 * 1024 + 1);
    char text[64 * 20];
    size_t off = 0;
    int i;

    ck_assert_ptr_nonnull(big);
    memset(big, '#', 1024 * 1024);
    big[1024 * 1024] = '\0';
    put("big.conf", big);
    free(big);
    for (i = 0; i < 17; i++)
        off += (size_t)sprintf(text + off, "include big.conf;\n");
    sprintf(text + off, LISTEN);
    put("huge.conf", text);
    expect_load_error("huge.conf", "huge.conf:16:9",
                      "configuration larger than 16 MiB in all");
}
END_TEST

START_TEST(include_path_too_long)
{
    char *text = malloc(PATH_MAX + 64);
    char want[64];

    ck_assert_ptr_nonnull(text);
    strcpy(text, "include ");
    memset(text + 8, 'a', PATH_MAX);
    strcpy(text + 8 + PATH_MAX, ";\n" LISTEN);
    put("long.conf", text);
    snprintf(want, sizeof(want), "include path too long");
    expect_load_error("long.conf", "long.conf:1:9", want);
    free(text);
}
END_TEST

/* ---- the tenant context service: redis and tcs ---- */

START_TEST(tcs_defaults)
{
    te_config *cf = parse(example);

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_ptr_null(cf->redis_name);
    ck_assert_ptr_null(cf->redis_host);
    ck_assert_ptr_null(cf->redis_password);
    ck_assert_uint_eq(cf->redis_database, 0);
    ck_assert_uint_eq(cf->redis_timeout, 500);
    ck_assert_uint_eq(cf->redis_connect_timeout, 1000);
    ck_assert_uint_eq(cf->redis_heartbeat, 1000);
    ck_assert_int_eq(cf->tcs_store, TE_TCS_STORE_STATIC);
    ck_assert_ptr_null(cf->tcs_file);
    ck_assert_uint_eq(cf->tcs_cache, 100000);
    ck_assert_uint_eq(cf->tcs_ttl, 30 * 1000);
    ck_assert_uint_eq(cf->tcs_stale, 10 * 60 * 1000);
    ck_assert_uint_eq(cf->tcs_negative_ttl, 5 * 1000);
    ck_assert_str_eq(cf->tcs_prefix, "tcs:");
    te_config_unref(cf);
}
END_TEST

START_TEST(redis_and_tcs_directives)
{
    te_config *cf = parse(LISTEN "redis 127.0.0.1:6379;\n"
                                 "tcs { store redis; }\n");

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_str_eq(cf->redis_name, "127.0.0.1:6379");
    ck_assert_str_eq(cf->redis_host, "127.0.0.1");
    ck_assert_uint_eq(cf->redis_port, 6379);
    ck_assert_int_eq(cf->tcs_store, TE_TCS_STORE_REDIS);
    te_config_unref(cf);

    /* the block form, and DESIGN.md's one-line cache */
    cf = parse(LISTEN "redis [::1]:6380 {\n"
                      "    password \"s3 cret\";\n"
                      "    database 3;\n"
                      "    timeout 50ms;\n"
                      "    connect_timeout 2s;\n"
                      "    heartbeat 250ms;\n"
                      "}\n"
                      "tcs {\n"
                      "    store redis;\n"
                      "    cache 200000 ttl 30s stale 10m;\n"
                      "    negative_ttl 0;\n"
                      "    prefix edge1:tcs:;\n"
                      "}\n");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_str_eq(cf->redis_name, "[::1]:6380");
    ck_assert_str_eq(cf->redis_host, "::1");
    ck_assert_uint_eq(cf->redis_port, 6380);
    ck_assert_str_eq(cf->redis_password, "s3 cret");
    ck_assert_uint_eq(cf->redis_database, 3);
    ck_assert_uint_eq(cf->redis_timeout, 50);
    ck_assert_uint_eq(cf->redis_connect_timeout, 2000);
    ck_assert_uint_eq(cf->redis_heartbeat, 250);
    ck_assert_uint_eq(cf->tcs_cache, 200000);
    ck_assert_uint_eq(cf->tcs_ttl, 30 * 1000);
    ck_assert_uint_eq(cf->tcs_stale, 10 * 60 * 1000);
    ck_assert_uint_eq(cf->tcs_negative_ttl, 0);
    ck_assert_str_eq(cf->tcs_prefix, "edge1:tcs:");
    te_config_unref(cf);

    /* parts of cache alone; an empty block; redis kept for tenantctl
     * while the store stays static */
    cf = parse(LISTEN "redis 10.0.0.1:6379 { }\n"
                      "tcs { cache 5 stale 1m; }\n");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_int_eq(cf->tcs_store, TE_TCS_STORE_STATIC);
    ck_assert_uint_eq(cf->tcs_cache, 5);
    ck_assert_uint_eq(cf->tcs_ttl, 30 * 1000);
    ck_assert_uint_eq(cf->tcs_stale, 60 * 1000);
    te_config_unref(cf);
}
END_TEST

START_TEST(redis_errors)
{
    expect_error(LISTEN "redis localhost:6379;",
                 "t.conf:2:7: invalid address \"localhost:6379\": expected "
                 "IPv4:PORT or [IPv6]:PORT");
    expect_error(LISTEN "redis 127.0.0.1:0;",
                 "t.conf:2:7: invalid port in \"127.0.0.1:0\": expected "
                 "1..65535");
    expect_error(LISTEN "redis;", "t.conf:2:1: too few arguments for "
                                  "\"redis\"");
    expect_error(LISTEN "redis 127.0.0.1:1;\nredis 127.0.0.1:2;",
                 "t.conf:3:1: duplicate directive \"redis\"");
    expect_error(LISTEN "redis 127.0.0.1:1 { timeout 0; }",
                 "t.conf:2:29: \"timeout\" must be at least 1ms");
    expect_error(LISTEN "redis 127.0.0.1:1 { connect_timeout 1x; }",
                 "t.conf:2:37: invalid duration \"1x\" in "
                 "\"connect_timeout\"");
    expect_error(LISTEN "redis 127.0.0.1:1 { heartbeat 1s; heartbeat 2s; }",
                 "t.conf:2:35: duplicate directive \"heartbeat\"");
    expect_error(LISTEN "redis 127.0.0.1:1 { database -1; }",
                 "t.conf:2:30: invalid number \"-1\" in \"database\"");
    expect_error(LISTEN "redis 127.0.0.1:1 { database 2147483648; }",
                 "t.conf:2:30: \"database\" must be between 0 and "
                 "2147483647");
    expect_error(LISTEN "redis 127.0.0.1:1 { password \"\"; }",
                 "t.conf:2:30: empty redis password");
    expect_error(LISTEN "redis 127.0.0.1:1 { password a b; }",
                 "t.conf:2:32: too many arguments for \"password\" (missing "
                 "\";\"?)");
    expect_error(LISTEN "redis 127.0.0.1:1 { store redis; }",
                 "t.conf:2:21: directive \"store\" is only allowed inside "
                 "\"tcs\"");
    expect_error(LISTEN "redis 127.0.0.1:1 { workers 2; }",
                 "t.conf:2:21: directive \"workers\" is only allowed at top "
                 "level");
    expect_error(LISTEN "timeout 1s;",
                 "t.conf:2:1: directive \"timeout\" is only allowed inside "
                 "\"redis\"");
    expect_error(LISTEN "redis 127.0.0.1:1 {",
                 "t.conf:2:20: unexpected end of file, expecting \"}\"");
}
END_TEST

START_TEST(tcs_errors)
{
    expect_error(LISTEN "tcs;", "t.conf:2:4: directive \"tcs\" needs a "
                                "block");
    expect_error(LISTEN "tcs x { }", "t.conf:2:5: too many arguments for "
                                     "\"tcs\" (missing \";\"?)");
    expect_error(LISTEN "tcs { }\ntcs { }",
                 "t.conf:3:1: duplicate directive \"tcs\"");
    expect_error(LISTEN "store redis;",
                 "t.conf:2:1: directive \"store\" is only allowed inside "
                 "\"tcs\"");
    expect_error(LISTEN "tcs { store memcached; }",
                 "t.conf:2:13: invalid store \"memcached\": expected static, "
                 "file or redis");
    expect_error(LISTEN "tcs { store redis; }",
                 "t.conf:2:7: \"store redis\" needs a \"redis\" directive");
    expect_error(LISTEN "tcs {\n    store file;\n}",
                 "t.conf:3:5: \"store file\" needs a \"file\" directive");
    expect_error(LISTEN "tcs { file t.json; }",
                 "t.conf:2:7: \"file\" is only used with \"store file\"");
    expect_error(LISTEN "tcs { store file; file \"\"; }",
                 "t.conf:2:24: empty tenants file path");
    expect_error(LISTEN "tcs { cache 0; }",
                 "t.conf:2:13: \"cache\" must be between 1 and 10000000");
    expect_error(LISTEN "tcs { cache many; }",
                 "t.conf:2:13: invalid number \"many\" in \"cache\"");
    expect_error(LISTEN "tcs { cache 10 ttl; }",
                 "t.conf:2:16: missing value after \"ttl\"");
    expect_error(LISTEN "tcs { cache 10 ttl 1s ttl 2s; }",
                 "t.conf:2:23: duplicate cache parameter \"ttl\"");
    expect_error(LISTEN "tcs { cache 10 fresh 1s; }",
                 "t.conf:2:16: unknown cache parameter \"fresh\"");
    expect_error(LISTEN "tcs { cache 10 stale forever; }",
                 "t.conf:2:22: invalid duration \"forever\" in \"stale\"");
    expect_error(LISTEN "tcs { cache 10 ttl -1s; }",
                 "t.conf:2:20: invalid duration \"-1s\" in \"ttl\"");
    expect_error(LISTEN "tcs { negative_ttl 5x; }",
                 "t.conf:2:20: invalid duration \"5x\" in \"negative_ttl\"");
    expect_error(LISTEN "tcs { prefix \"a b\"; }",
                 "t.conf:2:14: invalid prefix \"a b\": only [A-Za-z0-9:._-]");
    expect_error(LISTEN "tcs { prefix \"\"; }",
                 "t.conf:2:14: invalid prefix \"\": 1..64 bytes");
    expect_error(LISTEN "tcs { prefix "
                        "a2345678901234567890123456789012345678901234567890"
                        "123456789012345; }",
                 "t.conf:2:14: invalid prefix "
                 "\"a2345678901234567890123456789012345678901234567890"
                 "123456789012345\": 1..64 bytes");
    expect_error(LISTEN "tcs { store static; store redis; }",
                 "t.conf:2:21: duplicate directive \"store\"");
    expect_error(LISTEN "tcs { tcs { } }",
                 "t.conf:2:7: directive \"tcs\" is only allowed at top level");
}
END_TEST

START_TEST(unnamed_text_cannot_name_a_tenants_file)
{
    static const char text[] = LISTEN "tcs { store file; file /etc/hostname; }";
    te_config *cf =
        te_config_parse(NULL, text, strlen(text), errbuf, sizeof(errbuf));

    ck_assert_ptr_null(cf);
    ck_assert_str_eq(errbuf, "<memory>:2:24: file is not allowed in "
                             "unnamed text");
}
END_TEST

/* store file: the path is taken from the directory of the file that
 * names it; the file is read and checked at load, and its bytes kept. */
START_TEST(tenants_file_loads_with_config)
{
    char path[PATH_MAX], dir[PATH_MAX];
    te_config *cf;

    snprintf(dir, sizeof(dir), "%s/sub", tmpdir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    put("sub/tenants.json",
        "{\"tenants\":[{\"id\":\"t-1\",\"site\":\"acme\",\"status\":"
        "\"active\",\"region\":\"eu\",\"version\":1,\"products\":{}}]}");
    put("sub/tcs.conf", "tcs { store file; file tenants.json; }\n");
    put("edge.conf", LISTEN "include sub/tcs.conf;\n");
    cf = load("edge.conf");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    snprintf(path, sizeof(path), "%s/sub/tenants.json", tmpdir);
    ck_assert_str_eq(cf->tcs_file, path);
    ck_assert_int_eq(cf->tcs_store, TE_TCS_STORE_FILE);
    ck_assert_ptr_nonnull(cf->tcs_file_text);
    ck_assert_uint_eq(cf->tcs_file_len, strlen(cf->tcs_file_text));
    ck_assert_ptr_nonnull(strstr(cf->tcs_file_text, "\"acme\""));
    te_config_unref(cf);
}
END_TEST

START_TEST(tenants_file_errors_name_the_file)
{
    char want[2 * PATH_MAX + 256];

    put("edge.conf", LISTEN "tcs {\n    store file;\n    file none.json;\n}\n");
    snprintf(want, sizeof(want),
             "tenants file \"%s/none.json\": cannot read it: No such file "
             "or directory",
             tmpdir);
    expect_load_error("edge.conf", "edge.conf:4:5", want);

    put("none.json", "{\"tenants\":[{\"id\":\"t-1\"}]}");
    snprintf(want, sizeof(want),
             "tenants file \"%s/none.json\": tenants[0]: site: missing",
             tmpdir);
    expect_load_error("edge.conf", "edge.conf:4:5", want);

    put("none.json", "{\"tenants\":[\n  {]}");
    snprintf(want, sizeof(want),
             "tenants file \"%s/none.json\": invalid JSON at line 2 column "
             "4: string or '}' expected near ']'",
             tmpdir);
    expect_load_error("edge.conf", "edge.conf:4:5", want);
}
END_TEST

/* ---- passive health of backends: upstream_max_fails, _fail_timeout ---- */

START_TEST(upstream_health_defaults_and_values)
{
    te_config *cf = parse(example);

    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(cf->upstream_max_fails, 3);
    ck_assert_uint_eq(cf->upstream_fail_timeout, 10000);
    te_config_unref(cf);

    cf = parse(LISTEN "upstream_max_fails 1;\n"
                      "upstream_fail_timeout 250ms;\n");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(cf->upstream_max_fails, 1);
    ck_assert_uint_eq(cf->upstream_fail_timeout, 250);
    te_config_unref(cf);

    cf = parse(LISTEN "upstream_max_fails 1000;\n"
                      "upstream_fail_timeout 1h;\n");
    ck_assert_msg(cf != NULL, "%s", errbuf);
    ck_assert_uint_eq(cf->upstream_max_fails, 1000);
    ck_assert_uint_eq(cf->upstream_fail_timeout, 3600000);
    te_config_unref(cf);
}
END_TEST

START_TEST(upstream_health_errors)
{
    expect_error(LISTEN "upstream_max_fails 0;",
                 "t.conf:2:20: \"upstream_max_fails\" must be between 1 and "
                 "1000");
    expect_error(LISTEN "upstream_max_fails 1001;",
                 "t.conf:2:20: \"upstream_max_fails\" must be between 1 and "
                 "1000");
    expect_error(LISTEN "upstream_max_fails three;",
                 "t.conf:2:20: invalid number \"three\" in "
                 "\"upstream_max_fails\"");
    expect_error(LISTEN "upstream_max_fails;",
                 "t.conf:2:1: too few arguments for \"upstream_max_fails\"");
    expect_error(LISTEN "upstream_fail_timeout 0s;",
                 "t.conf:2:23: \"upstream_fail_timeout\" must be at least "
                 "1ms");
    expect_error(LISTEN "upstream_fail_timeout 10 s;",
                 "t.conf:2:26: too many arguments for "
                 "\"upstream_fail_timeout\" (missing \";\"?)");
    expect_error(LISTEN "upstream_fail_timeout 5x;",
                 "t.conf:2:23: invalid duration \"5x\" in "
                 "\"upstream_fail_timeout\"");
    expect_error(LISTEN "upstream_max_fails 2;\nupstream_max_fails 2;",
                 "t.conf:3:1: duplicate directive \"upstream_max_fails\"");
    expect_error(LISTEN "upstream_fail_timeout 1s;\n"
                        "upstream_fail_timeout 1s;",
                 "t.conf:3:1: duplicate directive \"upstream_fail_timeout\"");
    expect_error(LISTEN "region r { upstream_max_fails 2; }",
                 "t.conf:2:12: directive \"upstream_max_fails\" is only "
                 "allowed at top level");
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("parse");
    TCase *files = tcase_create("files");

    tcase_add_test(tc, example_loads);
    tcase_add_test(tc, defaults_as_documented);
    tcase_add_test(tc, every_value_directive_sets_its_field);
    tcase_add_test(tc, range_edges_accepted);
    tcase_add_test(tc, workers_auto_is_cpu_count);
    tcase_add_test(tc, listen_ipv4_and_ipv6);
    tcase_add_test(tc, snapshot_links_and_indexes);
    tcase_add_test(tc, sites_sorted_found_case_insensitively);
    tcase_add_test(tc, find_site_in_many);
    tcase_add_test(tc, syntax_comments_quotes_and_blanks);
    tcase_add_test(tc, refcounting);
    tcase_add_test(tc, err_buffer_may_be_small_or_absent);
    tcase_add_test(tc, unnamed_text_parses);
    tcase_add_test(tc, sizes);
    tcase_add_test(tc, durations);
    tcase_add_test(tc, lexical_errors);
    tcase_add_test(tc, nul_byte_refused);
    tcase_add_test(tc, statement_errors);
    tcase_add_test(tc, once_only_directives);
    tcase_add_test(tc, value_errors);
    tcase_add_test(tc, upstream_health_defaults_and_values);
    tcase_add_test(tc, upstream_health_errors);
    tcase_add_test(tc, long_domain_refused);
    tcase_add_test(tc, listen_errors);
    tcase_add_test(tc, too_many_listens);
    tcase_add_test(tc, region_shard_backend_errors);
    tcase_add_test(tc, too_many_backends);
    tcase_add_test(tc, site_errors);
    tcase_add_test(tc, site_before_its_shard);
    tcase_add_test(tc, whole_file_errors);
    tcase_add_test(tc, oversized_text_refused);
    tcase_add_test(tc, unnamed_text_cannot_include);
    tcase_add_test(tc, load_sample_file);
    tcase_add_test(tc, tcs_defaults);
    tcase_add_test(tc, redis_and_tcs_directives);
    tcase_add_test(tc, redis_errors);
    tcase_add_test(tc, tcs_errors);
    tcase_add_test(tc, unnamed_text_cannot_name_a_tenants_file);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(files, tmp_setup, tmp_teardown);
    tcase_set_timeout(files, 60);
    tcase_add_test(files, load_example_file);
    tcase_add_test(files, load_errors);
    tcase_add_test(files, tenants_file_loads_with_config);
    tcase_add_test(files, tenants_file_errors_name_the_file);
    tcase_add_test(files, include_relative_to_includer);
    tcase_add_test(files, include_absolute_and_from_parse);
    tcase_add_test(files, include_errors_name_the_right_file);
    tcase_add_test(files, include_cycle_refused);
    tcase_add_test(files, include_depth_limited);
    tcase_add_test(files, include_count_limited);
    tcase_add_test(files, include_total_size_limited);
    tcase_add_test(files, include_path_too_long);
    suite_add_tcase(s, files);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
