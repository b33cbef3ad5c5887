/*
 * tcs_context.c: turns a tenant record (JSON) into a compact, immutable
 * context, and answers the questions the request path asks of it.
 *
 * The parse runs in two steps so that a refused record allocates nothing
 * beyond jansson's tree: first every field is checked and noted as a
 * pointer into the tree, then one block is sized, filled and the tree is
 * dropped.
 */
#include "tcs_context.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A product as found in the tree; its strings belong to the tree. */
struct found_product {
    const char *name;
    size_t name_len;
    const char *shard;
    size_t shard_len;
    te_tcs_status status;
    int64_t seats;
};

/* The whole record as found in the tree, before it is copied out. */
struct found_record {
    const char *id, *site, *region, *shard; /* shard may be NULL */
    size_t id_len, site_len, region_len, shard_len;
    te_tcs_status status;
    uint64_t version;
    struct found_product products[TE_TCS_MAX_PRODUCTS];
    unsigned nproducts;
    const char *features[TE_TCS_MAX_FEATURES];
    size_t feature_lens[TE_TCS_MAX_FEATURES];
    unsigned nfeatures;
};

static const char *const status_names[] = {"active", "suspended", "deactivated",
                                           "destroyed"};

const char *te_tcs_status_name(te_tcs_status status)
{
    if ((unsigned)status >= sizeof(status_names) / sizeof(status_names[0]))
        return "?";
    return status_names[status];
}

int te_tcs_status_parse(const char *s, size_t len)
{
    for (unsigned i = 0; i < sizeof(status_names) / sizeof(*status_names);
         i++) {
        if (strlen(status_names[i]) == len &&
            memcmp(status_names[i], s, len) == 0)
            return (int)i;
    }
    return -1;
}

static int is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int te_tcs_site_valid(const char *s, size_t len)
{
    if (len == 0 || len > TE_TCS_NAME_MAX)
        return 0;
    if (s[0] == '-' || s[len - 1] == '-')
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return 0;
    }
    return 1;
}

int te_tcs_name_valid(const char *s, size_t len)
{
    if (len == 0 || len > TE_TCS_NAME_MAX || s[0] == '-')
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return 0;
    }
    return 1;
}

int te_tcs_id_valid(const char *s, size_t len)
{
    if (len == 0 || len > TE_TCS_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int alnum = is_lower_alnum(c) || (c >= 'A' && c <= 'Z');

        if (!alnum && (i == 0 || (c != '-' && c != '.' && c != '_')))
            return 0;
    }
    return 1;
}

int te_tcs_prefix_valid(const char *s, size_t len)
{
    if (len == 0 || len > TE_TCS_PREFIX_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!is_lower_alnum(c) && !(c >= 'A' && c <= 'Z') && c != ':' &&
            c != '.' && c != '_' && c != '-')
            return 0;
    }
    return 1;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* jansson quotes the bytes near a syntax error; replaces any that would
 * break a one-line log record (control bytes, non-ASCII) with '?'. */
static void printable(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            *s = '?';
    }
}

/* Reads the string member <key> of <obj> and checks it with <valid>.
 * <where> names the object in the error ("" for the top level). */
static int get_name(json_t *obj, const char *key,
                    int (*valid)(const char *, size_t), const char **out,
                    size_t *outlen, const char *where, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);

    if (v == NULL) {
        set_err(err, errlen, "%s%s: missing", where, key);
        return -1;
    }
    if (!json_is_string(v)) {
        set_err(err, errlen, "%s%s: not a string", where, key);
        return -1;
    }

    *out = json_string_value(v);
    *outlen = json_string_length(v);
    if (!valid(*out, *outlen)) {
        set_err(err, errlen, "%s%s: not a valid name", where, key);
        return -1;
    }
    return 0;
}

/* Reads the status member of <obj>; <max> is the last status allowed
 * there (a product cannot be destroyed, only its tenant). */
