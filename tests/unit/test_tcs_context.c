/*
 * test_tcs_context.c: the tenant record parser accepts the records
 * tenantctl and DESIGN.md describe, and refuses every other shape with a
 * reason, since a record it misreads would route or authorise wrongly.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcs_context.h"

#define DESIGN_RECORD                                                          \
    "{\"id\":\"t-4821\",\"site\":\"acme\",\"status\":\"active\","              \
    "\"region\":\"us-east\",\"version\":7,\"features\":[\"new-editor\"],"      \
    "\"products\":{\"jira\":{\"status\":\"active\",\"shard\":"                 \
    "\"use-jira-2\",\"seats\":250},\"confluence\":{\"status\":"                \
    "\"suspended\",\"shard\":\"use-conf-1\"}}}"

static te_tcs_context *parse(const char *json, char *err, size_t errlen)
{
    return te_tcs_context_parse(json, strlen(json), err, errlen);
}

START_TEST(design_record_parses)
{
    char err[256] = "";
    te_tcs_context *ctx = parse(DESIGN_RECORD, err, sizeof(err));
    const te_tcs_product *p;

    ck_assert_msg(ctx != NULL, "refused: %s", err);
    ck_assert_int_eq(ctx->refs, 1);
    ck_assert_str_eq(ctx->id, "t-4821");
    ck_assert_str_eq(ctx->site, "acme");
    ck_assert_str_eq(ctx->region, "us-east");
    ck_assert_ptr_null(ctx->shard);
    ck_assert_int_eq(ctx->status, TE_TCS_ACTIVE);
    ck_assert_uint_eq(ctx->version, 7);
    ck_assert_uint_eq(ctx->nproducts, 2);
    ck_assert_uint_eq(ctx->nfeatures, 1);

    p = te_tcs_context_product(ctx, "jira");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->shard, "use-jira-2");
    ck_assert_int_eq(p->status, TE_TCS_ACTIVE);
    ck_assert_int_eq(p->seats, 250);

    p = te_tcs_context_product(ctx, "confluence");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->shard, "use-conf-1");
    ck_assert_int_eq(p->status, TE_TCS_SUSPENDED);
    ck_assert_int_eq(p->seats, TE_TCS_SEATS_UNLIMITED);

    ck_assert_ptr_null(te_tcs_context_product(ctx, "bitbucket"));
    ck_assert_int_eq(te_tcs_context_has_feature(ctx, "new-editor"), 1);
    ck_assert_int_eq(te_tcs_context_has_feature(ctx, "new"), 0);
    te_tcs_context_free(ctx);
}
END_TEST

/* The context, its tables and its strings are one block, in that order. */
START_TEST(context_is_one_block)
{
    te_tcs_context *ctx = parse(DESIGN_RECORD, NULL, 0);
    const char *start, *strings;

    ck_assert_ptr_nonnull(ctx);
    start = (const char *)ctx;
    ck_assert_ptr_eq((const void *)ctx->products, (const void *)(ctx + 1));
    ck_assert_ptr_eq((const void *)ctx->features,
                     (const void *)(ctx->products + ctx->nproducts));
    strings = (const char *)(ctx->features + ctx->nfeatures);
    ck_assert_ptr_eq(ctx->id, strings);
    ck_assert(ctx->site > start && ctx->region > start);
    ck_assert(ctx->products[1].shard > ctx->products[0].name);
    ck_assert(ctx->features[0] > ctx->products[1].shard);
    te_tcs_context_free(ctx);
}
END_TEST

START_TEST(references_are_counted)
{
    te_tcs_context *ctx = parse(DESIGN_RECORD, NULL, 0);

    ck_assert_ptr_nonnull(ctx);
    ck_assert_ptr_eq(te_tcs_context_ref(ctx), ctx);
    ck_assert_int_eq(ctx->refs, 2);
    te_tcs_context_free(ctx);
    ck_assert_int_eq(ctx->refs, 1);
    ck_assert_str_eq(ctx->site, "acme");
    te_tcs_context_free(ctx);
    te_tcs_context_free(NULL);
}
END_TEST

