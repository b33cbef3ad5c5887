/*
 * tenantctl: the operator's tool for tenant records in Redis.
 *
 *   tenantctl [-c EDGE.conf] [-r HOST:PORT] [-a PASSWORD] [-n DB]
 *             [-p PREFIX] COMMAND
 *
 * It writes what a provisioning system would: tcs:site:<site> -> tenant
 * id, tcs:tenant:<id> -> the JSON context (DESIGN.md), and one lifecycle
 * event on tcs:events per write ("tcs:" is the edge's `tcs { prefix; }`).
 * -c reads the edge's config with the edge's own loader and takes the
 * Redis address, database, password and key prefix from it; -r, -a, -n
 * and -p override each. Each write is one Lua script run by EVAL,
 * so reading the record, checking it, changing it, bumping its version,
 * storing it and publishing the event happen as one step: two operators
 * at once can neither lose an update nor publish a version twice.
 *
 * Operators' scripts depend on the command line, the one-line outputs and
 * the exit status: 0 done, 1 refused or failed (no such site, Redis
 * unreachable, ...), 2 bad arguments. Names are checked with the same
 * rules the edge applies when it reads a record (tcs_context.h).
 *
 * What a write may do: a destroyed tenant takes no more writes (its record
 * stays, so the edge can answer "tenant destroyed"); suspend and unsuspend
 * move a tenant or a product between active and suspended, and refuse a
 * deactivated one; deactivate ends a product's licence; licence sets its
 * seats (null, "unlimited", when never set) and makes a deactivated
 * product active again.
 *
 * The Lua script is in tenantctl_script.c, what -c yields and address
 * parsing in tenantctl_conf.c, `token` (a signed JWT for a site, for the
 * jwt module) in tenantctl_token.c.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "config.h"
#include "tcs_context.h"
#include "tenantctl.h"

#define CONNECT_TIMEOUT 3       /* seconds */
#define COMMAND_TIMEOUT 10      /* seconds */
#define MAX_SCAN_ROUNDS 1000000 /* SCAN calls for one list */
#define MAX_ID_TRIES    8       /* generated ids that collide */

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2 };

/* Key sizes: the prefix, the kind, a name. */
#define SITE_KEY_MAX   (TE_TCS_PREFIX_MAX + sizeof("site:") + TE_TCS_NAME_MAX)
#define TENANT_KEY_MAX (TE_TCS_PREFIX_MAX + sizeof("tenant:") + TE_TCS_ID_MAX)

/* The prefix of every key and of the events channel: the target's, set
 * once by main before any key is built. */
static const char *key_prefix = "tcs:";

/* Which command arguments a command takes or needs. */
enum {
    ARG_SITE = 1 << 0,
    ARG_ID = 1 << 1,
    ARG_REGION = 1 << 2,
    ARG_PRODUCT = 1 << 3,  /* one --product P */
    ARG_PRODUCTS = 1 << 4, /* --product NAME:SHARD, repeated */
    ARG_SEATS = 1 << 5
};

struct product_arg {
    const char *name;
    size_t name_len;
    const char *shard;
};

struct args {
    unsigned given;
    const char *site;
    const char *id;
    const char *region;
    const char *product;
    const char *seats; /* digits or "unlimited" */
    struct product_arg products[TE_TCS_MAX_PRODUCTS];
    unsigned nproducts;
};

struct command {
    const char *name;
    unsigned allow;
    unsigned need;
    const char *verb; /* past tense, for the output line */
};

static const struct command commands[] = {
    {"create", ARG_SITE | ARG_ID | ARG_REGION | ARG_PRODUCTS,
     ARG_SITE | ARG_REGION | ARG_PRODUCTS, "created"},
    {"suspend", ARG_SITE | ARG_PRODUCT, ARG_SITE, "suspended"},
    {"unsuspend", ARG_SITE | ARG_PRODUCT, ARG_SITE, "unsuspended"},
    {"deactivate", ARG_SITE | ARG_PRODUCT, ARG_SITE | ARG_PRODUCT,
     "deactivated"},
    {"licence", ARG_SITE | ARG_PRODUCT | ARG_SEATS,
     ARG_SITE | ARG_PRODUCT | ARG_SEATS, "licensed"},
    {"destroy", ARG_SITE, ARG_SITE, "destroyed"},
    {"show", ARG_SITE, ARG_SITE, NULL},
    {"list", 0, 0, NULL},
};

