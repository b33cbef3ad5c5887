/*
 * tenantedge/tcs.h: the tenant context, as modules and the core read it.
 *
 * The record stored at tcs:tenant:<id> is JSON (see DESIGN.md). Keeping a
 * jansson tree per cached tenant would cost kilobytes each, so a record is
 * validated strictly and converted at once into one immutable block: the
 * struct, its product table, its feature list and every string, in one
 * allocation. Nothing changes a context once it is built; a lifecycle
 * event replaces it with a newly built one.
 *
 * This header is public (module.h includes it): a module reads contexts
 * with what is declared here and never builds one. How records are parsed
 * stays in the core (src/tcs_context.h).
 *
 * The names checked here (site, region, shard, product, feature, tenant
 * id) are the same rules tenantctl applies when it writes a record, so
 * that what the operator can write the edge can read.
 */
#ifndef TENANTEDGE_TCS_H
#define TENANTEDGE_TCS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits on a record; a record over any of them is refused whole. */
#define TE_TCS_MAX_RECORD   65536 /* bytes of JSON */
#define TE_TCS_MAX_PRODUCTS 64
#define TE_TCS_MAX_FEATURES 64
#define TE_TCS_NAME_MAX     63 /* site (a DNS label), region, ... */
#define TE_TCS_ID_MAX       64 /* tenant id */
#define TE_TCS_MAX_SEATS    INT32_MAX

/* seats when the record says null or nothing: no seat limit. */
#define TE_TCS_SEATS_UNLIMITED (-1)

typedef enum te_tcs_status {
    TE_TCS_ACTIVE = 0,
    TE_TCS_SUSPENDED,
    TE_TCS_DEACTIVATED,
    TE_TCS_DESTROYED /* tenant only; a product never is */
} te_tcs_status;

typedef struct te_tcs_product {
    const char *name;     /* "jira" */
    const char *shard;    /* "use-jira-2" */
    te_tcs_status status; /* active, suspended or deactivated */
    int64_t seats;        /* 0..TE_TCS_MAX_SEATS or UNLIMITED */
} te_tcs_product;

/*
 * One tenant's context. Read the fields freely; never write them. The
 * reference count is a plain int because a context never leaves the
 * worker thread that built it: each worker has its own cache and its own
 * Redis connection, so there is nothing to share across threads.
 */
typedef struct te_tcs_context {
    int refs;           /* te_tcs_context_ref / _free only */
    const char *id;     /* "t-4821" */
    const char *site;   /* "acme" */
    const char *region; /* "us-east" */
    const char *shard;  /* the site's default shard, used when no
                           product is configured; NULL when the record
                           has none */
    te_tcs_status status;
    uint64_t version; /* bumped by every write to the record */
    const te_tcs_product *products;
    unsigned nproducts;
    const char *const *features;
    unsigned nfeatures;
} te_tcs_context;

/* Takes one more reference; returns <ctx> for convenience. Only on the
 * worker that owns the context. */
te_tcs_context *te_tcs_context_ref(te_tcs_context *ctx);

/* Drops one reference; the block is freed with the last one. NULL is a
 * no-op. */
void te_tcs_context_free(te_tcs_context *ctx);

/* The product called <name>, or NULL when the tenant has none such. The
 * result lives as long as <ctx>. */
const te_tcs_product *te_tcs_context_product(const te_tcs_context *ctx,
                                             const char *name);

/* 1 when the tenant's feature list holds <name>, else 0. */
int te_tcs_context_has_feature(const te_tcs_context *ctx, const char *name);

/* "active", "suspended", "deactivated", "destroyed". */
const char *te_tcs_status_name(te_tcs_status status);

/* Parses a status name of <len> bytes; -1 when it is none of the four. */
int te_tcs_status_parse(const char *s, size_t len);

/* A site: one lowercase DNS label, [a-z0-9-], 1..63 bytes, no hyphen at
 * either end. Returns 1 when <s> of <len> bytes is one, else 0. */
int te_tcs_site_valid(const char *s, size_t len);

/* A region, shard, product or feature name: [a-z0-9-], 1..63 bytes, not
 * starting with a hyphen (it would read as an option on a command line). */
int te_tcs_name_valid(const char *s, size_t len);

/* A tenant id: [A-Za-z0-9._-], 1..64 bytes, starting with a letter or a
 * digit. It becomes part of a Redis key and of the X-Tenant-Id header, so
 * nothing else is allowed. */
int te_tcs_id_valid(const char *s, size_t len);

#ifdef __cplusplus
}
#endif

#endif
