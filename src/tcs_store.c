/*
 * tcs_store.c: the static and file tenant stores (see tcs_store.h).
 *
 * A table is an array of context references sorted by site. Duplicates
 * are refused when a table is built, so a site can never resolve to two
 * tenants depending on where a binary search lands; ids are checked too,
 * because lifecycle events and headers name tenants by id.
 */
#include "tcs_store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"

struct te_tcs_table {
    te_tcs_context **ctx; /* sorted by site; the table's references */
    size_t n;
};

/* One record of the file and its place in the "tenants" array. */
struct slot {
    te_tcs_context *ctx;
    size_t index;
};

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

static int cmp_site(const void *a, const void *b)
{
    const struct slot *x = a, *y = b;

    return strcmp(x->ctx->site, y->ctx->site);
}

static int cmp_id(const void *a, const void *b)
{
    const struct slot *x = a, *y = b;
    int c = strcmp(x->ctx->id, y->ctx->id);

    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Sorts <s> by id then by site and refuses any name given twice, naming
 * the later record. Leaves <s> sorted by site. */
static int check_unique(struct slot *s, size_t n, char *err, size_t errlen)
{
    if (n < 2)
        return 0;

    qsort(s, n, sizeof(*s), cmp_id);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(s[i - 1].ctx->id, s[i].ctx->id) == 0) {
            set_err(err, errlen, "tenants[%zu]: id \"%s\" listed twice",
                    s[i].index, s[i].ctx->id);
            return -1;
        }
    }

    qsort(s, n, sizeof(*s), cmp_site);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(s[i - 1].ctx->site, s[i].ctx->site) == 0) {
            size_t later = TE_MAX(s[i - 1].index, s[i].index);

            set_err(err, errlen, "tenants[%zu]: site \"%s\" listed twice",
                    later, s[i].ctx->site);
            return -1;
        }
    }
    return 0;
}