static void usage(FILE *out)
{
    fputs("usage: tenantctl [-c EDGE.conf] [-r HOST:PORT] [-a PASSWORD] "
          "[-n DB]\n"
          "                 [-p PREFIX] COMMAND ...\n"
          "commands:\n"
          "  create SITE [--id ID] --region R --product NAME:SHARD ...\n"
          "  suspend SITE [--product P]\n"
          "  unsuspend SITE [--product P]\n"
          "  deactivate SITE --product P\n"
          "  licence SITE --product P --seats N|unlimited\n"
          "                (a deactivated product becomes active again)\n"
          "  destroy SITE\n"
          "  show SITE\n"
          "  list\n"
          "  token --site S --key FILE [--kid K] [--ttl 15m] [--claim k=v "
          "...]\n"
          "        [--tenant T] [--iss I] [--aud A] [--sub S] [--alg A]\n"
          "                (a signed JWT; -c gives issuer and audience)\n"
          "-c reads the edge's config as the edge does (includes too) and\n"
          "takes Redis's address, database and password (`redis HOST:PORT\n"
          "{ database N; password P; }`) and the key prefix (`tcs { prefix\n"
          "P; }`) from it; -r, -n, -a and -p override them. Without -c:\n"
          "127.0.0.1:6379, database 0, no password, prefix tcs:.\n",
          out);
}

