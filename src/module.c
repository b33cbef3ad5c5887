/*
 * module.c: the modules of a configuration snapshot: the registry
 * (built in, loaded), the core directives that configure the chain, and
 * the lookups requests and workers make in the finished snapshot.
 *
 * The core directives are a te_directive table like any module's, so
 * `chain`, `module`, `load_module`, `product` and `internal_headers` go
 * through the same parser, arity checks and error positions as module
 * directives do, and config.c stays a tokenizer and the core's own
 * table.
 */
#include "module.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"

/* Products a configuration may declare (as many as a tenant may hold). */
#define MAX_PRODUCTS TE_TCS_MAX_PRODUCTS
#define MAX_INTERNAL 64

/* What the daemon looks up in a loaded object; see module.h. */
#define EXPORT_SYMBOL "te_module_export"

const te_module *const *te_module_extra;

/* ------------------------------------------------------------ registry */

/* Room for one more element in arr, which holds n: the capacity is the
 * power of two at or above n, so it needs no field. Returns the array,
 * maybe moved, or NULL with arr untouched. */
static void *grow(void *arr, unsigned n, size_t size)
{
    size_t cap, bytes;

    if (n != 0 && (n & (n - 1)) != 0)
        return arr;
    cap = n == 0 ? 1 : (size_t)n * 2;
    if (!te_size_mul(cap, size, &bytes))
        return NULL;
    return realloc(arr, bytes);
}