static int get_status(json_t *obj, te_tcs_status max, te_tcs_status *out,
                      const char *where, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, "status");
    int st;

    if (v == NULL) {
        set_err(err, errlen, "%sstatus: missing", where);
        return -1;
    }
    if (!json_is_string(v)) {
        set_err(err, errlen, "%sstatus: not a string", where);
        return -1;
    }

    st = te_tcs_status_parse(json_string_value(v), json_string_length(v));
    if (st < 0 || st > (int)max) {
        set_err(err, errlen, "%sstatus: not a status allowed here", where);
        return -1;
    }
    *out = (te_tcs_status)st;
    return 0;
}

/* One entry of "products": {"status":..., "shard":..., "seats":N|null}. */
static int find_product(const char *name, json_t *v, struct found_product *p,
                        char *err, size_t errlen)
{
    char where[TE_TCS_NAME_MAX + 16];
    json_t *seats;

    p->name = name;
    p->name_len = strlen(name);
    if (!te_tcs_name_valid(name, p->name_len)) {
        set_err(err, errlen, "products: not a valid product name");
        return -1;
    }
    if (!json_is_object(v)) {
        set_err(err, errlen, "products.%s: not an object", name);
        return -1;
    }
    snprintf(where, sizeof(where), "products.%s.", name);

    if (get_status(v, TE_TCS_DEACTIVATED, &p->status, where, err, errlen) < 0)
        return -1;
    if (get_name(v, "shard", te_tcs_name_valid, &p->shard, &p->shard_len, where,
                 err, errlen) < 0)
        return -1;

    seats = json_object_get(v, "seats");
    if (seats == NULL || json_is_null(seats)) {
        p->seats = TE_TCS_SEATS_UNLIMITED;
        return 0;
    }
    if (!json_is_integer(seats) || json_integer_value(seats) < 0 ||
        json_integer_value(seats) > TE_TCS_MAX_SEATS) {
        set_err(err, errlen, "%sseats: not null or an integer 0..%d", where,
                TE_TCS_MAX_SEATS);
        return -1;
    }
    p->seats = json_integer_value(seats);
    return 0;
}

static int find_products(json_t *root, struct found_record *r, char *err,
                         size_t errlen)
{
    json_t *products = json_object_get(root, "products");
    const char *name;
    json_t *v;

    if (products == NULL) {
        set_err(err, errlen, "products: missing");
        return -1;
    }
    if (!json_is_object(products)) {
        set_err(err, errlen, "products: not an object");
        return -1;
    }
    if (json_object_size(products) > TE_TCS_MAX_PRODUCTS) {
        set_err(err, errlen, "products: more than %d", TE_TCS_MAX_PRODUCTS);
        return -1;
    }

    r->nproducts = 0;
    json_object_foreach(products, name, v)
    {
        if (find_product(name, v, &r->products[r->nproducts], err, errlen) < 0)
            return -1;
        r->nproducts++;
    }
    return 0;
}

static int find_features(json_t *root, struct found_record *r, char *err,
                         size_t errlen)
{
    json_t *features = json_object_get(root, "features");
    size_t i;
    json_t *v;

    r->nfeatures = 0;
    if (features == NULL)
        return 0;
    if (!json_is_array(features)) {
        set_err(err, errlen, "features: not an array");
        return -1;
    }
    if (json_array_size(features) > TE_TCS_MAX_FEATURES) {
        set_err(err, errlen, "features: more than %d", TE_TCS_MAX_FEATURES);
        return -1;
    }

    json_array_foreach(features, i, v)
    {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);

        if (s == NULL || !te_tcs_name_valid(s, len)) {
            set_err(err, errlen, "features[%zu]: not a valid name", i);
            return -1;
        }
        for (unsigned j = 0; j < r->nfeatures; j++) {
            if (r->feature_lens[j] == len &&
                memcmp(r->features[j], s, len) == 0) {
                set_err(err, errlen, "features[%zu]: listed twice", i);
                return -1;
            }
        }
        r->features[r->nfeatures] = s;
        r->feature_lens[r->nfeatures] = len;
        r->nfeatures++;
    }
    return 0;
}