void te_ctl_complain(const char *fmt, ...)
{
    va_list ap;

    fputs("tenantctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* A bad command line: says why, shows the usage, exits 2. */
static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("tenantctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    usage(stderr);
    exit(EXIT_USAGE);
}

/* Takes the value of option <name> from "--name value" or "--name=value";
 * advances <*i> past what it used. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
    const char *arg = argv[*i] + 2;
    size_t n = strlen(name);

    if (strncmp(arg, name, n) != 0)
        return NULL;
    if (arg[n] == '=')
        return arg + n + 1;
    if (arg[n] != '\0')
        return NULL;
    if (*i + 1 >= argc)
        usage_error("--%s needs a value", name);
    (*i)++;
    return argv[*i];
}

static void add_product(struct args *a, const char *spec)
{
    const char *colon = strchr(spec, ':');
    struct product_arg *p;

    if (a->nproducts == TE_TCS_MAX_PRODUCTS)
        usage_error("more than %d products", TE_TCS_MAX_PRODUCTS);
    if (colon == NULL)
        usage_error("--product %s: expected NAME:SHARD", spec);

    p = &a->products[a->nproducts];
    p->name = spec;
    p->name_len = (size_t)(colon - spec);
    p->shard = colon + 1;
    if (!te_tcs_name_valid(p->name, p->name_len) ||
        !te_tcs_name_valid(p->shard, strlen(p->shard)))
        usage_error("--product %s: names are [a-z0-9-], 1 to %d bytes", spec,
                    TE_TCS_NAME_MAX);
    for (unsigned i = 0; i < a->nproducts; i++) {
        if (a->products[i].name_len == p->name_len &&
            memcmp(a->products[i].name, p->name, p->name_len) == 0)
            usage_error("--product %.*s given twice", (int)p->name_len,
                        p->name);
    }
    a->nproducts++;
}

/* Notes one option of a command; <bit> says which. */
static void take_option(struct args *a, const struct command *cmd, unsigned bit,
                        const char *value)
{
    if (bit == ARG_PRODUCT && (cmd->allow & ARG_PRODUCTS))
        bit = ARG_PRODUCTS;
    if (!(cmd->allow & bit))
        usage_error("%s takes no such option", cmd->name);
    if ((a->given & bit) && bit != ARG_PRODUCTS)
        usage_error("%s: an option is given twice", cmd->name);
    a->given |= bit;

    if (bit == ARG_ID)
        a->id = value;
    else if (bit == ARG_REGION)
        a->region = value;
    else if (bit == ARG_PRODUCT)
        a->product = value;
    else if (bit == ARG_PRODUCTS)
        add_product(a, value);
    else if (bit == ARG_SEATS)
        a->seats = value;
}

/* 1 when <s> is "unlimited" or a count of 0..TE_TCS_MAX_SEATS. */
static int seats_valid(const char *s)
{
    char *end;
    long n;

    if (strcmp(s, "unlimited") == 0)
        return 1;
    if (s[0] < '0' || s[0] > '9')
        return 0;
    errno = 0;
    n = strtol(s, &end, 10);
    return errno == 0 && *end == '\0' && n >= 0 && n <= TE_TCS_MAX_SEATS;
}

/* Checks every value against the rules the edge reads records with. */
static void check_args(const struct command *cmd, const struct args *a)
{
    unsigned missing = cmd->need & ~a->given;

    if (missing & ARG_SITE)
        usage_error("%s needs a SITE", cmd->name);
    if (missing & ARG_REGION)
        usage_error("%s needs --region", cmd->name);
    if (missing & (ARG_PRODUCT | ARG_PRODUCTS))
        usage_error("%s needs --product", cmd->name);
    if (missing & ARG_SEATS)
        usage_error("%s needs --seats", cmd->name);

    if (a->site && !te_tcs_site_valid(a->site, strlen(a->site)))
        usage_error("%s: a site is one lowercase DNS label", a->site);
    if (a->id && !te_tcs_id_valid(a->id, strlen(a->id)))
        usage_error("--id %s: ids are [A-Za-z0-9._-], 1 to %d bytes", a->id,
                    TE_TCS_ID_MAX);
    if (a->region && !te_tcs_name_valid(a->region, strlen(a->region)))
        usage_error("--region %s: names are [a-z0-9-], 1 to %d bytes",
                    a->region, TE_TCS_NAME_MAX);
    if (a->product && !te_tcs_name_valid(a->product, strlen(a->product)))
        usage_error("--product %s: names are [a-z0-9-], 1 to %d bytes",
                    a->product, TE_TCS_NAME_MAX);
    if (a->seats && !seats_valid(a->seats))
        usage_error("--seats %s: a count 0..%d or unlimited", a->seats,
                    TE_TCS_MAX_SEATS);
}

static void parse_args(const struct command *cmd, int argc, char **argv,
                       struct args *a)
{
    static const struct {
        const char *name;
        unsigned bit;
    } options[] = {
        {"id", ARG_ID},
        {"region", ARG_REGION},
        {"product", ARG_PRODUCT},
        {"seats", ARG_SEATS},
    };

    memset(a, 0, sizeof(*a));
    for (int i = 0; i < argc; i++) {
        const char *value = NULL;
        unsigned k;

        if (strncmp(argv[i], "--", 2) != 0) {
            if (!(cmd->allow & ARG_SITE) || (a->given & ARG_SITE))
                usage_error("%s: unexpected argument %s", cmd->name, argv[i]);
            a->site = argv[i];
            a->given |= ARG_SITE;
            continue;
        }
        for (k = 0; k < sizeof(options) / sizeof(options[0]); k++) {
            value = option_value(argc, argv, &i, options[k].name);
            if (value != NULL)
                break;
        }
        if (value == NULL)
            usage_error("%s: unknown option %s", cmd->name, argv[i]);
        take_option(a, cmd, options[k].bit, value);
    }
    check_args(cmd, a);
}

/* Sends one command; NULL (said why) when the connection failed. */
static redisReply *call(redisContext *c, int argc, const char **argv,
                        const size_t *lens)
{
    redisReply *r = redisCommandArgv(c, argc, argv, lens);

    /* hiredis reports a read timeout as the socket's EAGAIN. */
    if (r == NULL && c->err == REDIS_ERR_IO &&
        (errno == EAGAIN || errno == EWOULDBLOCK))
        te_ctl_complain("redis: no answer within %d s", COMMAND_TIMEOUT);
    else if (r == NULL)
        te_ctl_complain("redis: %s", c->errstr[0] ? c->errstr : "no reply");
    return r;
}

/* Connects, authenticates and selects the database (when not 0). */
static redisContext *connect_redis(const char *host, int port,
                                   const char *password, unsigned db)
{
    struct timeval ct = {CONNECT_TIMEOUT, 0}, rt = {COMMAND_TIMEOUT, 0};
    redisContext *c = redisConnectWithTimeout(host, port, ct);
    redisReply *r = NULL;

    if (c == NULL || c->err) {
        te_ctl_complain("cannot connect to redis at %s:%d: %s", host, port,
                        c ? c->errstr : "out of memory");
        goto fail;
    }
    redisSetTimeout(c, rt);

    if (password != NULL) {
        const char *argv[] = {"AUTH", password};

        r = call(c, 2, argv, NULL);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            if (r != NULL)
                te_ctl_complain("redis refused AUTH: %s", r->str);
            goto fail;
        }
        freeReplyObject(r);
    }
    if (db != 0) {
        char num[16];
        const char *argv[] = {"SELECT", num};

        snprintf(num, sizeof(num), "%u", db);
        r = call(c, 2, argv, NULL);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            if (r != NULL)
                te_ctl_complain("redis refused SELECT %s: %s", num, r->str);
            goto fail;
        }
        freeReplyObject(r);
    }
    return c;

fail:
    if (r != NULL)
        freeReplyObject(r);
    if (c != NULL)
        redisFree(c);
    return NULL;
}