static int valid_module_name(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n == 0 || n > TE_MODULE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

static int add_entry(te_chainconf *cc, const te_module *m, void *dl)
{
    te_mod_entry **arr, *me;

    arr = grow(cc->mods, cc->nmods, sizeof(*arr));
    if (arr == NULL)
        return -1;
    cc->mods = arr;
    me = calloc(1, sizeof(*me));
    if (me == NULL)
        return -1;
    me->m = m;
    me->dl = dl;
    cc->mods[cc->nmods++] = me;
    return 0;
}

static int find_entry(const te_chainconf *cc, const char *name)
{
    for (unsigned i = 0; i < cc->nmods; i++)
        if (strcmp(cc->mods[i]->m->name, name) == 0)
            return (int)i;
    return -1;
}

te_chainconf *te_chainconf_new(void)
{
    te_chainconf *cc = calloc(1, sizeof(*cc));
    const te_module *const *m;

    if (cc == NULL)
        return NULL;
    cc->principal_hdr[0] = "X-Principal-User";
    cc->principal_hdr[1] = "X-Principal-Kind";
    cc->principal_hdr[2] = "X-Principal-Scopes";
    for (m = te_builtin_modules; *m != NULL; m++)
        if (add_entry(cc, *m, NULL) < 0)
            goto fail;
    for (m = te_module_extra; m != NULL && *m != NULL; m++)
        if (add_entry(cc, *m, NULL) < 0)
            goto fail;
    return cc;

fail:
    te_chainconf_free(cc);
    return NULL;
}

void te_chainconf_free(te_chainconf *cc)
{
    if (cc == NULL)
        return;

    /* Confs first: free_conf is code of the module, which dlclose
     * unmaps. */
    for (unsigned i = 0; i < cc->nmods; i++) {
        te_mod_entry *me = cc->mods[i];

        if (me->conf != NULL && me->m->free_conf != NULL)
            me->m->free_conf(me->conf);
    }
    for (unsigned i = 0; i < cc->nmods; i++) {
        if (cc->mods[i]->dl != NULL)
            dlclose(cc->mods[i]->dl);
        free(cc->mods[i]);
    }
    free(cc->mods);
    free(cc->chain);
    for (unsigned p = 0; p < TE_PHASE_COUNT; p++)
        free(cc->slots[p]);
    free(cc->products);
    free(cc->internal);
    free(cc->shards);
    for (unsigned i = 0; i < cc->nstrings; i++)
        free(cc->strings[i]);
    free(cc->strings);
    free(cc);
}

char *te_chainconf_keep(te_chainconf *cc, char *s)
{
    char **arr;

    if (s == NULL)
        return NULL;
    arr = grow(cc->strings, cc->nstrings, sizeof(*arr));
    if (arr == NULL) {
        free(s);
        return NULL;
    }
    cc->strings = arr;
    cc->strings[cc->nstrings++] = s;
    return s;
}

int te_mod_entry_conf(te_mod_entry *me, void **conf)
{
    if (!me->made) {
        if (me->m->create_conf != NULL) {
            me->conf = me->m->create_conf();
            if (me->conf == NULL)
                return -1;
        }
        me->made = true;
    }
    *conf = me->conf;
    return 0;
}

static const te_directive *table_find(const te_directive *t, const char *name)
{
    for (; t != NULL && t->name != NULL; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

const te_directive *te_chainconf_top(const te_chainconf *cc, const char *name,
                                     te_mod_entry **me)
{
    for (unsigned i = 0; i < cc->nmods; i++) {
        const te_directive *d = table_find(cc->mods[i]->m->directives, name);

        if (d != NULL && (d->flags & TE_DIR_TOP)) {
            *me = cc->mods[i];
            return d;
        }
    }
    return NULL;
}

/* --------------------------------------------------- core directives */

/* chain NAME...: which modules run, in this order. Loaded modules must
 * be loaded before, so each name resolves here, at its own column. */
static int set_chain(te_conf_ctx *cx, void *mconf, unsigned argc,
                     const char *const *argv)
{
    te_chainconf *cc = mconf;
    int idx;

    if (cc->chain_set)
        return te_conf_error(cx, 0, "duplicate directive \"chain\"");
    cc->chain = calloc(argc, sizeof(*cc->chain));
    if (cc->chain == NULL)
        return te_conf_error(cx, 0, "out of memory");

    for (unsigned i = 1; i < argc; i++) {
        idx = find_entry(cc, argv[i]);
        if (idx < 0)
            return te_conf_error(cx, i, "unknown module \"%s\" in \"chain\"",
                                 argv[i]);
        if (cc->mods[idx]->in_chain)
            return te_conf_error(
                cx, i, "module \"%s\" is named twice in \"chain\"", argv[i]);
        cc->mods[idx]->in_chain = true;
        if (!cc->mods[idx]->placed) {
            te_conf_where_arg(cx, i, &cc->mods[idx]->where);
            cc->mods[idx]->placed = true;
        }
        cc->chain[cc->nchain++] = (unsigned)idx;
    }
    cc->chain_set = true;
    return 0;
}

/* module NAME { ... }: the block is read with the module's table. */
static int set_module(te_conf_ctx *cx, void *mconf, unsigned argc,
                      const char *const *argv)
{
    te_chainconf *cc = mconf;
    te_mod_entry *me;
    int idx;

    idx = find_entry(cc, argv[1]);
    if (idx < 0)
        return te_conf_error(cx, 1, "unknown module \"%s\"", argv[1]);
    me = cc->mods[idx];
    if (me->block)
        return te_conf_error(cx, 1, "duplicate \"module %s\" block", argv[1]);
    me->block = true;
    if (!me->placed) {
        te_conf_where_arg(cx, 1, &me->where);
        me->placed = true;
    }
    te_conf_enter_block(cx, me, me->m->directives);
    return 0;
}

/* A TOP directive of m that the core or another module already has;
 * *owner is that module, NULL for the core. */
static const char *top_clash(const te_chainconf *cc, const te_module *m,
                             int skip, const char **owner)
{
    const te_directive *d;

    for (d = m->directives; d != NULL && d->name != NULL; d++) {
        if (!(d->flags & TE_DIR_TOP))
            continue;
        if (te_config_core_directive(d->name) ||
            table_find(te_chainconf_directives, d->name) != NULL) {
            *owner = NULL;
            return d->name;
        }
        for (unsigned i = 0; i < cc->nmods; i++) {
            const te_directive *o;

            if ((int)i == skip)
                continue;
            o = table_find(cc->mods[i]->m->directives, d->name);
            if (o != NULL && (o->flags & TE_DIR_TOP)) {
                *owner = cc->mods[i]->m->name;
                return d->name;
            }
        }
    }
    return NULL;
}

/* Checks a freshly opened object and finds its place: a new entry, or
 * the built-in entry of the same name, which it replaces. */
static int adopt(te_chainconf *cc, te_conf_ctx *cx, const char *path,
                 const te_module *m, void *dl)
{
    const char *clash, *owner = NULL;
    int idx;

    if (m->abi != TE_MODULE_ABI)
        return te_conf_error(cx, 1,
                             "module \"%s\" was built for module ABI %u, "
                             "this tenantedge has module ABI %u",
                             path, m->abi, TE_MODULE_ABI);
    if (!valid_module_name(m->name))
        return te_conf_error(cx, 1, "module \"%s\" has an invalid name", path);

    idx = find_entry(cc, m->name);
    if (idx >= 0 && cc->mods[idx]->dl != NULL)
        return te_conf_error(cx, 1, "module \"%s\" is already loaded", m->name);
    if (idx >= 0 && (cc->mods[idx]->made || cc->mods[idx]->in_chain ||
                     cc->mods[idx]->block))
        return te_conf_error(cx, 1,
                             "module \"%s\" is already configured: "
                             "load_module must come first",
                             m->name);
    clash = top_clash(cc, m, idx, &owner);
    if (clash != NULL && owner == NULL)
        return te_conf_error(cx, 1,
                             "directive \"%s\" of module \"%s\" is a "
                             "core directive",
                             clash, m->name);
    if (clash != NULL)
        return te_conf_error(cx, 1,
                             "directive \"%s\" of module \"%s\" is "
                             "already one of module \"%s\"",
                             clash, m->name, owner);

    if (idx >= 0) {
        cc->mods[idx]->m = m;
        cc->mods[idx]->dl = dl;
        return 0;
    }
    if (add_entry(cc, m, dl) < 0)
        return te_conf_error(cx, 1, "out of memory");
    return 0;
}

/* load_module PATH: relative to the directory of the file that says it. */
static int set_load_module(te_conf_ctx *cx, void *mconf, unsigned argc,
                           const char *const *argv)
{
    te_chainconf *cc = mconf;
    const te_module *const *sym;
    const char *dir = te_conf_dir(cx), *path = argv[1];
    char *full = NULL;
    void *dl;

    if (dir == NULL)
        return te_conf_error(cx, 0,
                             "load_module is not allowed in unnamed text");
    if (path[0] == '\0')
        return te_conf_error(cx, 1, "empty module path");
    if (path[0] != '/') {
        size_t n = strlen(dir) + strlen(path) + 1;

        full = malloc(n);
        if (full != NULL)
            snprintf(full, n, "%s%s", dir, path);
        path = te_chainconf_keep(cc, full);
        if (path == NULL)
            return te_conf_error(cx, 1, "out of memory");
    }

    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL)
        return te_conf_error(cx, 1, "cannot load module: %s", dlerror());
    sym = dlsym(dl, EXPORT_SYMBOL);
    if (sym == NULL || *sym == NULL) {
        dlclose(dl);
        return te_conf_error(cx, 1,
                             "\"%s\" is not a tenantedge module: no "
                             "%s symbol",
                             path, EXPORT_SYMBOL);
    }
    if (adopt(cc, cx, path, *sym, dl) < 0) {
        dlclose(dl);
        return -1;
    }
    return 0;
}

/* A field name (RFC 9110 5.1: a token), with an optional trailing '*'. */
static int valid_pattern(const char *s, size_t *len, bool *prefix)
{
    static const char extra[] = "!#$%&'+-.^_`|~";
    size_t n = strlen(s);

    *prefix = n > 0 && s[n - 1] == '*';
    if (*prefix)
        n--;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr(extra, c) != NULL))
            return 0;
    }
    *len = n;
    return 1;
}