/* Checks the whole tree and notes what it found in <r>. */
static int find_record(json_t *root, struct found_record *r, char *err,
                       size_t errlen)
{
    json_t *version;

    if (!json_is_object(root)) {
        set_err(err, errlen, "record: not an object");
        return -1;
    }

    if (get_name(root, "id", te_tcs_id_valid, &r->id, &r->id_len, "", err,
                 errlen) < 0 ||
        get_name(root, "site", te_tcs_site_valid, &r->site, &r->site_len, "",
                 err, errlen) < 0 ||
        get_name(root, "region", te_tcs_name_valid, &r->region, &r->region_len,
                 "", err, errlen) < 0)
        return -1;

    r->shard = NULL;
    r->shard_len = 0;
    if (json_object_get(root, "shard") != NULL &&
        get_name(root, "shard", te_tcs_name_valid, &r->shard, &r->shard_len, "",
                 err, errlen) < 0)
        return -1;

    if (get_status(root, TE_TCS_DESTROYED, &r->status, "", err, errlen) < 0)
        return -1;

    version = json_object_get(root, "version");
    if (version == NULL) {
        set_err(err, errlen, "version: missing");
        return -1;
    }
    if (!json_is_integer(version) || json_integer_value(version) < 0) {
        set_err(err, errlen, "version: not a non-negative integer");
        return -1;
    }
    r->version = (uint64_t)json_integer_value(version);

    if (find_products(root, r, err, errlen) < 0)
        return -1;
    return find_features(root, r, err, errlen);
}

/* Adds <n> to <*acc>; -1 on overflow. */
static int size_add(size_t *acc, size_t n)
{
    return __builtin_add_overflow(*acc, n, acc) ? -1 : 0;
}

/* Bytes of the one block for <r>: struct, tables, strings with their
 * terminators. Every term is bounded by the record size, but the sum is
 * checked anyway. Returns 0 on overflow. */
static size_t block_size(const struct found_record *r)
{
    size_t n = sizeof(te_tcs_context);
    size_t table;

    if (__builtin_mul_overflow((size_t)r->nproducts, sizeof(te_tcs_product),
                               &table) ||
        size_add(&n, table) < 0)
        return 0;
    if (__builtin_mul_overflow((size_t)r->nfeatures, sizeof(char *), &table) ||
        size_add(&n, table) < 0)
        return 0;

    if (size_add(&n, r->id_len + 1) < 0 || size_add(&n, r->site_len + 1) < 0 ||
        size_add(&n, r->region_len + 1) < 0)
        return 0;
    if (r->shard != NULL && size_add(&n, r->shard_len + 1) < 0)
        return 0;
    for (unsigned i = 0; i < r->nproducts; i++) {
        if (size_add(&n, r->products[i].name_len + 1) < 0 ||
            size_add(&n, r->products[i].shard_len + 1) < 0)
            return 0;
    }
    for (unsigned i = 0; i < r->nfeatures; i++) {
        if (size_add(&n, r->feature_lens[i] + 1) < 0)
            return 0;
    }
    return n;
}

/* Copies <len> bytes of <s> to <*cursor>, terminates them, and moves the
 * cursor on. Returns the copy. */
static const char *put_string(char **cursor, const char *s, size_t len)
{
    char *out = *cursor;

    memcpy(out, s, len);
    out[len] = '\0';
    *cursor = out + len + 1;
    return out;
}

/* Lays out the block: [context][products][feature pointers][strings]. The
 * tables hold pointers and 64-bit integers, and the context's size is a
 * multiple of their alignment, so no padding is needed between them. */