START_TEST(optional_parts_and_unknown_fields)
{
    const char *json =
        "{\"id\":\"T_9.x\",\"site\":\"a\",\"status\":\"destroyed\","
        "\"region\":\"eu\",\"version\":0,\"products\":{},"
        "\"owner\":{\"any\":[1,2]},\"note\":\"x\"}";
    char err[256] = "";
    te_tcs_context *ctx = parse(json, err, sizeof(err));

    ck_assert_msg(ctx != NULL, "refused: %s", err);
    ck_assert_int_eq(ctx->status, TE_TCS_DESTROYED);
    ck_assert_uint_eq(ctx->version, 0);
    ck_assert_uint_eq(ctx->nproducts, 0);
    ck_assert_uint_eq(ctx->nfeatures, 0);
    ck_assert_str_eq(ctx->id, "T_9.x");
    te_tcs_context_free(ctx);
}
END_TEST

/* "shard", the site's default shard (the simple mode, no products), is
 * optional, copied into the block, and follows the shard name rules. */
START_TEST(default_shard_is_read)
{
    const char *json =
        "{\"id\":\"t-0001\",\"site\":\"acme\",\"status\":\"active\","
        "\"region\":\"eu\",\"shard\":\"eu-1\",\"version\":3,"
        "\"products\":{}}";
    char err[256] = "";
    te_tcs_context *ctx = parse(json, err, sizeof(err));
    const char *end;

    ck_assert_msg(ctx != NULL, "refused: %s", err);
    ck_assert_str_eq(ctx->shard, "eu-1");
    ck_assert_str_eq(ctx->region, "eu");
    end = (const char *)(ctx->features + ctx->nfeatures);
    ck_assert(ctx->shard > end && ctx->shard > ctx->region);
    te_tcs_context_free(ctx);
}
END_TEST

/* A static site line becomes a context without a record. */
START_TEST(made_context_for_static_site)
{
    te_tcs_context *ctx = te_tcs_context_make("T_1", "acme", "eu", "eu-1");

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(ctx->refs, 1);
    ck_assert_str_eq(ctx->id, "T_1");
    ck_assert_str_eq(ctx->site, "acme");
    ck_assert_str_eq(ctx->region, "eu");
    ck_assert_str_eq(ctx->shard, "eu-1");
    ck_assert_int_eq(ctx->status, TE_TCS_ACTIVE);
    ck_assert_uint_eq(ctx->version, 0);
    ck_assert_uint_eq(ctx->nproducts, 0);
    ck_assert_uint_eq(ctx->nfeatures, 0);
    te_tcs_context_free(ctx);

    ctx = te_tcs_context_make("t", "s", "r", NULL);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_ptr_null(ctx->shard);
    te_tcs_context_free(ctx);
}
END_TEST

START_TEST(seats_null_zero_and_largest)
{
    const char *json =
        "{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"suspended\","
        "\"region\":\"eu\",\"version\":9223372036854775807,"
        "\"features\":[],\"products\":{"
        "\"p0\":{\"status\":\"active\",\"shard\":\"s\",\"seats\":null},"
        "\"p1\":{\"status\":\"deactivated\",\"shard\":\"s\",\"seats\":0},"
        "\"p2\":{\"status\":\"active\",\"shard\":\"s\","
        "\"seats\":2147483647}}}";
    char err[256] = "";
    te_tcs_context *ctx = parse(json, err, sizeof(err));

    ck_assert_msg(ctx != NULL, "refused: %s", err);
    ck_assert_uint_eq(ctx->version, 9223372036854775807ULL);
    ck_assert_int_eq(te_tcs_context_product(ctx, "p0")->seats,
                     TE_TCS_SEATS_UNLIMITED);
    ck_assert_int_eq(te_tcs_context_product(ctx, "p1")->seats, 0);
    ck_assert_int_eq(te_tcs_context_product(ctx, "p1")->status,
                     TE_TCS_DEACTIVATED);
    ck_assert_int_eq(te_tcs_context_product(ctx, "p2")->seats, 2147483647);
    te_tcs_context_free(ctx);
}
END_TEST