/* internal_headers PATTERN...: fields a client may never send through. */
static int set_internal(te_conf_ctx *cx, void *mconf, unsigned argc,
                        const char *const *argv)
{
    te_chainconf *cc = mconf;
    te_header_pattern *pt;

    if (cc->internal_set)
        return te_conf_error(cx, 0, "duplicate directive \"internal_headers\"");
    if (argc - 1 > MAX_INTERNAL)
        return te_conf_error(cx, MAX_INTERNAL + 1,
                             "too many internal headers (max %d)",
                             MAX_INTERNAL);
    cc->internal = calloc(argc, sizeof(*cc->internal));
    if (cc->internal == NULL)
        return te_conf_error(cx, 0, "out of memory");

    for (unsigned i = 1; i < argc; i++) {
        char *lc;

        pt = &cc->internal[cc->ninternal];
        if (!valid_pattern(argv[i], &pt->len, &pt->prefix))
            return te_conf_error(cx, i,
                                 "invalid internal header \"%s\": expected "
                                 "a field name, optionally ending in \"*\"",
                                 argv[i]);
        lc = te_chainconf_keep(cc, strndup(argv[i], pt->len));
        if (lc == NULL)
            return te_conf_error(cx, i, "out of memory");
        for (char *q = lc; *q != '\0'; q++)
            if (*q >= 'A' && *q <= 'Z')
                *q = (char)(*q - 'A' + 'a');
        pt->name = lc;
        cc->ninternal++;
    }
    cc->internal_set = true;
    return 0;
}