redisContext *te_ctl_connect(const struct te_ctl_target *tg)
{
    if (!tg->have_addr) {
        te_ctl_complain("%s: no redis directive: the edge reads no tenants "
                        "from Redis (give -r to name one)",
                        tg->conf);
        return NULL;
    }
    return connect_redis(tg->host, tg->port, tg->password, tg->db);
}

/* Turns a refusal from the script into the operator's message. */
static void explain_refusal(const struct args *a, const char *err)
{
    const char *rest = strchr(err, ' ');

    rest = rest ? rest + 1 : "";
    if (strncmp(err, "NOSITE ", 7) == 0)
        te_ctl_complain("no such site: %s", a->site);
    else if (strncmp(err, "EXISTS ", 7) == 0)
        te_ctl_complain("site already exists: %s", a->site);
    else if (strncmp(err, "IDEXISTS ", 9) == 0)
        te_ctl_complain("tenant id already in use: %s", rest);
    else if (strncmp(err, "NOPRODUCT ", 10) == 0)
        te_ctl_complain("%s has no product %s", a->site, a->product);
    else if (strncmp(err, "DESTROYED ", 10) == 0)
        te_ctl_complain("%s is destroyed", a->site);
    else if (strncmp(err, "DEACTIVATED ", 12) == 0 && a->product)
        te_ctl_complain("%s: product %s is deactivated", a->site, a->product);
    else if (strncmp(err, "DEACTIVATED ", 12) == 0)
        te_ctl_complain("%s is deactivated", a->site);
    else if (strncmp(err, "BADRECORD ", 10) == 0)
        te_ctl_complain("malformed record for %s: %s", a->site, rest);
    else
        te_ctl_complain("redis: %s", err);
}

/* Runs the script for <op>. Returns its reply, {id, version} or {id,
 * raw record}, or the script's refusal as an error reply, for the caller
 * to judge; NULL (said why) when Redis failed or answered nonsense. */