static te_tcs_context *build(const struct found_record *r)
{
    size_t size = block_size(r);
    te_tcs_product *products;
    const char **features;
    te_tcs_context *ctx;
    char *cursor;

    if (size == 0)
        return NULL;
    ctx = calloc(1, size);
    if (ctx == NULL)
        return NULL;

    products = (te_tcs_product *)(ctx + 1);
    features = (const char **)(products + r->nproducts);
    cursor = (char *)(features + r->nfeatures);

    ctx->refs = 1;
    ctx->id = put_string(&cursor, r->id, r->id_len);
    ctx->site = put_string(&cursor, r->site, r->site_len);
    ctx->region = put_string(&cursor, r->region, r->region_len);
    if (r->shard != NULL)
        ctx->shard = put_string(&cursor, r->shard, r->shard_len);
    ctx->status = r->status;
    ctx->version = r->version;

    for (unsigned i = 0; i < r->nproducts; i++) {
        const struct found_product *p = &r->products[i];

        products[i].name = put_string(&cursor, p->name, p->name_len);
        products[i].shard = put_string(&cursor, p->shard, p->shard_len);
        products[i].status = p->status;
        products[i].seats = p->seats;
    }
    ctx->products = products;
    ctx->nproducts = r->nproducts;

    for (unsigned i = 0; i < r->nfeatures; i++)
        features[i] = put_string(&cursor, r->features[i], r->feature_lens[i]);
    ctx->features = features;
    ctx->nfeatures = r->nfeatures;
    return ctx;
}

te_tcs_context *te_tcs_context_from_json(json_t *root, char *err, size_t errlen)
{
    struct found_record r;
    te_tcs_context *ctx;

    if (find_record(root, &r, err, errlen) < 0)
        return NULL;

    ctx = build(&r);
    if (ctx == NULL)
        set_err(err, errlen, "record: out of memory");
    return ctx;
}

te_tcs_context *te_tcs_context_parse(const char *json, size_t len, char *err,
                                     size_t errlen)
{
    te_tcs_context *ctx;
    json_error_t jerr;
    json_t *root;

    if (json == NULL || len == 0) {
        set_err(err, errlen, "record: empty");
        return NULL;
    }
    if (len > TE_TCS_MAX_RECORD) {
        set_err(err, errlen, "record: %zu bytes, over the limit of %d", len,
                TE_TCS_MAX_RECORD);
        return NULL;
    }

    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        printable(jerr.text);
        set_err(err, errlen, "record: invalid JSON at line %d column %d: %s",
                jerr.line, jerr.column, jerr.text);
        return NULL;
    }

    ctx = te_tcs_context_from_json(root, err, errlen);
    json_decref(root);
    return ctx;
}

te_tcs_context *te_tcs_context_make(const char *id, const char *site,
                                    const char *region, const char *shard)
{
    struct found_record r;

    memset(&r, 0, sizeof(r));
    r.id = id;
    r.id_len = strlen(id);
    r.site = site;
    r.site_len = strlen(site);
    r.region = region;
    r.region_len = strlen(region);
    r.shard = shard;
    r.shard_len = shard != NULL ? strlen(shard) : 0;
    r.status = TE_TCS_ACTIVE;
    return build(&r);
}

te_tcs_context *te_tcs_context_ref(te_tcs_context *ctx)
{
    ctx->refs++;
    return ctx;
}

void te_tcs_context_free(te_tcs_context *ctx)
{
    if (ctx == NULL)
        return;
    if (--ctx->refs == 0)
        free(ctx);
}

const te_tcs_product *te_tcs_context_product(const te_tcs_context *ctx,
                                             const char *name)
{
    for (unsigned i = 0; i < ctx->nproducts; i++) {
        if (strcmp(ctx->products[i].name, name) == 0)
            return &ctx->products[i];
    }
    return NULL;
}

int te_tcs_context_has_feature(const te_tcs_context *ctx, const char *name)
{
    for (unsigned i = 0; i < ctx->nfeatures; i++) {
        if (strcmp(ctx->features[i], name) == 0)
            return 1;
    }
    return 0;
}