/*
 * underscores_in_headers on|off: may a client's field whose name holds
 * '_' reach a backend at all? Off by default, as in nginx: CGI, WSGI,
 * PHP and Rack backends read '_' and '-' as the same byte, so such a
 * name can pose as any field the edge strips (te_request_field_dropped).
 */
static int set_underscores(te_conf_ctx *cx, void *mconf, unsigned argc,
                           const char *const *argv)
{
    te_chainconf *cc = mconf;

    (void)argc;
    if (cc->underscores_set)
        return te_conf_error(cx, 0,
                             "duplicate directive \"underscores_in_headers\"");
    if (strcmp(argv[1], "on") == 0)
        cc->underscores = true;
    else if (strcmp(argv[1], "off") == 0)
        cc->underscores = false;
    else
        return te_conf_error(cx, 1,
                             "invalid value \"%s\" in "
                             "\"underscores_in_headers\": expected on or off",
                             argv[1]);
    cc->underscores_set = true;
    return 0;
}

/* product NAME PREFIX: requests whose path starts with PREFIX are for
 * product NAME (the longest prefix wins). */
static int set_product(te_conf_ctx *cx, void *mconf, unsigned argc,
                       const char *const *argv)
{
    te_chainconf *cc = mconf;
    const char *name = argv[1], *prefix = argv[2];
    te_product_conf *arr;

    if (!te_tcs_name_valid(name, strlen(name)))
        return te_conf_error(cx, 1, "invalid product name \"%s\"", name);
    if (prefix[0] != '/' || strpbrk(prefix, "?#") != NULL)
        return te_conf_error(cx, 2,
                             "invalid product prefix \"%s\": expected a "
                             "path starting with \"/\", without query",
                             prefix);
    for (unsigned i = 0; i < cc->nproducts; i++) {
        if (strcmp(cc->products[i].name, name) == 0)
            return te_conf_error(cx, 1, "duplicate product \"%s\"", name);
        if (strcmp(cc->products[i].prefix, prefix) == 0)
            return te_conf_error(cx, 2,
                                 "prefix \"%s\" is already product \"%s\"",
                                 prefix, cc->products[i].name);
    }
    if (cc->nproducts == MAX_PRODUCTS)
        return te_conf_error(cx, 0, "too many products (max %d)", MAX_PRODUCTS);

    arr = grow(cc->products, cc->nproducts, sizeof(*arr));
    if (arr == NULL)
        return te_conf_error(cx, 0, "out of memory");
    cc->products = arr;
    arr += cc->nproducts;
    arr->name = te_conf_strdup(cx, name);
    arr->prefix = te_conf_strdup(cx, prefix);
    if (arr->name == NULL || arr->prefix == NULL)
        return te_conf_error(cx, 0, "out of memory");
    arr->prefix_len = strlen(prefix);
    cc->nproducts++;
    return 0;
}

static int set_principal_headers(te_conf_ctx *cx, void *mconf,
                                 unsigned argc, const char *const *argv)
{
    te_chainconf *cc = mconf;

    (void)argc;
    (void)argv;
    if (cc->principal_set)
        return te_conf_error(cx, 0,
                             "duplicate directive \"principal_headers\"");
    cc->principal_set = true;
    return 0;
}

/* user H; kind H; scopes H; inside principal_headers */
static int set_principal_field(te_conf_ctx *cx, void *mconf, unsigned argc,
                               const char *const *argv)
{
    (void)mconf;
    (void)argc;
    return te_conf_principal_header(cx, 1, argv[0], argv[1]);
}