/* Every way a record is refused, with a word the reason must contain. */
static const struct refusal {
    const char *json;
    const char *reason;
} refusals[] = {
    /* not JSON, or not an object */
    {"", "empty"},
    {"{", "invalid JSON"},
    {"[]", "not an object"},
    {"\"acme\"", "invalid JSON"},
    {"{} {}", "invalid JSON"},
    {"{\"id\":\"t\xff\"}", "invalid JSON"},
    {"{\"id\":\"t\\u0000\"}", "invalid JSON"},
    /* duplicate keys, at the top and inside a product */
    {"{\"id\":\"t-1\",\"id\":\"t-2\",\"site\":\"a\",\"status\":\"active\","
     "\"region\":\"eu\",\"version\":1,\"products\":{}}",
     "duplicate"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{\"j\":{\"status\":\"active\","
     "\"shard\":\"s\",\"shard\":\"t\"}}}",
     "duplicate"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{\"j\":{\"status\":\"active\","
     "\"shard\":\"s\"},\"j\":{\"status\":\"active\",\"shard\":\"s\"}}}",
     "duplicate"},
    /* missing fields */
    {"{\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{}}",
     "id: missing"},
    {"{\"id\":\"t-1\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{}}",
     "site: missing"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"region\":\"eu\","
     "\"version\":1,\"products\":{}}",
     "status: missing"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\","
     "\"version\":1,\"products\":{}}",
     "region: missing"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"products\":{}}",
     "version: missing"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1}",
     "products: missing"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{\"j\":{\"status\":\"active\"}}}",
     "products.j.shard: missing"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{\"j\":{\"shard\":\"s\"}}}",
     "products.j.status: missing"},
    /* statuses */
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"paused\",\"region\":\"eu\","
     "\"version\":1,\"products\":{}}",
     "status: not a status"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"Active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{}}",
     "status: not a status"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{\"j\":{\"status\":\"destroyed\","
     "\"shard\":\"s\"}}}",
     "products.j.status: not a status"},
    /* wrong types */
    {"{\"id\":7,\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{}}",
     "id: not a string"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":1,\"region\":\"eu\","
     "\"version\":1,\"products\":{}}",
     "status: not a string"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":\"1\",\"products\":{}}",
     "version: not"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":7.0,\"products\":{}}",
     "version: not"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":-1,\"products\":{}}",
     "version: not"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":null,\"products\":{}}",
     "version: not"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":[]}",
     "products: not an object"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{\"j\":\"s\"}}",
     "products.j: not an object"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{},\"features\":{}}",
     "features: not an array"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{},\"features\":[1]}",
     "features[0]"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{\"j\":{\"status\":\"active\","
     "\"shard\":\"s\",\"seats\":\"10\"}}}",
     "products.j.seats"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{\"j\":{\"status\":\"active\","
     "\"shard\":\"s\",\"seats\":-1}}}",
     "products.j.seats"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{\"j\":{\"status\":\"active\","
     "\"shard\":\"s\",\"seats\":2.5}}}",
     "products.j.seats"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{\"j\":{\"status\":\"active\","
     "\"shard\":\"s\",\"seats\":2147483648}}}",
     "products.j.seats"},
    /* names outside their charset or length */
    {"{\"id\":\"t-1\",\"site\":\"Acme\",\"status\":\"active\","
     "\"region\":\"eu\",\"version\":1,\"products\":{}}",
     "site: not a valid name"},
    {"{\"id\":\"t-1\",\"site\":\"-acme\",\"status\":\"active\","
     "\"region\":\"eu\",\"version\":1,\"products\":{}}",
     "site: not a valid name"},
    {"{\"id\":\"t-1\",\"site\":\"acme.x\",\"status\":\"active\","
     "\"region\":\"eu\",\"version\":1,\"products\":{}}",
     "site: not a valid name"},
    {"{\"id\":\"t-1\",\"site\":\"a234567890123456789012345678901234567890"
     "123456789012345678901234\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{}}",
     "site: not a valid name"},
    {"{\"id\":\"t 1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{}}",
     "id: not a valid name"},
    {"{\"id\":\"t:1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{}}",
     "id: not a valid name"},
    {"{\"id\":\"\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{}}",
     "id: not a valid name"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\","
     "\"region\":\"eu_west\",\"version\":1,\"products\":{}}",
     "region: not a valid name"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{\"Jira\":{\"status\":\"active\","
     "\"shard\":\"s\"}}}",
     "products: not a valid product name"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{\"j\":{\"status\":\"active\","
     "\"shard\":\"s 1\"}}}",
     "products.j.shard: not a valid name"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"version\":1,\"products\":{},\"features\":[\"x\",\"x\"]}",
     "features[1]: listed twice"},
    /* the optional default shard */
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"shard\":\"EU_1\",\"version\":1,\"products\":{}}",
     "shard: not a valid name"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"shard\":null,\"version\":1,\"products\":{}}",
     "shard: not a string"},
    {"{\"id\":\"t-1\",\"site\":\"a\",\"status\":\"active\",\"region\":\"eu\","
     "\"shard\":\"\",\"version\":1,\"products\":{}}",
     "shard: not a valid name"},
};

START_TEST(refusals_have_reasons)
{
    const struct refusal *r = &refusals[_i];
    char err[256] = "";
    te_tcs_context *ctx = parse(r->json, err, sizeof(err));

    ck_assert_msg(ctx == NULL, "accepted #%d: %s", _i, r->json);
    ck_assert_msg(strstr(err, r->reason) != NULL,
                  "#%d: reason \"%s\" lacks \"%s\"", _i, err, r->reason);
}
END_TEST

START_TEST(null_input_and_no_error_buffer)
{
    char err[8];

    ck_assert_ptr_null(te_tcs_context_parse(NULL, 0, err, sizeof(err)));
    ck_assert_int_eq(err[sizeof(err) - 1], '\0');
    ck_assert_ptr_null(te_tcs_context_parse("{", 1, NULL, 0));
    ck_assert_ptr_null(te_tcs_context_parse("[1]", 3, err, 0));
}
END_TEST

/* A record of exactly <size> bytes: DESIGN_RECORD padded with spaces,
 * which JSON allows between tokens. */
static char *padded_record(size_t size)
{
    size_t len = strlen(DESIGN_RECORD);
    char *buf = malloc(size);

    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_ge(size, len);
    memcpy(buf, DESIGN_RECORD, len);
    memset(buf + len, ' ', size - len);
    return buf;
}

START_TEST(size_limit_is_exact)
{
    char *at = padded_record(TE_TCS_MAX_RECORD);
    char *over = padded_record(TE_TCS_MAX_RECORD + 1);
    char err[256] = "";
    te_tcs_context *ctx;

    ctx = te_tcs_context_parse(at, TE_TCS_MAX_RECORD, err, sizeof(err));
    ck_assert_msg(ctx != NULL, "refused at the limit: %s", err);
    te_tcs_context_free(ctx);

    ctx = te_tcs_context_parse(over, TE_TCS_MAX_RECORD + 1, err, sizeof(err));
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(err, "over the limit") != NULL, "%s", err);
    free(at);
    free(over);
}
END_TEST

/* A record with <nproducts> products and <nfeatures> features. */
static char *record_with(unsigned nproducts, unsigned nfeatures)
{
    size_t cap = 256 + 64 * (size_t)(nproducts + nfeatures);
    char *buf = malloc(cap);
    size_t n;

    ck_assert_ptr_nonnull(buf);
    n = (size_t)snprintf(buf, cap,
                         "{\"id\":\"t-1\",\"site\":\"a\",\"status\":"
                         "\"active\",\"region\":\"eu\",\"version\":1,"
                         "\"products\":{");
    for (unsigned i = 0; i < nproducts; i++)
        n += (size_t)snprintf(buf + n, cap - n,
                              "%s\"p%u\":{\"status\":\"active\","
                              "\"shard\":\"s%u\"}",
                              i ? "," : "", i, i);
    n += (size_t)snprintf(buf + n, cap - n, "},\"features\":[");
    for (unsigned i = 0; i < nfeatures; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s\"f%u\"", i ? "," : "", i);
    snprintf(buf + n, cap - n, "]}");
    return buf;
}

START_TEST(product_and_feature_limits)
{
    static const struct {
        unsigned products, features;
        int ok;
        const char *reason;
    } cases[] = {
        {TE_TCS_MAX_PRODUCTS, TE_TCS_MAX_FEATURES, 1, ""},
        {TE_TCS_MAX_PRODUCTS + 1, 0, 0, "products: more than"},
        {0, TE_TCS_MAX_FEATURES + 1, 0, "features: more than"},
    };

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *json = record_with(cases[i].products, cases[i].features);
        char err[256] = "";
        te_tcs_context *ctx = parse(json, err, sizeof(err));

        ck_assert_msg((ctx != NULL) == cases[i].ok, "case %u: %s", i, err);
        if (ctx != NULL) {
            ck_assert_uint_eq(ctx->nproducts, cases[i].products);
            ck_assert_str_eq(te_tcs_context_product(ctx, "p63")->shard, "s63");
            ck_assert_int_eq(te_tcs_context_has_feature(ctx, "f63"), 1);
        } else {
            ck_assert_msg(strstr(err, cases[i].reason) != NULL, "%s", err);
        }
        te_tcs_context_free(ctx);
        free(json);
    }
}
END_TEST

START_TEST(name_rules)
{
    static const struct {
        int (*valid)(const char *, size_t);
        const char *s;
        int ok;
    } cases[] = {
        {te_tcs_site_valid, "acme", 1},       {te_tcs_site_valid, "a-1", 1},
        {te_tcs_site_valid, "0", 1},          {te_tcs_site_valid, "", 0},
        {te_tcs_site_valid, "acme-", 0},      {te_tcs_site_valid, "ac_me", 0},
        {te_tcs_site_valid, "ACME", 0},       {te_tcs_site_valid, "a.b", 0},
        {te_tcs_name_valid, "use-jira-2", 1}, {te_tcs_name_valid, "eu-", 1},
        {te_tcs_name_valid, "-eu", 0},        {te_tcs_name_valid, "eu west", 0},
        {te_tcs_name_valid, "eu:1", 0},       {te_tcs_id_valid, "t-0001", 1},
        {te_tcs_id_valid, "T.a_b-c", 1},      {te_tcs_id_valid, "-t", 0},
        {te_tcs_id_valid, ".t", 0},           {te_tcs_id_valid, "t/1", 0},
        {te_tcs_id_valid, "t*", 0},
    };
    char longest[TE_TCS_ID_MAX + 2];

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(cases[i].valid(cases[i].s, strlen(cases[i].s)) ==
                          cases[i].ok,
                      "case %u: \"%s\"", i, cases[i].s);

    memset(longest, 'a', sizeof(longest));
    ck_assert_int_eq(te_tcs_site_valid(longest, TE_TCS_NAME_MAX), 1);
    ck_assert_int_eq(te_tcs_site_valid(longest, TE_TCS_NAME_MAX + 1), 0);
    ck_assert_int_eq(te_tcs_name_valid(longest, TE_TCS_NAME_MAX + 1), 0);
    ck_assert_int_eq(te_tcs_id_valid(longest, TE_TCS_ID_MAX), 1);
    ck_assert_int_eq(te_tcs_id_valid(longest, TE_TCS_ID_MAX + 1), 0);
}
END_TEST

/* Key prefixes: what `tcs { prefix; }` and `tenantctl -p` accept. */
START_TEST(prefix_rules)
{
    char longest[TE_TCS_PREFIX_MAX + 2];

    ck_assert_int_eq(te_tcs_prefix_valid("tcs:", 4), 1);
    ck_assert_int_eq(te_tcs_prefix_valid("Edge1.tcs_B-2:", 14), 1);
    ck_assert_int_eq(te_tcs_prefix_valid("", 0), 0);
    ck_assert_int_eq(te_tcs_prefix_valid("a b", 3), 0);
    ck_assert_int_eq(te_tcs_prefix_valid("tcs*", 4), 0); /* a glob */
    ck_assert_int_eq(te_tcs_prefix_valid("t[1]", 4), 0);
    ck_assert_int_eq(te_tcs_prefix_valid("t\\:", 2), 0);
    memset(longest, 'p', sizeof(longest));
    ck_assert_int_eq(te_tcs_prefix_valid(longest, TE_TCS_PREFIX_MAX), 1);
    ck_assert_int_eq(te_tcs_prefix_valid(longest, TE_TCS_PREFIX_MAX + 1), 0);
}
END_TEST

START_TEST(status_names_round_trip)
{
    for (int st = TE_TCS_ACTIVE; st <= TE_TCS_DESTROYED; st++) {
        const char *name = te_tcs_status_name((te_tcs_status)st);

        ck_assert_int_eq(te_tcs_status_parse(name, strlen(name)), st);
    }
    ck_assert_int_eq(te_tcs_status_parse("activ", 5), -1);
    ck_assert_int_eq(te_tcs_status_parse("actives", 7), -1);
    ck_assert_str_eq(te_tcs_status_name((te_tcs_status)9), "?");
}
END_TEST

static Suite *tcs_context_suite(void)
{
    Suite *s = suite_create("tcs_context");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, design_record_parses);
    tcase_add_test(tc, context_is_one_block);
    tcase_add_test(tc, references_are_counted);
    tcase_add_test(tc, optional_parts_and_unknown_fields);
    tcase_add_test(tc, default_shard_is_read);
    tcase_add_test(tc, made_context_for_static_site);
    tcase_add_test(tc, seats_null_zero_and_largest);
    tcase_add_loop_test(tc, refusals_have_reasons, 0,
                        (int)(sizeof(refusals) / sizeof(refusals[0])));
    tcase_add_test(tc, null_input_and_no_error_buffer);
    tcase_add_test(tc, size_limit_is_exact);
    tcase_add_test(tc, product_and_feature_limits);
    suite_add_tcase(s, tc);

    tc = tcase_create("names");
    tcase_add_test(tc, name_rules);
    tcase_add_test(tc, prefix_rules);
    tcase_add_test(tc, status_names_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tcs_context_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