static redisReply *run_script(redisContext *c, const char *op,
                              const struct args *a, const char *id)
{
    const char *argv[11 + 2 * TE_TCS_MAX_PRODUCTS];
    size_t lens[11 + 2 * TE_TCS_MAX_PRODUCTS];
    char sitekey[SITE_KEY_MAX];
    int n = 0;
    redisReply *r;

    snprintf(sitekey, sizeof(sitekey), "%ssite:%s", key_prefix, a->site);
    argv[n++] = "EVAL";
    argv[n++] = te_ctl_script;
    argv[n++] = "1";
    argv[n++] = sitekey;
    argv[n++] = key_prefix;
    argv[n++] = op;
    argv[n++] = a->site;
    argv[n++] = a->product ? a->product : "";
    argv[n++] = a->seats ? a->seats : "";
    argv[n++] = id ? id : "";
    argv[n++] = a->region ? a->region : "";
    for (int i = 0; i < n; i++)
        lens[i] = strlen(argv[i]);
    for (unsigned i = 0; i < a->nproducts; i++) {
        argv[n] = a->products[i].name;
        lens[n++] = a->products[i].name_len;
        argv[n] = a->products[i].shard;
        lens[n++] = strlen(a->products[i].shard);
    }

    r = call(c, n, argv, lens);
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        return r;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING) {
        te_ctl_complain("redis: unexpected reply to the script");
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* "t-" and 8 random hex digits. */
static int new_id(char *out, size_t outlen)
{
    uint32_t x;

    if (getrandom(&x, sizeof(x), 0) != (ssize_t)sizeof(x)) {
        te_ctl_complain("cannot generate an id: %s", strerror(errno));
        return -1;
    }
    snprintf(out, outlen, "t-%08x", (unsigned)x);
    return 0;
}

/* Every write command. An id tenantctl generated that is already taken
 * is replaced and tried again, a few times; one the operator gave is
 * not. */
static int cmd_write(redisContext *c, const struct command *cmd,
                     const struct args *a)
{
    int generate = strcmp(cmd->name, "create") == 0 && a->id == NULL;
    char id[TE_TCS_ID_MAX + 1];
    redisReply *r = NULL;

    for (int tries = 0; tries < MAX_ID_TRIES; tries++) {
        if (generate && new_id(id, sizeof(id)) < 0)
            return EXIT_REFUSED;
        r = run_script(c, cmd->name, a, generate ? id : a->id);
        if (r == NULL)
            return EXIT_REFUSED;
        if (r->type != REDIS_REPLY_ERROR)
            break;
        if (!generate || strncmp(r->str, "IDEXISTS ", 9) != 0 ||
            tries + 1 == MAX_ID_TRIES) {
            explain_refusal(a, r->str);
            freeReplyObject(r);
            return EXIT_REFUSED;
        }
        freeReplyObject(r);
    }

    printf("%s %s", cmd->verb, a->site);
    if (a->product)
        printf(" product %s", a->product);
    if (a->seats)
        printf(" seats %s", a->seats);
    printf(" (%s) version %lld\n", r->element[0]->str,
           r->element[1]->type == REDIS_REPLY_INTEGER ? r->element[1]->integer
                                                      : -1LL);
    freeReplyObject(r);
    return EXIT_SUCCESS;
}

/*
 * The edge refuses a record that names another site or tenant than the
 * keys that led to it (tcs.c: "record names another tenant or site",
 * answered with 503), whatever its status says. NULL when <ctx> belongs
 * to <site> and <id>, else why not, in <buf>.
 */
static const char *record_mismatch(const te_tcs_context *ctx, const char *site,
                                   const char *id, char *buf, size_t buflen)
{
    if (strcmp(ctx->site, site) == 0 && strcmp(ctx->id, id) == 0)
        return NULL;
    snprintf(buf, buflen,
             "%ssite:%s points at %stenant:%s, a record of site %s tenant "
             "%s; the edge answers 503",
             key_prefix, site, key_prefix, id, ctx->site, ctx->id);
    return buf;
}

/* Prints the record as stored, indented; warns and fails when the edge
 * would refuse it, which is what an operator asking usually wants to
 * know. */
static int cmd_show(redisContext *c, const struct args *a)
{
    redisReply *r = run_script(c, "show", a, NULL);
    const redisReply *raw;
    te_tcs_context *ctx;
    char err[256], why[512];
    json_t *root;
    int rc = EXIT_SUCCESS;

    if (r == NULL)
        return EXIT_REFUSED;
    if (r->type == REDIS_REPLY_ERROR) {
        explain_refusal(a, r->str);
        freeReplyObject(r);
        return EXIT_REFUSED;
    }

    raw = r->element[1];
    root = json_loadb(raw->str, raw->len, 0, NULL);
    if (root != NULL) {
        char *text = json_dumps(root, JSON_INDENT(2));

        if (text != NULL)
            puts(text);
        free(text);
        json_decref(root);
    } else {
        fwrite(raw->str, 1, raw->len, stdout);
        putchar('\n');
    }

    ctx = te_tcs_context_parse(raw->str, raw->len, err, sizeof(err));
    if (ctx == NULL) {
        te_ctl_complain("the edge would refuse the record of %s: %s", a->site,
                        err);
        rc = EXIT_REFUSED;
    } else if (record_mismatch(ctx, a->site, r->element[0]->str, why,
                               sizeof(why)) != NULL) {
        te_ctl_complain("the edge would refuse the record of %s: %s", a->site,
                        why);
        rc = EXIT_REFUSED;
    }
    te_tcs_context_free(ctx);
    freeReplyObject(r);
    return rc;
}

/* The lines of list, grown as sites come. */
struct lines {
    char **v;
    size_t n, cap;
};

static int lines_add(struct lines *l, const char *text)
{
    char *copy;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **v;

        if (cap < l->cap || cap > SIZE_MAX / sizeof(*v))
            return -1;
        v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    copy = strdup(text);
    if (copy == NULL)
        return -1;
    l->v[l->n++] = copy;
    return 0;
}

static int by_text(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int by_product_name(const void *x, const void *y)
{
    const te_tcs_product *const *p = x, *const *q = y;

    return strcmp((*p)->name, (*q)->name);
}

/* "site id status region name:shard:status,..." for one record; the
 * status is "missing" or "invalid" when the edge would find no usable
 * record, with a warning on stderr when it belongs to another site or
 * tenant. */
static void format_line(char *out, size_t outlen, const char *site,
                        const char *id, const redisReply *rec)
{
    const te_tcs_product *sorted[TE_TCS_MAX_PRODUCTS];
    te_tcs_context *ctx = NULL;
    char why[512];
    size_t n;

    if (rec != NULL && rec->type == REDIS_REPLY_STRING)
        ctx = te_tcs_context_parse(rec->str, rec->len, NULL, 0);
    if (ctx != NULL &&
        record_mismatch(ctx, site, id, why, sizeof(why)) != NULL) {
        te_ctl_complain("warning: %s is invalid: %s", site, why);
        te_tcs_context_free(ctx);
        snprintf(out, outlen, "%s %s invalid - -", site, id);
        return;
    }
    if (ctx == NULL) {
        snprintf(out, outlen, "%s %s %s - -", site, id,
                 rec != NULL && rec->type == REDIS_REPLY_STRING ? "invalid"
                                                                : "missing");
        return;
    }

    n = (size_t)snprintf(out, outlen, "%s %s %s %s ", site, id,
                         te_tcs_status_name(ctx->status), ctx->region);
    for (unsigned i = 0; i < ctx->nproducts; i++)
        sorted[i] = &ctx->products[i];
    qsort(sorted, ctx->nproducts, sizeof(*sorted), by_product_name);
    for (unsigned i = 0; i < ctx->nproducts && n < outlen; i++)
        n += (size_t)snprintf(out + n, outlen - n, "%s%s:%s:%s", i ? "," : "",
                              sorted[i]->name, sorted[i]->shard,
                              te_tcs_status_name(sorted[i]->status));
    if (ctx->nproducts == 0 && n < outlen)
        snprintf(out + n, outlen - n, "-");
    te_tcs_context_free(ctx);
}

/* One SCAN batch of site keys: their ids, then their records, two MGETs,
 * one line each. */
static int list_batch(redisContext *c, const redisReply *keys,
                      struct lines *out)
{
    size_t nk = keys->elements, skip = strlen(key_prefix) + strlen("site:");
    const char **argv = calloc(nk + 1, sizeof(*argv));
    char(*tkeys)[TENANT_KEY_MAX] = calloc(nk + 1, sizeof(*tkeys));
    redisReply *ids = NULL, *recs = NULL;
    char line[16384];
    int rc = -1;

    if (argv == NULL || tkeys == NULL) {
        te_ctl_complain("out of memory");
        goto done;
    }

    argv[0] = "MGET";
    for (size_t i = 0; i < nk; i++)
        argv[i + 1] = keys->element[i]->str;
    ids = call(c, (int)nk + 1, argv, NULL);
    if (ids == NULL || ids->type != REDIS_REPLY_ARRAY || ids->elements != nk) {
        te_ctl_complain("redis: unexpected reply to MGET");
        goto done;
    }

    for (size_t i = 0; i < nk; i++) {
        const redisReply *id = ids->element[i];

        if (id->type == REDIS_REPLY_STRING && te_tcs_id_valid(id->str, id->len))
            snprintf(tkeys[i], sizeof(tkeys[i]), "%stenant:%s", key_prefix,
                     id->str);
        else
            snprintf(tkeys[i], sizeof(tkeys[i]), "%stenant:", key_prefix);
        argv[i + 1] = tkeys[i];
    }
    recs = call(c, (int)nk + 1, argv, NULL);
    if (recs == NULL || recs->type != REDIS_REPLY_ARRAY ||
        recs->elements != nk) {
        te_ctl_complain("redis: unexpected reply to MGET");
        goto done;
    }

    for (size_t i = 0; i < nk; i++) {
        const char *site = keys->element[i]->str + skip;
        const redisReply *id = ids->element[i];
        int id_ok =
            id->type == REDIS_REPLY_STRING && te_tcs_id_valid(id->str, id->len);

        if (!te_tcs_site_valid(site, strlen(site))) {
            te_ctl_complain("skipping key %s: not a valid site name",
                            keys->element[i]->str);
            continue;
        }
        if (id_ok)
            format_line(line, sizeof(line), site, id->str, recs->element[i]);
        else
            snprintf(line, sizeof(line), "%s ? invalid - -", site);
        if (lines_add(out, line) < 0) {
            te_ctl_complain("out of memory");
            goto done;
        }
    }
    rc = 0;

done:
    if (ids != NULL)
        freeReplyObject(ids);
    if (recs != NULL)
        freeReplyObject(recs);
    free(argv);
    free(tkeys);
    return rc;
}

/* Prints one line per site, sorted by site. SCAN may return a key twice;
 * the sorted lines make the repeat adjacent, and it is printed once. */
static int cmd_list(redisContext *c)
{
    char cursor[32] = "0", match[SITE_KEY_MAX];
    struct lines out = {NULL, 0, 0};
    redisReply *r = NULL;
    int rc = EXIT_REFUSED, rounds;

    /* The prefix's bytes ([A-Za-z0-9:._-]) are no glob characters. */
    snprintf(match, sizeof(match), "%ssite:*", key_prefix);
    for (rounds = 0; rounds < MAX_SCAN_ROUNDS; rounds++) {
        const char *argv[] = {"SCAN", cursor, "MATCH", match, "COUNT", "500"};

        r = call(c, 6, argv, NULL);
        if (r == NULL)
            goto done;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[0]->len >= sizeof(cursor) ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            te_ctl_complain("redis: unexpected reply to SCAN");
            goto done;
        }
        if (r->element[1]->elements > 0 &&
            list_batch(c, r->element[1], &out) < 0)
            goto done;

        memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
        freeReplyObject(r);
        r = NULL;
        if (strcmp(cursor, "0") == 0)
            break;
    }
    if (rounds == MAX_SCAN_ROUNDS) {
        te_ctl_complain("SCAN did not finish after %d rounds", MAX_SCAN_ROUNDS);
        goto done;
    }

    if (out.n > 0)
        qsort(out.v, out.n, sizeof(*out.v), by_text);
    for (size_t i = 0; i < out.n; i++) {
        if (i == 0 || strcmp(out.v[i], out.v[i - 1]) != 0)
            puts(out.v[i]);
    }
    rc = EXIT_SUCCESS;

done:
    if (r != NULL)
        freeReplyObject(r);
    for (size_t i = 0; i < out.n; i++)
        free(out.v[i]);
    free(out.v);
    return rc;
}

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

/* -n: a database number, digits only. */
static int db_valid(const char *s)
{
    char *end;
    long n;

    if (s[0] < '0' || s[0] > '9')
        return 0;
    errno = 0;
    n = strtol(s, &end, 10);
    return errno == 0 && *end == '\0' && n <= INT_MAX;
}

/* The global options' syntax, before anything is read or connected:
 * a mistake there is a usage error (exit 2). */
static void check_options(const struct te_ctl_options *o)
{
    char host[256];
    int port;

    if (o->db != NULL && !db_valid(o->db))
        usage_error("-n %s: a database number", o->db);
    if (o->addr != NULL &&
        te_ctl_parse_addr(o->addr, host, sizeof(host), &port) < 0)
        usage_error("-r %s: expected HOST:PORT", o->addr);
    if (o->prefix != NULL && !te_tcs_prefix_valid(o->prefix, strlen(o->prefix)))
        usage_error("-p %s: a prefix is [A-Za-z0-9:._-], 1 to %d bytes",
                    o->prefix, TE_TCS_PREFIX_MAX);
}

int main(int argc, char **argv)
{
    struct te_ctl_options o = {NULL, NULL, NULL, NULL, NULL};
    const struct command *cmd = NULL;
    struct te_ctl_target tg;
    redisContext *c = NULL;
    te_config *cf = NULL;
    int opt, rc = EXIT_REFUSED;
    struct args a;

    signal(SIGPIPE, SIG_IGN);
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return EXIT_SUCCESS;
    }

    opterr = 0;
    while ((opt = getopt(argc, argv, "+c:r:a:n:p:h")) != -1) {
        if (opt == 'c')
            o.conf = optarg;
        else if (opt == 'r')
            o.addr = optarg;
        else if (opt == 'a')
            o.password = optarg;
        else if (opt == 'n')
            o.db = optarg;
        else if (opt == 'p')
            o.prefix = optarg;
        else if (opt == 'h') {
            usage(stdout);
            return EXIT_SUCCESS;
        } else
            usage_error("bad option or missing value: -%c", optopt);
    }
    if (optind >= argc)
        usage_error("no command given");
    check_options(&o);
    if (strcmp(argv[optind], "token") != 0) {
        cmd = find_command(argv[optind]);
        if (cmd == NULL)
            usage_error("unknown command: %s", argv[optind]);
        parse_args(cmd, argc - optind - 1, argv + optind + 1, &a);
    }

    if (o.conf != NULL && (cf = te_ctl_conf_load(o.conf)) == NULL)
        return EXIT_REFUSED;
    if (te_ctl_target_init(&tg, cf, &o) < 0)
        goto done;
    key_prefix = tg.prefix;

    if (cmd == NULL) {
        rc = te_ctl_token(argc - optind - 1, argv + optind + 1, cf, &tg);
        goto done;
    }
    if (!tg.store_redis) {
        te_ctl_complain("%s: the edge reads its tenants from \"store %s\", "
                        "not from Redis: nothing written there would reach "
                        "it",
                        o.conf, tg.store);
        goto done;
    }
    c = te_ctl_connect(&tg);
    if (c == NULL)
        goto done;

    if (strcmp(cmd->name, "list") == 0)
        rc = cmd_list(c);
    else if (strcmp(cmd->name, "show") == 0)
        rc = cmd_show(c, &a);
    else
        rc = cmd_write(c, cmd, &a);

done:
    if (c != NULL)
        redisFree(c);
    te_config_unref(cf);
    return rc;
}