static const te_directive principal_block[] = {
    {"user", 1, 1, 0, set_principal_field, NULL},
    {"kind", 1, 1, 0, set_principal_field, NULL},
    {"scopes", 1, 1, 0, set_principal_field, NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

/* clang-format off */
const te_directive te_chainconf_directives[] = {
    {"chain", 1, TE_DIR_ARGS_ANY, TE_DIR_TOP, set_chain, NULL},
    {"module", 1, 1, TE_DIR_TOP | TE_DIR_BLOCK, set_module, NULL},
    {"load_module", 1, 1, TE_DIR_TOP, set_load_module, NULL},
    {"internal_headers", 1, TE_DIR_ARGS_ANY, TE_DIR_TOP, set_internal, NULL},
    {"underscores_in_headers", 1, 1, TE_DIR_TOP, set_underscores, NULL},
    {"product", 2, 2, TE_DIR_TOP, set_product, NULL},
    {"principal_headers", 0, 0, TE_DIR_TOP | TE_DIR_BLOCK,
     set_principal_headers, principal_block},
    {NULL, 0, 0, 0, NULL, NULL},
};
/* clang-format on */

/* ---------------------------------------------------------- finishing */

/* X-Original-URL and X-Rewrite-URL: IIS, Symfony and Zend take them as
 * the URL the client asked for, in place of the request line, so a
 * client's own would route past the edge's path checks. */
static const te_header_pattern default_internal[] = {
    {"x-tenant-", 9, true},
    {"x-principal-", 12, true},
    {"x-original-url", 14, false},
    {"x-rewrite-url", 13, false},
};

static int default_chain(te_chainconf *cc, te_conf_ctx *cx)
{
    unsigned n = 0;
    int idx;

    while (te_default_chain[n] != NULL)
        n++;
    cc->chain = calloc(n ? n : 1, sizeof(*cc->chain));
    if (cc->chain == NULL)
        return te_conf_error(cx, 0, "out of memory");
    for (unsigned i = 0; i < n; i++) {
        idx = find_entry(cc, te_default_chain[i]);
        if (idx < 0)
            return te_conf_error(cx, 0,
                                 "the default chain names module \"%s\", "
                                 "which is not built in: give a \"chain\"",
                                 te_default_chain[i]);
        cc->mods[idx]->in_chain = true;
        cc->chain[cc->nchain++] = (unsigned)idx;
    }
    return 0;
}

static int build_slots(te_chainconf *cc)
{
    for (unsigned p = 0; p < TE_PHASE_COUNT; p++) {
        cc->slots[p] =
            calloc(cc->nchain ? cc->nchain : 1, sizeof(*cc->slots[p]));
        if (cc->slots[p] == NULL)
            return -1;
        for (unsigned i = 0; i < cc->nchain; i++) {
            te_mod_entry *me = cc->mods[cc->chain[i]];

            if (me->m->handlers[p] == NULL)
                continue;
            cc->slots[p][cc->nslots[p]++] =
                (te_phase_slot){me->m, me->m->handlers[p], me->conf};
        }
    }
    return 0;
}

static int cmp_shard(const void *a, const void *b)
{
    const te_shard *const *x = a, *const *y = b;

    return strcmp((*x)->name, (*y)->name);
}

static int index_shards(te_chainconf *cc, const te_config *cf)
{
    unsigned n = 0;

    for (unsigned i = 0; i < cf->nregions; i++)
        n += cf->regions[i]->nshards;
    cc->shards = calloc(n ? n : 1, sizeof(*cc->shards));
    if (cc->shards == NULL)
        return -1;
    for (unsigned i = 0; i < cf->nregions; i++)
        for (unsigned j = 0; j < cf->regions[i]->nshards; j++)
            cc->shards[cc->nshards++] = cf->regions[i]->shards[j];
    qsort(cc->shards, cc->nshards, sizeof(*cc->shards), cmp_shard);
    return 0;
}

/* Longest prefix first, so that the first match is the product. */
static int cmp_product(const void *a, const void *b)
{
    const te_product_conf *x = a, *y = b;

    if (x->prefix_len != y->prefix_len)
        return x->prefix_len > y->prefix_len ? -1 : 1;
    return strcmp(x->prefix, y->prefix);
}

int te_chainconf_finish(te_chainconf *cc, te_conf_ctx *cx, const te_config *cf)
{
    te_conf_where eof;
    void *conf;

    te_conf_where_arg(cx, 0, &eof);
    if (!cc->chain_set && default_chain(cc, cx) < 0)
        return -1;

    for (unsigned i = 0; i < cc->nmods; i++) {
        te_mod_entry *me = cc->mods[i];

        if (!me->made && !me->in_chain)
            continue;
        te_conf_at(cx, me->placed ? &me->where : &eof);
        if (te_mod_entry_conf(me, &conf) < 0)
            return te_conf_error(cx, 0,
                                 "out of memory configuring module "
                                 "\"%s\"",
                                 me->m->name);
        if (me->m->finish_conf != NULL && me->m->finish_conf(cx, conf) < 0)
            return -1;
    }
    te_conf_at(cx, &eof);

    if (build_slots(cc) < 0 || index_shards(cc, cf) < 0)
        return te_conf_error(cx, 0, "out of memory");
    if (!cc->internal_set) {
        cc->internal = malloc(sizeof(default_internal));
        if (cc->internal == NULL)
            return te_conf_error(cx, 0, "out of memory");
        memcpy(cc->internal, default_internal, sizeof(default_internal));
        cc->ninternal = sizeof(default_internal) / sizeof(default_internal[0]);
    }
    if (cc->nproducts > 1)
        qsort(cc->products, cc->nproducts, sizeof(*cc->products), cmp_product);
    return 0;
}

/* ------------------------------------------------- requests, workers */

unsigned te_chainconf_count(const te_chainconf *cc)
{
    return cc != NULL ? cc->nmods : 0;
}

int te_chainconf_index(const te_chainconf *cc, const te_module *m)
{
    for (unsigned i = 0; cc != NULL && i < cc->nmods; i++)
        if (cc->mods[i]->m == m)
            return (int)i;
    return -1;
}

/* '_' matches '-' (te_field_name_eq): X_Tenant_Id is internal wherever
 * X-Tenant-Id is, for a backend that reads both as HTTP_X_TENANT_ID. */
int te_chainconf_internal(const te_chainconf *cc, const char *name, size_t len)
{
    for (unsigned i = 0; i < cc->ninternal; i++) {
        const te_header_pattern *pt = &cc->internal[i];

        if (pt->prefix ? len >= pt->len : len == pt->len)
            if (te_field_name_eq(name, pt->len, pt->name, pt->len, 1))
                return 1;
    }
    return 0;
}

const te_product_conf *te_chainconf_product(const te_chainconf *cc,
                                            const char *path, size_t len)
{
    const char *q = memchr(path, '?', len);

    if (q != NULL)
        len = (size_t)(q - path);
    for (unsigned i = 0; i < cc->nproducts; i++) {
        const te_product_conf *pc = &cc->products[i];

        if (len >= pc->prefix_len &&
            memcmp(path, pc->prefix, pc->prefix_len) == 0)
            return pc;
    }
    return NULL;
}

const te_shard *te_chainconf_shard(const te_chainconf *cc, const char *name)
{
    unsigned lo = 0, hi = cc->nshards;

    /* Bounded: the range halves on every pass. */
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int c = strcmp(name, cc->shards[mid]->name);

        if (c == 0)
            return cc->shards[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

int te_chainconf_init_worker(const te_chainconf *cc, void **wstate,
                             const te_module **failed)
{
    for (unsigned i = 0; i < cc->nchain; i++) {
        te_mod_entry *me = cc->mods[cc->chain[i]];

        if (me->m->init_worker == NULL)
            continue;
        if (me->m->init_worker(me->conf, &wstate[cc->chain[i]]) < 0) {
            *failed = me->m;
            /* Bounded: walks back over the ones already started. */
            while (i-- > 0) {
                me = cc->mods[cc->chain[i]];
                if (me->m->exit_worker != NULL)
                    me->m->exit_worker(me->conf, wstate[cc->chain[i]]);
                wstate[cc->chain[i]] = NULL;
            }
            return -1;
        }
    }
    return 0;
}

void te_chainconf_exit_worker(const te_chainconf *cc, void **wstate)
{
    for (unsigned i = cc->nchain; i-- > 0;) {
        te_mod_entry *me = cc->mods[cc->chain[i]];

        if (me->m->exit_worker != NULL)
            me->m->exit_worker(me->conf, wstate[cc->chain[i]]);
        wstate[cc->chain[i]] = NULL;
    }
}