/* Moves the sorted contexts of <s> into a new table; frees <s>. */
static te_tcs_table *table_of(struct slot *s, size_t n, char *err,
                              size_t errlen)
{
    te_tcs_table *tb = calloc(1, sizeof(*tb));

    if (tb == NULL ||
        (n > 0 && (tb->ctx = calloc(n, sizeof(*tb->ctx))) == NULL)) {
        set_err(err, errlen, "out of memory");
        free(tb);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        tb->ctx[i] = s[i].ctx;
    tb->n = n;
    free(s);
    return tb;
}

static void slots_free(struct slot *s, size_t n)
{
    for (size_t i = 0; s != NULL && i < n; i++)
        te_tcs_context_free(s[i].ctx);
    free(s);
}

/* The shards of a configuration sorted by name: checking a large tenants
 * file then costs one binary search per shard a record names. */
struct shard_index {
    const te_shard **v;
    size_t n;
};

static int cmp_shard(const void *a, const void *b)
{
    const te_shard *const *x = a, *const *y = b;

    return strcmp((*x)->name, (*y)->name);
}

static int shard_index_init(struct shard_index *ix, const te_config *cf)
{
    size_t n = 0;

    for (unsigned i = 0; i < cf->nregions; i++)
        n += cf->regions[i]->nshards;
    ix->n = 0;
    ix->v = calloc(n > 0 ? n : 1, sizeof(*ix->v));
    if (ix->v == NULL)
        return -1;
    for (unsigned i = 0; i < cf->nregions; i++)
        for (unsigned j = 0; j < cf->regions[i]->nshards; j++)
            ix->v[ix->n++] = cf->regions[i]->shards[j];
    qsort(ix->v, ix->n, sizeof(*ix->v), cmp_shard);
    return 0;
}

/* The shard called <name> (exactly, as the route module looks it up),
 * or NULL. */
static const te_shard *shard_find(const struct shard_index *ix,
                                  const char *name)
{
    size_t lo = 0, hi = ix->n;

    /* Bounded: the range halves on every pass. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, ix->v[mid]->name);

        if (c == 0)
            return ix->v[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* One shard a record names (<what>: "shard" or "product NAME shard"),
 * by the residency rule the route module applies to every request. */
static int check_one_shard(const struct shard_index *ix,
                           const te_tcs_context *ctx, size_t index,
                           const char *what, const char *name, char *err,
                           size_t errlen)
{
    const te_shard *sh = shard_find(ix, name);

    if (sh == NULL) {
        set_err(err, errlen,
                "tenants[%zu] (site \"%s\"): %s \"%s\" is in no region "
                "block",
                index, ctx->site, what, name);
        return -1;
    }
    if (strcmp(sh->region->name, ctx->region) != 0) {
        set_err(err, errlen,
                "tenants[%zu] (site \"%s\"): %s \"%s\" is in region "
                "\"%s\", not in the record's region \"%s\"",
                index, ctx->site, what, name, sh->region->name, ctx->region);
        return -1;
    }
    return 0;
}

/*
 * The file's records never change while the edge runs, so a shard that
 * does not exist, or lies outside the record's region, is a mistake in
 * the configuration: said at load (`tenantedge -t`) rather than as a 503
 * on every request. Redis records are checked per request only.
 */
static int check_shards(const struct shard_index *ix, const te_tcs_context *ctx,
                        size_t index, char *err, size_t errlen)
{
    char what[TE_TCS_NAME_MAX + sizeof("product  shard")];

    if (ctx->shard != NULL &&
        check_one_shard(ix, ctx, index, "shard", ctx->shard, err, errlen) < 0)
        return -1;
    for (unsigned i = 0; i < ctx->nproducts; i++) {
        const te_tcs_product *p = &ctx->products[i];

        snprintf(what, sizeof(what), "product %s shard", p->name);
        if (check_one_shard(ix, ctx, index, what, p->shard, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* Builds every record of the "tenants" array of <root>; with <cf>, also
 * checks the shards each names against it. */
static te_tcs_table *table_of_tree(json_t *root, const te_config *cf, char *err,
                                   size_t errlen)
{
    struct shard_index ix = {NULL, 0};
    char why[256] = "";
    struct slot *s = NULL;
    json_t *tenants, *rec;
    te_tcs_table *tb;
    size_t n = 0, i;

    if (!json_is_object(root)) {
        set_err(err, errlen, "not a JSON object");
        return NULL;
    }
    tenants = json_object_get(root, "tenants");
    if (!json_is_array(tenants)) {
        set_err(err, errlen, "\"tenants\": %s",
                tenants == NULL ? "missing" : "not an array");
        return NULL;
    }

    if (json_array_size(tenants) > 0) {
        s = calloc(json_array_size(tenants), sizeof(*s));
        if (s == NULL) {
            set_err(err, errlen, "out of memory");
            return NULL;
        }
    }
    if (cf != NULL && shard_index_init(&ix, cf) < 0) {
        set_err(err, errlen, "out of memory");
        goto fail;
    }

    json_array_foreach(tenants, i, rec)
    {
        s[n].ctx = te_tcs_context_from_json(rec, why, sizeof(why));
        if (s[n].ctx == NULL) {
            set_err(err, errlen, "tenants[%zu]: %s", i, why);
            goto fail;
        }
        s[n].index = i;
        n++;
        if (cf != NULL && check_shards(&ix, s[n - 1].ctx, i, err, errlen) < 0)
            goto fail;
    }

    if (check_unique(s, n, err, errlen) < 0)
        goto fail;
    tb = table_of(s, n, err, errlen);
    if (tb == NULL)
        goto fail;
    free(ix.v);
    return tb;

fail:
    free(ix.v);
    slots_free(s, n);
    return NULL;
}

/* The bytes of a tenants file as a table; <cf> as for table_of_tree. */
static te_tcs_table *table_of_text(const char *text, size_t len,
                                   const te_config *cf, char *err,
                                   size_t errlen)
{
    te_tcs_table *tb;
    json_error_t jerr;
    json_t *root;

    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        for (char *c = jerr.text; *c != '\0'; c++) {
            if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
                *c = '?';
        }
        set_err(err, errlen, "invalid JSON at line %d column %d: %s", jerr.line,
                jerr.column, jerr.text);
        return NULL;
    }

    tb = table_of_tree(root, cf, err, errlen);
    json_decref(root);
    return tb;
}

te_tcs_table *te_tcs_table_from_file(const char *text, size_t len, char *err,
                                     size_t errlen)
{
    return table_of_text(text, len, NULL, err, errlen);
}

/* Reads the regular file at <path>, at most TE_TCS_FILE_MAX bytes, into
 * a new buffer. Never blocks on a FIFO or a device. 0 or an errno value
 * (EINVAL: not a regular file, EFBIG: too large). */
static int read_all(const char *path, char **out, size_t *outlen)
{
    size_t len, got = 0;
    char *buf = NULL;
    struct stat st;
    int fd, e = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno;
    if (fstat(fd, &st) < 0) {
        e = errno;
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        e = EINVAL;
        goto fail;
    }
    if ((uint64_t)st.st_size > TE_TCS_FILE_MAX) {
        e = EFBIG;
        goto fail;
    }

    len = (size_t)st.st_size;
    buf = malloc(len + 1);
    if (buf == NULL) {
        e = ENOMEM;
        goto fail;
    }
    /* Bounded: each pass reads at least a byte or ends the loop. */
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);

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
    buf[got] = '\0';
    *out = buf;
    *outlen = got;
    return 0;

fail:
    free(buf);
    close(fd);
    return e;
}

int te_tcs_file_load(const char *path, const te_config *cf, char **text,
                     size_t *len, char *err, size_t errlen)
{
    te_tcs_table *tb;
    int e;

    e = read_all(path, text, len);
    if (e != 0) {
        set_err(err, errlen, "cannot read it: %s",
                e == EINVAL  ? "not a regular file"
                : e == EFBIG ? "larger than 64 MiB"
                             : strerror(e));
        return -1;
    }

    tb = table_of_text(*text, *len, cf, err, errlen);
    if (tb == NULL) {
        free(*text);
        *text = NULL;
        return -1;
    }
    te_tcs_table_free(tb);
    return 0;
}

te_tcs_table *te_tcs_table_from_sites(const te_config *cf)
{
    struct slot *s = NULL;
    te_tcs_table *tb;
    size_t n = 0;

    if (cf->nsites > 0) {
        s = calloc(cf->nsites, sizeof(*s));
        if (s == NULL)
            return NULL;
    }

    /* The config keeps its sites sorted by name and refuses duplicates,
     * so the slots come out in table order. */
    for (unsigned i = 0; i < cf->nsites; i++) {
        const te_site *site = cf->sites[i];

        s[n].ctx =
            te_tcs_context_make(site->tenant_id, site->name,
                                site->shard->region->name, site->shard->name);
        if (s[n].ctx == NULL)
            goto fail;
        s[n].index = i;
        n++;
    }
    tb = table_of(s, n, NULL, 0);
    if (tb != NULL)
        return tb;

fail:
    slots_free(s, n);
    return NULL;
}

void te_tcs_table_free(te_tcs_table *tb)
{
    if (tb == NULL)
        return;
    for (size_t i = 0; i < tb->n; i++)
        te_tcs_context_free(tb->ctx[i]);
    free(tb->ctx);
    free(tb);
}

/* Compares the length-bounded key with a terminated name, in strcmp's
 * byte order. */
static int cmp_key(const char *key, size_t len, const char *name)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char a = (unsigned char)key[i];
        unsigned char b = (unsigned char)name[i];

        if (b == '\0')
            return 1;
        if (a != b)
            return a < b ? -1 : 1;
    }
    return name[len] == '\0' ? 0 : -1;
}

te_tcs_context *te_tcs_table_find(const te_tcs_table *tb, const char *site,
                                  size_t len)
{
    size_t lo = 0, hi = tb->n;

    /* Bounded: the range halves on every pass. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_key(site, len, tb->ctx[mid]->site);

        if (c == 0)
            return tb->ctx[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t te_tcs_table_count(const te_tcs_table *tb)
{
    return tb->n;
}
